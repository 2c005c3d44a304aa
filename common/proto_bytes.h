// Deterministic protobuf bytes: the same message always serializes to the
// same bytes (map entries sorted), which fingerprints, evaluation ids and
// plugin requests rely on ("same inputs, same bytes"). Thread-safe.
#ifndef ACHILLES_COMMON_PROTO_BYTES_H_
#define ACHILLES_COMMON_PROTO_BYTES_H_

#include <string>

#include "google/protobuf/message.h"

namespace achilles {

std::string DeterministicBytes(const google::protobuf::Message& m);

}  // namespace achilles

#endif  // ACHILLES_COMMON_PROTO_BYTES_H_
