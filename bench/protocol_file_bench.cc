// protocol-file-bench: what a protocol file costs per call next to the C++
// plugin it re-expresses, and how long the instruction budget lets a
// runaway expression spin. Reports figures; never passes or fails.
//
//   protocol-file-bench [CALLS]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "plugins/host/plugin_host.h"
#include "plugins/protocol_file/protocol_file.h"

namespace {

namespace fs = std::filesystem;
namespace v1 = ::achilles::v1;
using achilles::plugins::HostOptions;
using achilles::plugins::PluginHost;

// A reactive tendon with a painful heel raise: both answer with the holds
// card (tests/scenarios/10_reactive_isometrics.json).
std::string Request() {
  v1::PluginRequest r;
  const int64_t now = 1767571200;
  r.mutable_as_of()->set_seconds(now);
  auto* f = r.mutable_features();
  f->set_location(v1::LOCATION_MIDPORTION);
  f->set_stage(v1::STAGE_REACTIVE);
  f->mutable_stage_recorded()->set_present(true);
  f->mutable_single_leg_heel_raise_pain()->set_present(true);
  f->mutable_single_leg_heel_raise_pain()->set_value(6);
  f->mutable_single_leg_heel_raise_pain()->mutable_at()->set_seconds(now);
  f->mutable_recency()->set_window_days(14);
  return r.SerializeAsString();
}

// Mean microseconds per call of `plugin_file` loaded in process.
double MicrosPerCall(const std::string& plugin_file, int calls) {
  const fs::path dir = fs::temp_directory_path() /
                       ("protocol-bench-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(plugin_file, dir / fs::path(plugin_file).filename());
  HostOptions options;
  options.plugin_dir = dir.string();
  auto host = PluginHost::Create(options);
  fs::remove_all(dir);
  if (!host.ok() || (*host)->Current()->plugins.size() != 1) {
    std::fprintf(stderr, "cannot load %s\n", plugin_file.c_str());
    std::exit(2);
  }
  const auto& plugin = *(*host)->Current()->plugins[0];
  const std::string request = Request();
  for (int i = 0; i < calls / 10; ++i) {
    (void)plugin.Call(request, absl::Seconds(5));
  }
  const absl::Time start = absl::Now();
  for (int i = 0; i < calls; ++i) {
    auto answer = plugin.Call(request, absl::Seconds(5));
    if (!answer.ok() || answer->candidates_size() != 1) {
      std::fprintf(stderr, "unexpected answer from %s\n", plugin_file.c_str());
      std::exit(2);
    }
  }
  return absl::ToDoubleMicroseconds(absl::Now() - start) / calls;
}

// Milliseconds one Evaluate spends before the budget stops a loop.
double BudgetMillis() {
  std::ifstream in(std::string(EXAMPLES_DIR) + "/visa_a_review.protocol.yaml");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  const std::string from = "min_gain: 10";
  text.replace(text.find(from), from.size(),
               "min_gain: \"(function() while true do end end)()\"");
  auto protocol = achilles::protocol_file::Protocol::Parse(text, "spin");
  if (!protocol.ok()) std::exit(2);
  v1::PluginRequest request;
  const int runs = 10;
  const absl::Time start = absl::Now();
  for (int i = 0; i < runs; ++i) {
    auto answer = (*protocol)->Evaluate(request);
    if (answer.ok() ||
        answer.status().message().find("budget") == absl::string_view::npos) {
      std::fprintf(stderr, "the loop was not stopped by the budget\n");
      std::exit(2);
    }
  }
  return absl::ToDoubleMilliseconds(absl::Now() - start) / runs;
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 2000;
  const double so =
      MicrosPerCall(std::string(BUNDLED_PLUGIN_DIR) + "/isometric.so", calls);
  const double yaml = MicrosPerCall(
      std::string(EXAMPLES_DIR) + "/isometric.protocol.yaml", calls);
  std::printf("isometric.so, in process:            %8.1f us/call\n", so);
  std::printf("isometric.protocol.yaml, in process: %8.1f us/call (%.1fx)\n",
              yaml, yaml / so);
  std::printf("runaway loop stopped by the budget:  %8.1f ms/call\n",
              BudgetMillis());
  return 0;
}
