// make_fuzz_seeds CORPUS_DIR SCENARIO.json...: writes the seed corpora of
// the fuzz targets (fuzz/README.md) from scenario files, plus hand-made
// frames for the worker protocol. Deterministic: the same scenarios give the
// same files, so the committed corpus only changes when the scenarios do.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "achilles/internal/worker.pb.h"
#include "achilles/v1/admin_service.pb.h"
#include "achilles/v1/patient_service.pb.h"
#include "achilles/v1/plugin.pb.h"
#include "fuzz/fuzz_common.h"
#include "plugins/harness/scenario.h"
#include "plugins/host/plugin_host.h"
#include "services/engine/engine.h"

namespace achilles::fuzz {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Frame(const std::string& payload) {
  const uint32_t n = static_cast<uint32_t>(payload.size());
  std::string out = {
      static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
      static_cast<char>((n >> 16) & 0xff), static_cast<char>(n >> 24)};
  return out + payload;
}

std::string Hello() {
  achilles::internal::WorkerHello hello;
  hello.set_ok(true);
  hello.set_plugin_id("fuzz");
  hello.set_version("1.0.0");
  hello.set_abi_version("1.0.0");
  hello.add_protocols("return_to_run");
  return Frame(hello.SerializeAsString());
}

// The engine's own advice for a scenario, recast as a plugin's answer: a
// realistic PluginResponse with rationales, observations and sources.
std::string ReplyFrom(const v1::Evaluation& ev) {
  v1::PluginResponse response;
  for (const auto& r : ev.recommendations()) {
    if (r.category() == v1::CATEGORY_SAFETY ||
        r.severity() == v1::SEVERITY_CRITICAL) {
      continue;
    }
    *response.add_candidates() = r;
  }
  achilles::internal::WorkerReply reply;
  reply.set_rc(0);
  reply.set_response(response.SerializeAsString());
  return Frame(reply.SerializeAsString());
}

void HandMadeFrames(const fs::path& dir) {
  Write(dir / "empty", "");
  Write(dir / "short_header", std::string("\x03\x00", 2));
  Write(dir / "oversized_length", std::string("\xff\xff\xff\xff", 4));
  Write(dir / "length_past_end", std::string("\x10\x00\x00\x00"
                                             "abc",
                                             7));
  achilles::internal::WorkerHello refused;
  refused.set_reason("dlopen failed: no such file");
  Write(dir / "hello_refused", Frame(refused.SerializeAsString()));
  Write(dir / "hello_only", Hello());
  achilles::internal::WorkerReply error_reply;
  error_reply.set_rc(2);
  error_reply.set_error("plugin failed");
  Write(dir / "hello_error_reply",
        Hello() + Frame(error_reply.SerializeAsString()));
  achilles::internal::WorkerReply garbage;
  garbage.set_response("\x0a\xff\xff\xff\xff\x0f");
  Write(dir / "hello_garbage_response",
        Hello() + Frame(garbage.SerializeAsString()));
}

int Run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: make_fuzz_seeds CORPUS_DIR SCENARIO.json...\n");
    return 2;
  }
  const fs::path corpus = argv[1];
  HandMadeFrames(corpus / "frame");
  const char* ids[] = {"default", "clinic-a.1", "bad id", "\xc3\x28"};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; ++i) {
    Write(corpus / "request_validation" / absl::StrCat("id_", i),
          std::string("\x03", 1) + ids[i]);
  }
  v1::UpsertPatientRequest patient;
  patient.mutable_patient()->set_patient_id("anna");
  patient.mutable_patient()->set_display_name("Anna K");
  patient.mutable_patient()->set_birth_year(1980);
  Write(corpus / "request_validation" / "upsert_patient",
        std::string("\x01", 1) + patient.SerializeAsString());

  for (int i = 2; i < argc; ++i) {
    const fs::path file = argv[i];
    const std::string stem = file.stem().string();
    auto scenario = harness::LoadScenario(file.string());
    if (!scenario.ok()) {
      std::fprintf(stderr, "%s\n",
                   std::string(scenario.status().message()).c_str());
      return 1;
    }
    Write(corpus / "engine" / (stem + ".bin"), scenario->SerializeAsString());
    fs::create_directories(corpus / "scenario_json");
    fs::copy_file(file, corpus / "scenario_json" / file.filename(),
                  fs::copy_options::overwrite_existing);

    auto events = harness::MaterializeEvents(*scenario);
    auto as_of = harness::AsOfMicros(*scenario);
    if (!events.ok() || !as_of.ok()) continue;
    v1::AppendEventsRequest append;
    append.set_patient_id("p");
    for (const auto& e : *events) *append.add_events() = e;
    Write(corpus / "request_validation" / ("append_" + stem),
          std::string("\x00", 1) + append.SerializeAsString());
    if (scenario->has_policy()) {
      v1::SetPolicyRequest policy;
      *policy.mutable_policy() = scenario->policy();
      Write(corpus / "request_validation" / ("policy_" + stem),
            std::string("\x02", 1) + policy.SerializeAsString());
    }
    auto timeline = harness::ServerTimeline(*events, *as_of, kNowMicros);
    if (!timeline.ok()) continue;
    v1::ClinicPolicy p = scenario->policy();
    engine::NormalizePolicy(&p);
    const plugins::PluginSet none;
    const engine::TimelineInput input{"c", "p", *as_of, &*timeline, &p};
    const v1::Evaluation ev =
        engine::EvaluateTimeline(input, none, absl::Seconds(1));
    Write(corpus / "frame" / ("reply_" + stem), Hello() + ReplyFrom(ev));
  }
  return 0;
}

}  // namespace
}  // namespace achilles::fuzz

int main(int argc, char** argv) { return achilles::fuzz::Run(argc, argv); }
