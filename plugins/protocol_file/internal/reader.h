// Reading a protocol file's YAML into the typed model (model.h), with every
// check that needs no request: shape, names, metadata values, enums,
// prescription fields, declared sources, Lua syntax (compiled in `lua`)
// and the names of features and policy fields. yaml-cpp throws; this is
// where its exceptions stop. Internal to plugins/protocol_file.
#ifndef ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_READER_H_
#define ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_READER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "plugins/protocol_file/internal/lua_sandbox.h"
#include "plugins/protocol_file/internal/model.h"

namespace achilles::protocol_file_internal {

// Fills `out` (its file_name and limits already set) from `text`.
// INVALID_ARGUMENT "FILE:LINE:COLUMN: reason" at the first problem.
absl::Status ReadProtocol(absl::string_view text, LuaSandbox* lua,
                          protocol_file::ParsedProtocol* out);

}  // namespace achilles::protocol_file_internal

#endif  // ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_READER_H_
