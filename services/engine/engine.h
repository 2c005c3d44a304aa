// The evaluation engine: timeline -> features -> safety screen -> enabled
// plugins -> contraindication filter -> ranking -> stored evaluation.
//
// EvaluateTimeline is the pure core (no store, no clock): the same timeline,
// as_of, policy and plugin set give the same Evaluation, byte for byte, as
// long as every plugin answers within its deadline. Engine wraps it with the
// store (load timeline and policy, persist the result).
//
// A plugin that fails (error, timeout, malformed response) is reported in
// Evaluation.plugins with its reason; the safety screen and the other
// plugins' advice are still returned.
//
// Thread-safety: Engine and EvaluateTimeline are safe to call concurrently.
#ifndef ACHILLES_SERVICES_ENGINE_ENGINE_H_
#define ACHILLES_SERVICES_ENGINE_ENGINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"
#include "achilles/v1/policy.pb.h"
#include "plugins/host/plugin_host.h"
#include "storage/timeline_store.h"

namespace achilles::engine {

// Version of the built-in engine and safety screen, recorded in every
// evaluation and part of its fingerprint.
inline constexpr char kEngineVersion[] = "achilles-engine/" ACHILLES_VERSION;

// The built-in policy (version 0): the defaults in
// docs/clinical/POLICY_SIGNOFF.md.
achilles::v1::ClinicPolicy DefaultPolicy();
// Fills UNSPECIFIED enum values and zero numbers with the defaults.
void NormalizePolicy(achilles::v1::ClinicPolicy* policy);

struct TimelineInput {
  std::string clinic_id;
  std::string patient_id;
  int64_t as_of_us = 0;
  storage::EventSpan timeline;  // <= as_of.
  const achilles::v1::ClinicPolicy* policy = nullptr;
  // Optional: each event of `timeline` as the store holds it (same order,
  // same length). When set, plugin requests and the fingerprint are built
  // from these bytes instead of serializing the events again.
  const std::vector<absl::string_view>* event_bytes = nullptr;
};

achilles::v1::Evaluation EvaluateTimeline(const TimelineInput& input,
                                          const plugins::PluginSet& plugins,
                                          absl::Duration plugin_timeout);

struct EvaluateOptions {
  std::optional<int64_t> as_of_us;  // Unset = now.
  bool dry_run = false;             // Do not store the result.
  // Replaces the clinic's stored policy (caseload dry runs).
  const achilles::v1::ClinicPolicy* policy_override = nullptr;
  // Read the timeline from this snapshot (caseload runs).
  const storage::Snapshot* snapshot = nullptr;
  // Use this plugin set instead of the host's current one.
  std::shared_ptr<const plugins::PluginSet> plugins;
  // How the stored evaluation reaches the disk (storage::Durability).
  storage::Durability durability = storage::Durability::kSynced;
};

class Engine {
 public:
  Engine(storage::TimelineStore* store, plugins::PluginHost* host)
      : store_(store), host_(host) {}

  // NOT_FOUND for an unknown patient; storage errors pass through.
  absl::StatusOr<achilles::v1::Evaluation> Evaluate(
      const std::string& clinic, const std::string& patient_id,
      const EvaluateOptions& options);

  // The clinic's current policy, or DefaultPolicy() when none is stored.
  // Served from a cache that SetPolicy keeps current: every policy change
  // must go through SetPolicy, never to the store directly.
  absl::StatusOr<achilles::v1::ClinicPolicy> CurrentPolicy(
      const std::string& clinic);

  // Stores `policy` as the clinic's next version (TimelineStore::PutPolicy:
  // version and changed_at are set; FAILED_PRECONDITION when
  // `expected_version` >= 0 is not the current version) and makes every
  // later CurrentPolicy see it.
  absl::Status SetPolicy(const std::string& clinic,
                         achilles::v1::ClinicPolicy& policy,
                         int64_t expected_version);

  storage::TimelineStore* store() { return store_; }
  plugins::PluginHost* host() { return host_; }

 private:
  // Clinics whose policy is cached at most; more clears the cache (a server
  // serves a handful of clinics; this only bounds memory).
  static constexpr size_t kMaxCachedPolicies = 4096;

  storage::TimelineStore* store_;
  plugins::PluginHost* host_;
  absl::Mutex policy_mu_;
  absl::flat_hash_map<std::string,
                      std::shared_ptr<const achilles::v1::ClinicPolicy>>
      policies_ ABSL_GUARDED_BY(policy_mu_);
  // Bumped by every SetPolicy: a read that started before a change does
  // not put its older answer into the cache.
  uint64_t policy_generation_ ABSL_GUARDED_BY(policy_mu_) = 0;
};

}  // namespace achilles::engine

#endif  // ACHILLES_SERVICES_ENGINE_ENGINE_H_
