// Early return on a non-OK absl::Status or absl::StatusOr, the house way of
// passing errors up (errors cross module boundaries as Status, never as
// exceptions). Header-only.
//
//   ACH_RETURN_IF_ERROR(Validate(x));          // returns the Status if bad
//   ACH_ASSIGN_OR_RETURN(auto v, LoadThing()); // v = *LoadThing() or return
#ifndef ACHILLES_COMMON_STATUS_MACROS_H_
#define ACHILLES_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ACH_RETURN_IF_ERROR(expr)              \
  do {                                         \
    const absl::Status ach_status_ = (expr);   \
    if (!ach_status_.ok()) return ach_status_; \
  } while (0)

#define ACH_STATUS_CONCAT_INNER_(a, b) a##b
#define ACH_STATUS_CONCAT_(a, b) ACH_STATUS_CONCAT_INNER_(a, b)

#define ACH_ASSIGN_OR_RETURN(lhs, expr)                                        \
  ACH_ASSIGN_OR_RETURN_IMPL_(ACH_STATUS_CONCAT_(ach_statusor_, __LINE__), lhs, \
                             expr)

#define ACH_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  if (!statusor.ok()) return statusor.status();         \
  lhs = *std::move(statusor)

#endif  // ACHILLES_COMMON_STATUS_MACROS_H_
