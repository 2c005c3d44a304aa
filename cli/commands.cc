#include "cli/commands.h"

#include <algorithm>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace achilles::cli {
namespace {

struct Spec {
  const char* cmd;
  const char* sub;  // "" for commands without one.
  int args;         // Positional arguments after cmd (and sub).
  std::vector<const char*> flags;
  const char* synopsis;
  int optional_args = 0;  // Further positional arguments it may take.
};

const std::vector<const char*>& GlobalFlags() {
  static const auto* flags = new std::vector<const char*>{
      "server",      "clinic",        "timeout_s",    "token", "token_file",
      "tls_ca_file", "tls_cert_file", "tls_key_file", "json"};
  return *flags;
}

const std::vector<Spec>& Specs() {
  static const auto* specs = new std::vector<Spec>{
      {"patient",
       "upsert",
       1,
       {"name", "birth_year"},
       "patient upsert ID [--name=N] [--birth_year=Y]"},
      {"patient", "get", 1, {}, "patient get ID"},
      {"patient",
       "delete",
       1,
       {},
       "patient delete ID  (erases all their data)"},
      {"patient", "list", 0, {}, "patient list"},
      {"events", "append", 2, {}, "events append ID FILE.json"},
      {"events",
       "add",
       1,
       {"id", "at", "activity", "during", "after", "next_morning", "note"},
       "events add ID --id=EV [--at=TIME] (--during=N [--after=N] "
       "[--next_morning=N] [--activity=running] | --note=TEXT)"},
      {"events",
       "list",
       1,
       {"from", "to"},
       "events list ID [--from=TIME] [--to=TIME]"},
      {"evaluate",
       "",
       1,
       {"as_of", "dry_run"},
       "evaluate ID [--as_of=TIME] [--dry_run]"},
      {"evaluation", "get", 2, {}, "evaluation get ID EVALUATION_ID"},
      {"feedback",
       "",
       4,
       {"clinician", "reason"},
       "feedback ID EVALUATION_ID RECOMMENDATION_ID accept|override "
       "--clinician=NAME [--reason=TEXT]"},
      {"plugins", "list", 0, {}, "plugins list"},
      {"plugins", "reload", 0, {}, "plugins reload"},
      {"plugins", "enable", 1, {}, "plugins enable PLUGIN"},
      {"plugins", "disable", 1, {}, "plugins disable PLUGIN"},
      {"policy", "get", 0, {"version"}, "policy get [--version=N]"},
      {"policy",
       "set",
       0,
       {"file", "pain_model", "max_ok", "strictly_below", "reason",
        "changed_by", "clinician"},
       "policy set (--file=POLICY.json | --pain_model=M [--max_ok=N] "
       "[--strictly_below]) [--reason=TEXT] [--changed_by=WHO]"},
      {"backup", "create", 0, {"keep"}, "backup create [--keep=N]"},
      {"backup", "list", 0, {"backup_dir"}, "backup list --backup_dir=D"},
      {"backup",
       "verify",
       0,
       {"backup_dir", "backup_id"},
       "backup verify --backup_dir=D [--backup_id=N]"},
      {"backup",
       "restore",
       0,
       {"backup_dir", "data_dir", "backup_id"},
       "backup restore --backup_dir=D --data_dir=NEW [--backup_id=N]"},
      {"backup", "", 1, {}, "backup NAME  (a named checkpoint)"},
      {"token",
       "issue",
       0,
       {"subject", "roles", "valid_days", "bound_cert_cn"},
       "token issue --subject=WHO (--clinic=ID --roles=... | "
       "--roles=operator) [--valid_days=N] [--bound_cert_cn=CN]"},
      {"token", "list", 0, {}, "token list"},
      {"token", "revoke", 1, {}, "token revoke CREDENTIAL_ID"},
      {"audit",
       "list",
       0,
       {"from_seq", "limit", "patient"},
       "audit list [--from_seq=N] [--limit=N] [--patient=ID --clinic=ID]"},
      {"audit", "export", 1, {}, "audit export FILE.jsonl"},
      {"audit", "verify", 0, {}, "audit verify"},
      {"caseload",
       "reevaluate",
       0,
       {"dry_run", "pain_model", "max_ok", "strictly_below", "patients",
        "since", "plugin", "as_of", "resume"},
       "caseload reevaluate [--dry_run [--pain_model=M [--max_ok=N] "
       "[--strictly_below]]] [--patients=a,b | --since=TIME | --plugin=ID] "
       "[--as_of=TIME] [--resume=RUN_ID]"},
      {"caseload",
       "worklist",
       0,
       {"page_size", "page_token"},
       "caseload worklist [--page_size=50] [--page_token=T]"},
      {"caseload",
       "seed-demo",
       0,
       {"count", "events_per_patient", "seed"},
       "caseload seed-demo [--count=1000] [--events_per_patient=30]"},
      {"caseload",
       "fanout",
       1,
       {"dry_run", "fanout_parallel"},
       "caseload fanout CHAIN_FILE [--dry_run] [--fanout_parallel=4]"},
      {"health", "", 0, {}, "health [SERVICE]", 1},
  };
  return *specs;
}

bool Has(const std::vector<const char*>& list, const std::string& name) {
  return std::any_of(list.begin(), list.end(),
                     [&](const char* f) { return name == f; });
}

// The specs `args` may mean: the exact one when the subcommand matches,
// else every spec of the command (for help and error messages).
std::vector<const Spec*> Matching(const std::vector<std::string>& args,
                                  bool* exact) {
  std::vector<const Spec*> out;
  *exact = false;
  if (args.empty()) return out;
  const std::string sub = args.size() > 1 ? args[1] : "";
  for (const Spec& s : Specs()) {
    if (args[0] != s.cmd) continue;
    if (*s.sub == '\0' || sub == s.sub) {
      *exact = true;
      return {&s};
    }
    out.push_back(&s);
  }
  return out;
}

std::string Synopses(const std::vector<const Spec*>& specs) {
  std::vector<std::string> lines;
  for (const Spec* s : specs) lines.push_back(absl::StrCat("  ", s->synopsis));
  return absl::StrJoin(lines, "\n");
}

}  // namespace

std::vector<std::string> FlagNamesInArgs(int argc, char** argv) {
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-') continue;
    a = a.substr(a[1] == '-' ? 2 : 1);
    a = a.substr(0, a.find('='));
    // --noFLAG sets a boolean flag false.
    if (a.rfind("no", 0) == 0 && absl::FindCommandLineFlag(a) == nullptr &&
        absl::FindCommandLineFlag(a.substr(2)) != nullptr) {
      a = a.substr(2);
    }
    names.push_back(a);
  }
  return names;
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    if (a == "-h" || a.rfind("--help", 0) == 0 || a.rfind("-help", 0) == 0) {
      return true;
    }
  }
  return false;
}

absl::Status CheckCommand(const std::vector<std::string>& args,
                          const std::vector<std::string>& flags) {
  bool exact = false;
  const std::vector<const Spec*> specs = Matching(args, &exact);
  if (specs.empty()) {
    return absl::NotFoundError(
        absl::StrCat("unknown command '", args.empty() ? "" : args[0], "'"));
  }
  if (!exact) {
    return absl::InvalidArgumentError(absl::StrCat(
        args[0], ": ",
        args.size() > 1 ? absl::StrCat("unknown subcommand '", args[1], "'")
                        : std::string("which one?"),
        "; one of:\n", Synopses(specs)));
  }
  const Spec& s = *specs.front();
  const size_t words = 1 + (*s.sub == '\0' ? 0 : 1);
  const size_t given = args.size() - words;
  const size_t most = static_cast<size_t>(s.args + s.optional_args);
  if (given < static_cast<size_t>(s.args) || given > most) {
    return absl::InvalidArgumentError(absl::StrCat(
        s.cmd, *s.sub == '\0' ? "" : " ", s.sub, ": takes ", s.args,
        s.optional_args > 0 ? absl::StrCat("-", most) : "",
        " argument(s), got ", given,
        given > most ? absl::StrCat(" (unexpected '", args[words + most], "')")
                     : "",
        "\nusage: achillesctl ", s.synopsis));
  }
  for (const std::string& f : flags) {
    if (Has(GlobalFlags(), f) || Has(s.flags, f)) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "--", f, " does not apply to '", s.cmd, *s.sub == '\0' ? "" : " ",
        s.sub, "'\nusage: achillesctl ", s.synopsis));
  }
  return absl::OkStatus();
}

std::string CommandHelp(const std::vector<std::string>& args) {
  bool exact = false;
  const std::vector<const Spec*> specs = Matching(args, &exact);
  if (specs.empty()) return "";
  std::string out = absl::StrCat("usage:\n", Synopses(specs), "\n");
  if (!exact) return out;
  const Spec& s = *specs.front();
  if (!s.flags.empty()) absl::StrAppend(&out, "\nflags:\n");
  for (const char* f : s.flags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(f);
    absl::StrAppend(&out, "  --", f, "  ", flag == nullptr ? "" : flag->Help(),
                    "\n");
  }
  absl::StrAppend(&out,
                  "\nglobal flags: --server, --token_file, --token, "
                  "--clinic, --json, --timeout_s, --tls_ca_file, "
                  "--tls_cert_file, --tls_key_file (achillesctl --help)\n");
  return out;
}

}  // namespace achilles::cli
