// Typing a protocol expression against the request's schema at load: every
// `features.a.b` and `policy.a` chain must name fields (or oneofs) of
// achilles.v1.Features and ClinicPolicy, and may only continue past a
// field that is a message. Names reached through other variables or
// brackets are checked when they run (proto_view.h). Internal to
// plugins/protocol_file.
#ifndef ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_EXPR_CHECK_H_
#define ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_EXPR_CHECK_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "plugins/protocol_file/internal/model.h"

namespace achilles::protocol_file_internal {

// INVALID_ARGUMENT "FILE:LINE:COLUMN: <where>: ..." at the first name that
// is not a field.
absl::Status CheckNames(const Expr& e, const std::string& file_name);

// Resolves a dotted path of fields from achilles.v1.Features that must end
// at an achilles.v1.Feature ("isometric_sessions",
// "recency.last_run_age_days"). INVALID_ARGUMENT with the reason.
absl::StatusOr<std::vector<const google::protobuf::FieldDescriptor*>>
ResolveFeaturePath(const std::string& path);

}  // namespace achilles::protocol_file_internal

#endif  // ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_EXPR_CHECK_H_
