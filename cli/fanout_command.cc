#include "cli/fanout_command.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "achilles/v1/caseload_service.grpc.pb.h"
#include "cli/connection.h"
#include "cli/format.h"

ABSL_FLAG(int, fanout_parallel, 4,
          "caseload fanout: clinics re-evaluated at once (1-64)");
ABSL_DECLARE_FLAG(bool, dry_run);

namespace achilles::cli {
namespace {

struct ChainEntry {
  int line = 0;
  std::string clinic, server, token_file;
};

struct ClinicResult {
  grpc::Status status;
  std::string run_id;
  v1::RunSummary summary;
};

absl::StatusOr<ChainEntry> ParseLine(const std::string& path, int number,
                                     absl::string_view text) {
  std::vector<std::string> fields =
      absl::StrSplit(text, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (fields.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", number, ": want \"CLINIC SERVER TOKEN_FILE\", found ",
        fields.size(), " field(s)"));
  }
  return ChainEntry{number, fields[0], fields[1], fields[2]};
}

absl::StatusOr<std::vector<ChainEntry>> ReadChain(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError("cannot read " + path);
  std::vector<ChainEntry> entries;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    absl::string_view text = absl::StripAsciiWhitespace(
        absl::string_view(line).substr(0, line.find('#')));
    if (text.empty()) continue;
    auto entry = ParseLine(path, number, text);
    if (!entry.ok()) return entry.status();
    entries.push_back(*std::move(entry));
  }
  if (entries.empty()) {
    return absl::InvalidArgumentError(path + ": no clinics listed");
  }
  return entries;
}

grpc::Status FailedBeforeCall(const std::string& why) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why);
}

// One clinic's run, read to its end; only the summary and the run id are
// kept (the deltas stay on the server, in the clinic's worklist).
ClinicResult RunOne(const ChainEntry& entry, bool dry_run) {
  ClinicResult result;
  std::ifstream token_in(entry.token_file);
  if (!token_in) {
    result.status = FailedBeforeCall("cannot read " + entry.token_file);
    return result;
  }
  const std::string token(std::istreambuf_iterator<char>(token_in), {});
  auto channel = MakeChannelTo(entry.server);
  if (!channel.ok()) {
    result.status = FailedBeforeCall(std::string(channel.status().message()));
    return result;
  }
  auto stub = v1::CaseloadService::NewStub(*channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization",
                  "Bearer " + std::string(absl::StripAsciiWhitespace(token)));
  ctx.AddMetadata("x-clinic-id", entry.clinic);
  v1::ReEvaluateRequest req;
  req.set_dry_run(dry_run);
  auto reader = stub->ReEvaluate(&ctx, req);
  v1::ReEvaluateEvent event;
  while (reader->Read(&event)) {
    result.run_id = event.run_id();
    if (event.has_summary()) result.summary = event.summary();
  }
  result.status = reader->Finish();
  return result;
}

std::vector<ClinicResult> RunAll(const std::vector<ChainEntry>& entries,
                                 int parallel, bool dry_run) {
  std::vector<ClinicResult> results(entries.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < entries.size(); i = next++) {
      results[i] = RunOne(entries[i], dry_run);
    }
  };
  std::vector<std::thread> threads;
  const size_t n = std::min<size_t>(parallel, entries.size());
  for (size_t t = 0; t < n; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  return results;
}

void AddTo(v1::RunSummary* total, const v1::RunSummary& s) {
  total->set_total(total->total() + s.total());
  total->set_escalated(total->escalated() + s.escalated());
  total->set_deescalated(total->deescalated() + s.deescalated());
  total->set_changed(total->changed() + s.changed());
  total->set_new_count(total->new_count() + s.new_count());
  total->set_unchanged(total->unchanged() + s.unchanged());
  total->set_failed(total->failed() + s.failed());
}

void PrintRow(const std::string& name, const v1::RunSummary& s) {
  std::printf("%-18s %8lld %9lld %12lld %8lld %6lld %9lld %6lld\n",
              name.c_str(), static_cast<long long>(s.total()),
              static_cast<long long>(s.escalated()),
              static_cast<long long>(s.deescalated()),
              static_cast<long long>(s.changed()),
              static_cast<long long>(s.new_count()),
              static_cast<long long>(s.unchanged()),
              static_cast<long long>(s.failed()));
}

// Prints every clinic's line and the totals; returns how many runs failed.
int Report(const std::vector<ChainEntry>& entries,
           const std::vector<ClinicResult>& results) {
  std::printf("%-18s %8s %9s %12s %8s %6s %9s %6s\n", "clinic", "patients",
              "escalated", "de-escalated", "changed", "new", "unchanged",
              "failed");
  v1::RunSummary total;
  int failed_runs = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const ChainEntry& e = entries[i];
    const ClinicResult& r = results[i];
    if (r.status.ok()) {
      PrintRow(e.clinic, r.summary);
      AddTo(&total, r.summary);
      continue;
    }
    ++failed_runs;
    std::printf("%-18s FAILED %s: %s\n", e.clinic.c_str(),
                CodeName(r.status.error_code()),
                r.status.error_message().c_str());
    if (!r.run_id.empty() && r.run_id != "dry-run") {
      std::printf(
          "%-18s resume with: achillesctl --server=%s --clinic=%s "
          "--token_file=%s caseload reevaluate --resume=%s\n",
          "", e.server.c_str(), e.clinic.c_str(), e.token_file.c_str(),
          r.run_id.c_str());
    }
  }
  PrintRow(absl::StrCat("total (", entries.size() - failed_runs, " of ",
                        entries.size(), ")"),
           total);
  return failed_runs;
}

}  // namespace

int RunFanout(const std::vector<std::string>& args) {
  if (args.size() != 3) {
    std::fprintf(stderr, "usage: achillesctl caseload fanout CHAIN_FILE\n");
    return 2;
  }
  const int parallel = absl::GetFlag(FLAGS_fanout_parallel);
  if (parallel < 1 || parallel > 64) {
    std::fprintf(stderr, "--fanout_parallel: must be 1-64\n");
    return 2;
  }
  auto entries = ReadChain(args[2]);
  if (!entries.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(entries.status().message()).c_str());
    return 2;
  }
  auto results = RunAll(*entries, parallel, absl::GetFlag(FLAGS_dry_run));
  return Report(*entries, results) == 0 ? 0 : 1;
}

}  // namespace achilles::cli
