// Reading the features the engine hands every plugin: what the safety
// screen's red flags mean for a plugin's own advice, so no plugin re-derives
// it from rule ids. (Event ids behind a feature: Ids() in recommend.h.)
//
//   switch (achilles::sdk::RedFlags(request.features())) {
//     case achilles::sdk::RedFlagVerdict::kClear: ...     // Advise as usual.
//     case achilles::sdk::RedFlagVerdict::kStepBack: ...  // One step down.
//     default: return Result::Ok();  // The safety screen's advice stands.
//   }
//
// The screen records a flag in Features.red_flags only when it fired with
// WARNING or CRITICAL severity (RF-11, a caution about a treatment, never),
// so red_flags is empty exactly when worst_red_flag is below WARNING
// (docs/clinical/RULES.md has every RF rule).
//
// Header-only; depends only on the generated achilles_model_proto messages.
#ifndef ACHILLES_FEATURES_H_
#define ACHILLES_FEATURES_H_

#include <string>

#include "achilles/v1/evaluation.pb.h"

namespace achilles::sdk {

// Whether the safety screen fired rule `id` ("RF-4") for this patient.
inline bool RedFlagFired(const achilles::v1::Features& f,
                         const std::string& id) {
  for (const auto& flag : f.red_flags()) {
    if (flag == id) return true;
  }
  return false;
}

// RF-7 (pain or stiffness rising week on week) and RF-8 (a bad 24 h
// response) ask loading to step back, not to stop.
inline bool IsStepBackFlag(const std::string& id) {
  return id == "RF-7" || id == "RF-8";
}

// RF-7 or RF-8 fired.
inline bool AnyStepBackFlag(const achilles::v1::Features& f) {
  return RedFlagFired(f, "RF-7") || RedFlagFired(f, "RF-8");
}

// Every flag that fired is a step-back flag (true when none fired).
inline bool OnlyStepBackFlags(const achilles::v1::Features& f) {
  for (const auto& flag : f.red_flags()) {
    if (!IsStepBackFlag(flag)) return false;
  }
  return true;
}

// What the red flags leave to a plugin, most permissive first.
enum class RedFlagVerdict {
  kClear,     // No flag fired.
  kStepBack,  // Only RF-7 and/or RF-8: loading continues one step lower.
  kHold,      // Another WARNING flag: no loading advice; the screen's stands.
  kStop,      // A CRITICAL flag: stop all loading.
};

inline RedFlagVerdict RedFlags(const achilles::v1::Features& f) {
  if (f.worst_red_flag() >= achilles::v1::SEVERITY_CRITICAL) {
    return RedFlagVerdict::kStop;
  }
  if (f.worst_red_flag() < achilles::v1::SEVERITY_WARNING) {
    return RedFlagVerdict::kClear;
  }
  return OnlyStepBackFlags(f) ? RedFlagVerdict::kStepBack
                              : RedFlagVerdict::kHold;
}

}  // namespace achilles::sdk

#endif  // ACHILLES_FEATURES_H_
