#include "plugins/protocol_file/internal/proto_view.h"

#include <lua.hpp>

namespace achilles::protocol_file_internal {
namespace {

namespace pb = ::google::protobuf;

constexpr char kMessageMeta[] = "achilles.message";
constexpr char kListMeta[] = "achilles.list";

struct MessageRef {
  const pb::Message* message;
};
struct ListRef {
  const pb::Message* message;
  const pb::FieldDescriptor* field;
};

// Functions called by Lua raise errors with luaL_error, which jumps: no
// C++ object with a destructor may be alive at that point, so strings are
// only ever borrowed from descriptors here.

bool IsTimestamp(const pb::FieldDescriptor* f) {
  return f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE &&
         f->message_type()->full_name() == "google.protobuf.Timestamp";
}

void PushTimestamp(lua_State* L, const pb::Message& ts) {
  const pb::FieldDescriptor* seconds =
      ts.GetDescriptor()->FindFieldByName("seconds");
  lua_pushinteger(L, ts.GetReflection()->GetInt64(ts, seconds));
}

void PushElement(lua_State* L, const pb::Message& m,
                 const pb::FieldDescriptor* f, int i) {
  const pb::Reflection* r = m.GetReflection();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      lua_pushinteger(L, r->GetRepeatedInt32(m, f, i));
      return;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      lua_pushinteger(L, r->GetRepeatedInt64(m, f, i));
      return;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      lua_pushinteger(L, r->GetRepeatedUInt32(m, f, i));
      return;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      lua_pushinteger(L,
                      static_cast<lua_Integer>(r->GetRepeatedUInt64(m, f, i)));
      return;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      lua_pushnumber(L, r->GetRepeatedDouble(m, f, i));
      return;
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      lua_pushnumber(L, r->GetRepeatedFloat(m, f, i));
      return;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      lua_pushboolean(L, r->GetRepeatedBool(m, f, i));
      return;
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      lua_pushstring(L, r->GetRepeatedEnum(m, f, i)->name().c_str());
      return;
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      const std::string& s = r->GetRepeatedStringReference(m, f, i, nullptr);
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      if (IsTimestamp(f)) {
        PushTimestamp(L, r->GetRepeatedMessage(m, f, i));
      } else {
        PushMessageView(L, r->GetRepeatedMessage(m, f, i));
      }
      return;
  }
  lua_pushnil(L);
}

// Absent means nil where presence is part of the meaning: optional
// scalars, oneof members, times. Other messages read as their defaults.
bool ReadsAsNil(const pb::Message& m, const pb::FieldDescriptor* f) {
  const bool is_message = f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
  return f->has_presence() && !m.GetReflection()->HasField(m, f) &&
         (!is_message || f->real_containing_oneof() != nullptr ||
          IsTimestamp(f));
}

void PushSingular(lua_State* L, const pb::Message& m,
                  const pb::FieldDescriptor* f) {
  const pb::Reflection* r = m.GetReflection();
  if (ReadsAsNil(m, f)) {
    lua_pushnil(L);
    return;
  }
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      lua_pushinteger(L, r->GetInt32(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      lua_pushinteger(L, r->GetInt64(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      lua_pushinteger(L, r->GetUInt32(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      lua_pushinteger(L, static_cast<lua_Integer>(r->GetUInt64(m, f)));
      return;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      lua_pushnumber(L, r->GetDouble(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      lua_pushnumber(L, r->GetFloat(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      lua_pushboolean(L, r->GetBool(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      lua_pushstring(L, r->GetEnum(m, f)->name().c_str());
      return;
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      const std::string& s = r->GetStringReference(m, f, nullptr);
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      if (IsTimestamp(f)) {
        PushTimestamp(L, r->GetMessage(m, f));
      } else {
        PushMessageView(L, r->GetMessage(m, f));
      }
      return;
  }
  lua_pushnil(L);
}

int MessageIndex(lua_State* L) {
  const auto* ref =
      static_cast<const MessageRef*>(luaL_checkudata(L, 1, kMessageMeta));
  const char* key = luaL_checkstring(L, 2);
  const pb::Message& m = *ref->message;
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::FieldDescriptor* f = d->FindFieldByName(key);
  if (f != nullptr) {
    if (f->is_repeated()) {
      PushListView(L, m, f);
    } else {
      PushSingular(L, m, f);
    }
    return 1;
  }
  const pb::OneofDescriptor* oneof = d->FindOneofByName(key);
  if (oneof != nullptr) {
    const pb::FieldDescriptor* set =
        m.GetReflection()->GetOneofFieldDescriptor(m, oneof);
    if (set == nullptr) {
      lua_pushnil(L);
    } else {
      lua_pushstring(L, set->name().c_str());
    }
    return 1;
  }
  return luaL_error(L, "no field '%s' in %s", key, d->full_name().c_str());
}

int ListIndex(lua_State* L) {
  const auto* ref =
      static_cast<const ListRef*>(luaL_checkudata(L, 1, kListMeta));
  const lua_Integer i = luaL_checkinteger(L, 2);
  const int size =
      ref->message->GetReflection()->FieldSize(*ref->message, ref->field);
  if (i < 1 || i > size) {
    lua_pushnil(L);  // ipairs stops here.
    return 1;
  }
  PushElement(L, *ref->message, ref->field, static_cast<int>(i - 1));
  return 1;
}

int ListLength(lua_State* L) {
  const auto* ref =
      static_cast<const ListRef*>(luaL_checkudata(L, 1, kListMeta));
  lua_pushinteger(
      L, ref->message->GetReflection()->FieldSize(*ref->message, ref->field));
  return 1;
}

int ReadOnly(lua_State* L) {
  return luaL_error(L, "request data is read-only");
}

// Creates the metatable `name` on first use and sets it on the value on top.
void SetMeta(lua_State* L, const char* name, lua_CFunction index,
             lua_CFunction len) {
  if (luaL_newmetatable(L, name)) {
    lua_pushcfunction(L, index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ReadOnly);
    lua_setfield(L, -2, "__newindex");
    if (len != nullptr) {
      lua_pushcfunction(L, len);
      lua_setfield(L, -2, "__len");
    }
    // getmetatable() sees this string, not the table: nothing to change.
    lua_pushliteral(L, "read-only request data");
    lua_setfield(L, -2, "__metatable");
  }
  lua_setmetatable(L, -2);
}

}  // namespace

void PushMessageView(lua_State* L, const pb::Message& message) {
  auto* ref =
      static_cast<MessageRef*>(lua_newuserdatauv(L, sizeof(MessageRef), 0));
  ref->message = &message;
  SetMeta(L, kMessageMeta, MessageIndex, nullptr);
}

void PushListView(lua_State* L, const pb::Message& message,
                  const pb::FieldDescriptor* field) {
  auto* ref = static_cast<ListRef*>(lua_newuserdatauv(L, sizeof(ListRef), 0));
  ref->message = &message;
  ref->field = field;
  SetMeta(L, kListMeta, ListIndex, ListLength);
}

}  // namespace achilles::protocol_file_internal
