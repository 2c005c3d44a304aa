// Human-readable rendering of API responses for achillesctl: plain words a
// clinician can read at the desk, no internal jargon. Pure; thread-safe.
#ifndef ACHILLES_CLI_FORMAT_H_
#define ACHILLES_CLI_FORMAT_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/time/time.h"
#include "achilles/v1/admin_service.pb.h"
#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"

namespace achilles::cli {

std::string FormatEvaluation(const achilles::v1::Evaluation& ev);
std::string FormatPrescription(const achilles::v1::Prescription& p);
// One line per event: time, id, kind, key values.
std::string FormatEventLine(const achilles::v1::Event& e);
std::string FormatPlugins(const achilles::v1::ListPluginsResponse& resp);
std::string FormatPolicy(const achilles::v1::ClinicPolicy& policy);
const char* SeverityName(achilles::v1::Severity s);
// "INVALID_ARGUMENT" etc.
const char* CodeName(int grpc_code);

// One message as compact protobuf JSON (field names as in the .proto).
std::string JsonLine(const google::protobuf::Message& m);
// Exit status when the server cannot be reached at all (not running, wrong
// address, TLS mismatch): distinct from 1 (the server answered with an
// error) and 2 (usage), so scripts can retry or alert on it.
inline constexpr int kExitServerDown = 3;

// Prints "error: CODE: message" to stderr; returns exit status 1, or
// kExitServerDown with a hint naming the address when the channel never
// connected.
int PrintRpcError(const grpc::Status& st);

// A time flag: RFC 3339 (2026-11-28T08:00:00Z) or a date (2026-11-28,
// midnight UTC). False with the reason in `err`.
bool ParseTimeArg(const std::string& text, absl::Time* t, std::string* err);
// Prints "achillesctl: WHY (see achillesctl --help)"; returns exit status 2.
int UsageError(const std::string& why);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_FORMAT_H_
