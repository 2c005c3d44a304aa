#include "plugins/protocol_file/internal/lua_sandbox.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <lua.hpp>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace achilles::protocol_file_internal {

// Shared by the allocator and the count hook (both find it as the
// allocator's userdata, so no global state is involved).
struct LuaSandbox::Budget {
  size_t used = 0;
  size_t limit = 0;
  int64_t instructions = 0;
  int64_t instruction_budget = 0;
};

namespace {

// How many instructions run between two looks at the budget.
constexpr int kHookEvery = 1000;

void* Allocate(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* budget = static_cast<LuaSandbox::Budget*>(ud);
  const size_t old = ptr != nullptr ? osize : 0;
  if (nsize == 0) {
    std::free(ptr);
    budget->used -= old;
    return nullptr;
  }
  if (nsize > old && budget->used + (nsize - old) > budget->limit) {
    return nullptr;  // Lua raises its memory error.
  }
  void* p = std::realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  budget->used = budget->used - old + nsize;
  return p;
}

// Runs every kHookEvery instructions. Once over budget it fires on every
// instruction, so the error recurs wherever the code goes next.
void CountHook(lua_State* L, lua_Debug* /*ar*/) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  auto* budget = static_cast<LuaSandbox::Budget*>(ud);
  budget->instructions += kHookEvery;
  if (budget->instructions > budget->instruction_budget) {
    lua_sethook(L, CountHook, LUA_MASKCOUNT, 1);
    luaL_error(L, "instruction budget of %d exhausted",
               static_cast<int>(budget->instruction_budget));
  }
}

// Only what cannot print an address: a table's text would be its pointer.
// No C++ object may be alive when luaL_error jumps, so the type is checked
// before any is made.
int StrictToString(lua_State* L) {
  luaL_checkany(L, 1);
  const int type = lua_type(L, 1);
  if (type == LUA_TNIL) {
    lua_pushliteral(L, "nil");
    return 1;
  }
  if (type != LUA_TSTRING && type != LUA_TNUMBER && type != LUA_TBOOLEAN) {
    return luaL_error(L, "tostring: a %s has no stable text",
                      luaL_typename(L, 1));
  }
  PushTemplateText(L, 1);
  return 1;
}

// A template's text: its pieces, each a string, number or boolean. nil is an
// error, so a value missing from the data is seen, not printed as nothing.
int TextHelper(lua_State* L) {
  const int n = lua_gettop(L);
  for (int i = 1; i <= n; ++i) {
    const int type = lua_type(L, i);
    if (type != LUA_TSTRING && type != LUA_TNUMBER && type != LUA_TBOOLEAN) {
      return luaL_error(L, "template value %d is a %s, not text", i,
                        luaL_typename(L, i));
    }
  }
  luaL_checkstack(L, n + 1, "template too long");
  for (int i = 1; i <= n; ++i) PushTemplateText(L, i);
  lua_concat(L, n);
  return 1;
}

int IntHelper(lua_State* L) {
  const lua_Number x = luaL_checknumber(L, 1);
  if (!std::isfinite(x) || std::fabs(x) > 9.0e15) {
    return luaL_error(L, "int: %f is out of range", x);
  }
  lua_pushinteger(L, static_cast<lua_Integer>(std::trunc(x)));
  return 1;
}

int FixedHelper(lua_State* L) {
  const lua_Number x = luaL_checknumber(L, 1);
  const lua_Integer n = luaL_optinteger(L, 2, 1);
  luaL_argcheck(L, n >= 0 && n <= 10, 2, "decimals must be 0-10");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(n), x);
  lua_pushstring(L, buf);
  return 1;
}

void Remove(lua_State* L, const char* table, const char* const* names) {
  lua_getglobal(L, table);
  for (const char* const* n = names; *n != nullptr; ++n) {
    lua_pushnil(L);
    lua_setfield(L, -2, *n);
  }
  lua_pop(L, 1);
}

void RemoveGlobals(lua_State* L, const char* const* names) {
  for (const char* const* n = names; *n != nullptr; ++n) {
    lua_pushnil(L);
    lua_setglobal(L, *n);
  }
}

// Opens the libraries a protocol may use and takes away what it may not.
void LockDown(lua_State* L) {
  static const luaL_Reg kLibs[] = {{LUA_GNAME, luaopen_base},
                                   {LUA_STRLIBNAME, luaopen_string},
                                   {LUA_TABLIBNAME, luaopen_table},
                                   {LUA_MATHLIBNAME, luaopen_math},
                                   {LUA_UTF8LIBNAME, luaopen_utf8}};
  for (const luaL_Reg& lib : kLibs) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  static const char* const kBase[] = {
      "print",   "load",           "loadstring", "dofile", "loadfile",
      "require", "collectgarbage", "pairs",      "next",   "pcall",
      "xpcall",  "warn",           nullptr};
  RemoveGlobals(L, kBase);
  static const char* const kString[] = {"rep",    "format",   "find", "match",
                                        "gmatch", "gsub",     "dump", "pack",
                                        "unpack", "packsize", nullptr};
  Remove(L, LUA_STRLIBNAME, kString);
  static const char* const kMath[] = {"random", "randomseed", nullptr};
  Remove(L, LUA_MATHLIBNAME, kMath);
  lua_register(L, "tostring", StrictToString);
  lua_register(L, "int", IntHelper);
  lua_register(L, "fixed", FixedHelper);
  lua_register(L, "__text", TextHelper);
}

// Lua's "expr:LINE: reason" into the line and the reason.
bool SplitLuaMessage(const std::string& msg, int* line, std::string* reason) {
  constexpr char kChunk[] = "expr:";
  if (msg.compare(0, sizeof kChunk - 1, kChunk) != 0) return false;
  const size_t colon = msg.find(':', sizeof kChunk - 1);
  if (colon == std::string::npos) return false;
  if (!absl::SimpleAtoi(
          msg.substr(sizeof kChunk - 1, colon - (sizeof kChunk - 1)), line)) {
    return false;
  }
  *reason = msg.substr(colon + 1);
  if (!reason->empty() && (*reason)[0] == ' ') reason->erase(0, 1);
  return true;
}

bool HasReturnWord(const std::string& s) {
  for (size_t at = s.find("return"); at != std::string::npos;
       at = s.find("return", at + 1)) {
    auto word = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    };
    const bool start = at == 0 || !word(s[at - 1]);
    const bool end = at + 6 >= s.size() || !word(s[at + 6]);
    if (start && end) return true;
  }
  return false;
}

}  // namespace

bool IsReservedName(const std::string& name) {
  static const std::set<std::string>* const kNames = new std::set<std::string>{
      "features", "policy", "events", "as_of",  "int",    "fixed", "tostring",
      "string",   "table",  "math",   "utf8",   "_G",     "_ENV",  "type",
      "tonumber", "ipairs", "error",  "assert", "select", "__text"};
  return kNames->count(name) > 0;
}

void PushTemplateText(lua_State* L, int index) {
  std::string text;
  TemplateText(L, index, &text);
  lua_pushlstring(L, text.data(), text.size());
}

bool TemplateText(lua_State* L, int index, std::string* out) {
  switch (lua_type(L, index)) {
    case LUA_TSTRING: {
      size_t n = 0;
      const char* s = lua_tolstring(L, index, &n);
      out->assign(s, n);
      return true;
    }
    case LUA_TBOOLEAN:
      *out = lua_toboolean(L, index) ? "true" : "false";
      return true;
    case LUA_TNUMBER: {
      if (lua_isinteger(L, index)) {
        *out = absl::StrCat(lua_tointeger(L, index));
        return true;
      }
      const double x = lua_tonumber(L, index);
      if (std::isfinite(x) && x == std::trunc(x) && std::fabs(x) < 9.0e15) {
        *out = absl::StrCat(static_cast<int64_t>(x));
      } else {
        *out = absl::StrFormat("%.15g", x);
      }
      return true;
    }
    default:
      return false;
  }
}

absl::StatusOr<std::unique_ptr<LuaSandbox>> LuaSandbox::Create(
    const protocol_file::Limits& limits, const std::string& file_name) {
  auto budget = std::make_unique<Budget>();
  budget->limit = limits.memory_bytes;
  budget->instruction_budget = limits.instruction_budget;
  lua_State* L = lua_newstate(Allocate, budget.get());
  if (L == nullptr) {
    return absl::ResourceExhaustedError("cannot create a Lua state");
  }
  std::unique_ptr<LuaSandbox> sandbox(
      new LuaSandbox(L, std::move(budget), file_name));
  lua_pushcfunction(L, [](lua_State* S) {
    LockDown(S);
    return 0;
  });
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    return absl::ResourceExhaustedError(
        "cannot open the Lua libraries within the memory limit");
  }
  lua_sethook(L, CountHook, LUA_MASKCOUNT, kHookEvery);
  return sandbox;
}

LuaSandbox::LuaSandbox(lua_State* L, std::unique_ptr<Budget> budget,
                       std::string file_name)
    : L_(L), budget_(std::move(budget)), file_name_(std::move(file_name)) {}

LuaSandbox::~LuaSandbox() { lua_close(L_); }

int64_t LuaSandbox::instructions_used() const { return budget_->instructions; }

std::string LuaSandbox::Located(const Expr& e, const std::string& lua_message,
                                bool with_column) const {
  int line = 1;
  std::string reason = lua_message;
  SplitLuaMessage(lua_message, &line, &reason);
  const Position at = e.Line(line);
  if (with_column) {
    return absl::StrCat(file_name_, ":", at.line, ":", at.column, ": ", e.where,
                        ": ", reason);
  }
  return absl::StrCat(file_name_, ":", at.line, ": ", e.where, ": ", reason);
}

absl::Status LuaSandbox::Compile(const Expr& e) {
  // An expression first; statements (with their own return) otherwise.
  const std::string as_expression = "return " + e.source;
  if (luaL_loadbufferx(L_, as_expression.data(), as_expression.size(), "=expr",
                       "t") == LUA_OK) {
    return absl::OkStatus();
  }
  std::string error = lua_tostring(L_, -1);
  lua_pop(L_, 1);
  if (luaL_loadbufferx(L_, e.source.data(), e.source.size(), "=expr", "t") ==
      LUA_OK) {
    return absl::OkStatus();
  }
  if (HasReturnWord(e.source)) error = lua_tostring(L_, -1);
  lua_pop(L_, 1);
  return absl::InvalidArgumentError(Located(e, error, true));
}

absl::Status LuaSandbox::Run(const Expr& e) {
  if (absl::Status st = Compile(e); !st.ok()) {
    return absl::InternalError(st.message());
  }
  const int rc = lua_pcall(L_, 0, 1, 0);
  if (rc == LUA_OK) return absl::OkStatus();
  std::string message =
      rc == LUA_ERRMEM
          ? absl::StrCat("memory limit of ", budget_->limit, " bytes exhausted")
      : lua_isstring(L_, -1) ? std::string(lua_tostring(L_, -1))
                             : std::string("error with a non-text value");
  lua_pop(L_, 1);
  return absl::InternalError(Located(e, message, false));
}

absl::StatusOr<bool> LuaSandbox::Truthy(const Expr& e) {
  if (absl::Status st = Run(e); !st.ok()) return st;
  const bool value = lua_toboolean(L_, -1);
  lua_pop(L_, 1);
  return value;
}

absl::Status LuaSandbox::WrongType(const Expr& e, const std::string& type,
                                   const char* wanted) const {
  const Position at = e.Line(1);
  return absl::InternalError(absl::StrCat(file_name_, ":", at.line, ": ",
                                          e.where, ": gave a ", type, ", not ",
                                          wanted));
}

absl::StatusOr<std::string> LuaSandbox::Text(const Expr& e) {
  if (absl::Status st = Run(e); !st.ok()) return st;
  std::string text;
  const bool ok = TemplateText(L_, -1, &text);
  const std::string type = luaL_typename(L_, -1);
  lua_pop(L_, 1);
  if (!ok) return WrongType(e, type, "text");
  return text;
}

absl::StatusOr<double> LuaSandbox::Number(const Expr& e) {
  if (absl::Status st = Run(e); !st.ok()) return st;
  const bool ok = lua_type(L_, -1) == LUA_TNUMBER;
  const double value = ok ? lua_tonumber(L_, -1) : 0;
  const std::string type = luaL_typename(L_, -1);
  lua_pop(L_, 1);
  if (!ok) return WrongType(e, type, "a number");
  return value;
}

void LuaSandbox::SetGlobal(const std::string& name) {
  lua_setglobal(L_, name.c_str());
}

}  // namespace achilles::protocol_file_internal
