// achilles-plugin-test: runs scenario files against plugin .so files and
// protocol files (NAME.protocol.yaml) with no server: the same event
// validation, timeline order, feature derivation, safety screen,
// contraindication filter and ranking the server uses, with only the
// plugins named here loaded.
//
//   achilles-plugin-test --plugin=build/my_plugin.so scenarios/*.json
//   achilles-plugin-test --plugin=my_clinic.protocol.yaml scenarios/*.json
//
// Prints one line per scenario, and for a failure what was expected and the
// ranked advice actually produced. Exit status 0 when all pass, 1 otherwise,
// 2 on a usage or load error.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "common/time_util.h"
#include "plugins/harness/scenario.h"
#include "plugins/host/plugin_host.h"
#include "services/engine/engine.h"

ABSL_FLAG(std::string, plugin, "",
          "comma-separated plugin .so or .protocol.yaml files to load "
          "(required)");
ABSL_FLAG(int, timeout_ms, 2000, "per-call deadline");
ABSL_FLAG(bool, verbose, false, "print the ranked advice for passing runs too");

namespace fs = std::filesystem;

namespace {

// The host loads from a directory: a private one holding copies of the
// named plugins, loaded and checked. nullptr (message printed) on failure.
std::unique_ptr<achilles::plugins::PluginHost> LoadPlugins(
    const std::string& plugin_list,
    const achilles::plugins::HostOptions& base) {
  std::error_code ec;
  std::string dir_tmpl = (fs::temp_directory_path() / "ach-harness-XXXXXX");
  if (mkdtemp(dir_tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return nullptr;
  }
  for (absl::string_view p :
       absl::StrSplit(plugin_list, ',', absl::SkipEmpty())) {
    fs::path src{std::string(p)};
    if (!fs::copy_file(src, fs::path(dir_tmpl) / src.filename(),
                       fs::copy_options::overwrite_existing, ec)) {
      std::fprintf(stderr, "cannot read plugin %s: %s\n", src.c_str(),
                   ec.message().c_str());
      fs::remove_all(dir_tmpl, ec);
      return nullptr;
    }
  }
  achilles::plugins::HostOptions options = base;
  options.plugin_dir = dir_tmpl;
  auto host = achilles::plugins::PluginHost::Create(options);
  fs::remove_all(dir_tmpl, ec);
  if (!host.ok()) {
    std::fprintf(stderr, "%s\n", std::string(host.status().message()).c_str());
    return nullptr;
  }
  bool load_error = false;
  for (const auto& rec : (*host)->Current()->records) {
    if (!rec.loaded) {
      std::fprintf(stderr, "plugin %s rejected: %s\n",
                   fs::path(rec.file).filename().c_str(), rec.reason.c_str());
      load_error = true;
    }
  }
  if (load_error) return nullptr;
  return *std::move(host);
}

// Runs one scenario file; prints its PASS/FAIL lines. True when it passed.
bool RunScenario(const std::string& path,
                 const achilles::plugins::PluginSet& set,
                 absl::Duration timeout) {
  namespace harness = achilles::harness;
  auto scenario = harness::LoadScenario(path);
  if (!scenario.ok()) {
    std::printf("FAIL %s\n  %s\n", path.c_str(),
                std::string(scenario.status().message()).c_str());
    return false;
  }
  auto events = harness::MaterializeEvents(*scenario);
  auto as_of = harness::AsOfMicros(*scenario);
  if (!events.ok() || !as_of.ok()) {
    const absl::Status& st = events.ok() ? as_of.status() : events.status();
    std::printf("FAIL %s\n  %s\n", path.c_str(),
                std::string(st.message()).c_str());
    return false;
  }
  const std::string name = scenario->name().empty() ? path : scenario->name();
  // Validated and ordered exactly as the server would store it, so a
  // scenario passes here only if the server accepts it too.
  auto timeline = harness::ServerTimeline(*std::move(events), *as_of,
                                          achilles::NowMicros());
  if (!timeline.ok()) {
    std::printf("FAIL %s (%s)\n  - the server would refuse the events: %s\n",
                name.c_str(), path.c_str(),
                std::string(timeline.status().message()).c_str());
    return false;
  }
  achilles::v1::ClinicPolicy policy = scenario->policy();
  achilles::engine::NormalizePolicy(&policy);
  achilles::engine::TimelineInput input{"harness", "scenario", *as_of,
                                        &*timeline, &policy};
  auto ev = achilles::engine::EvaluateTimeline(input, set, timeout);
  auto fails = harness::CheckExpectations(scenario->expect(), ev);
  if (!fails.empty()) {
    std::printf("FAIL %s (%s)\n", name.c_str(), path.c_str());
    for (const auto& f : fails) std::printf("  - %s\n", f.c_str());
    std::printf("%s", harness::DescribeEvaluation(ev).c_str());
    return false;
  }
  std::printf("PASS %s\n", name.c_str());
  if (absl::GetFlag(FLAGS_verbose)) {
    std::printf("%s", harness::DescribeEvaluation(ev).c_str());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Runs scenario files against plugins without a server.\n"
      "  achilles-plugin-test --plugin=my_plugin.so scenario.json ...\n"
      "  achilles-plugin-test --plugin=my.protocol.yaml scenario.json ...");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  // Rejections are reported below; the host's load lines are noise here.
  achilles::SetLogLevel(achilles::LogLevel::kError);
  const std::string plugin_list = absl::GetFlag(FLAGS_plugin);
  if (plugin_list.empty() || args.size() < 2) {
    std::fprintf(stderr,
                 "usage: achilles-plugin-test --plugin=X.so|X.protocol.yaml "
                 "SCENARIO.json...\n");
    return 2;
  }
  achilles::plugins::HostOptions options;
  options.call_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  auto host = LoadPlugins(plugin_list, options);
  if (host == nullptr) return 2;
  auto set = host->Current();
  int passed = 0, failed = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    if (RunScenario(args[i], *set, options.call_timeout)) {
      ++passed;
    } else {
      ++failed;
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
