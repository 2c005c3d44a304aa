// Request data as read-only Lua values, read lazily through protobuf
// reflection: a message is a userdata whose fields are looked up by name
// (an unknown name is an error naming the message type), a repeated field
// one whose elements are indexed from 1 (# and ipairs work; pairs does
// not exist). Enums read as their value names ("IRRITABILITY_SETTLED"),
// Timestamps as whole seconds since the epoch, unset proto3 `optional`
// scalars and unset oneof members as nil, other unset messages as their
// defaults (so `features.x.present` is false, never an error), and a
// oneof's own name as the name of its set member ("finding") or nil.
// Nothing can be written. Internal to plugins/protocol_file.
//
// The values point into the messages: these must outlive the Lua state.
#ifndef ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_PROTO_VIEW_H_
#define ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_PROTO_VIEW_H_

#include "google/protobuf/message.h"

struct lua_State;

namespace achilles::protocol_file_internal {

// Pushes a view of `message`.
void PushMessageView(lua_State* L, const google::protobuf::Message& message);
// Pushes a view of repeated field `field` of `message`.
void PushListView(lua_State* L, const google::protobuf::Message& message,
                  const google::protobuf::FieldDescriptor* field);

}  // namespace achilles::protocol_file_internal

#endif  // ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_PROTO_VIEW_H_
