# bash completion for achillesctl. Install as
# /usr/share/bash-completion/completions/achillesctl, or source it.
_achillesctl() {
  local cur prev words cword
  cur="${COMP_WORDS[COMP_CWORD]}"
  local global="--server= --token_file= --token= --clinic= --json --timeout_s= --tls_ca_file= --tls_cert_file= --tls_key_file= --help"
  # The command and subcommand typed so far (flags skipped).
  local cmd="" sub="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    if [[ -z "$cmd" ]]; then cmd="$w"; elif [[ -z "$sub" ]]; then sub="$w"; fi
  done
  local words_now=""
  case "$cmd" in
    "") words_now="patient events evaluate evaluation feedback plugins policy backup token audit caseload health" ;;
    backup) [[ -z "$sub" ]] && words_now="create list verify restore"
            [[ "$sub" == create ]] && words_now="--keep="
            [[ "$sub" == list || "$sub" == verify || "$sub" == restore ]] && words_now="--backup_dir= --data_dir= --backup_id=" ;;
    patient) [[ -z "$sub" ]] && words_now="upsert get delete list" ;;
    events) [[ -z "$sub" ]] && words_now="append add list"
            [[ "$sub" == add ]] && words_now="--id= --at= --during= --after= --next_morning= --activity= --note="
            [[ "$sub" == list ]] && words_now="--from= --to=" ;;
    evaluate) words_now="--as_of= --dry_run" ;;
    evaluation) [[ -z "$sub" ]] && words_now="get" ;;
    feedback) words_now="accept override --clinician= --reason=" ;;
    plugins) [[ -z "$sub" ]] && words_now="list reload enable disable" ;;
    policy) [[ -z "$sub" ]] && words_now="get set"
            [[ "$sub" == get ]] && words_now="--version="
            [[ "$sub" == set ]] && words_now="--file= --pain_model= --max_ok= --strictly_below --reason= --changed_by=" ;;
    token) [[ -z "$sub" ]] && words_now="issue list revoke"
           [[ "$sub" == issue ]] && words_now="--subject= --clinic= --roles= --valid_days= --bound_cert_cn=" ;;
    audit) [[ -z "$sub" ]] && words_now="list export verify"
           [[ "$sub" == list ]] && words_now="--from_seq= --limit= --patient= --clinic=" ;;
    caseload) [[ -z "$sub" ]] && words_now="reevaluate worklist seed-demo fanout"
              [[ "$sub" == reevaluate ]] && words_now="--dry_run --pain_model= --max_ok= --strictly_below --patients= --since= --plugin= --as_of= --resume="
              [[ "$sub" == seed-demo ]] && words_now="--count= --events_per_patient= --seed=" ;;
  esac
  if [[ "$cur" == -* ]]; then words_now="$words_now $global"; fi
  COMPREPLY=($(compgen -W "$words_now" -- "$cur"))
  # A flag ending in '=' waits for its value: no space after it.
  if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *= ]]; then
    compopt -o nospace 2>/dev/null
  fi
}
complete -F _achillesctl achillesctl
