// One locked-down Lua 5.4 state: the only code that includes <lua.hpp>
// besides the request view. What a protocol expression can reach:
//   base:   assert error ipairs rawequal rawget rawlen select setmetatable
//           getmetatable tonumber tostring (strict: numbers, strings,
//           booleans and nil only) type  (no print, load, loadstring,
//           dofile, loadfile, require, collectgarbage, pairs, next, pcall,
//           xpcall, warn)
//   string: byte char len lower reverse sub upper  (no rep, format, find,
//           match, gmatch, gsub, dump, pack: they can spin or allocate
//           without the instruction hook seeing it, or print addresses)
//   table:  concat insert move remove sort unpack
//   math:   everything but random and randomseed
//   utf8:   everything
//   helpers: int(x) (truncate toward zero), fixed(x, n) (n decimals)
// No io, os, package, debug or coroutine library is opened. Every
// instruction counts against the call's budget (a count hook), and every
// allocation against its memory limit (the state's allocator); exceeding
// either is an error of the expression that did it.
//
// Thread-safety: one state per thread at a time.
#ifndef ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_LUA_SANDBOX_H_
#define ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_LUA_SANDBOX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "plugins/protocol_file/internal/model.h"
#include "plugins/protocol_file/protocol_file.h"

struct lua_State;

namespace achilles::protocol_file_internal {

// Names a protocol file may not take for its own values.
bool IsReservedName(const std::string& name);

class LuaSandbox {
 public:
  // RESOURCE_EXHAUSTED when the state cannot be made within the limit.
  static absl::StatusOr<std::unique_ptr<LuaSandbox>> Create(
      const protocol_file::Limits& limits, const std::string& file_name);
  ~LuaSandbox();
  LuaSandbox(const LuaSandbox&) = delete;
  LuaSandbox& operator=(const LuaSandbox&) = delete;

  lua_State* state() { return L_; }

  // Compiles `e` (an expression, or statements when it contains `return`)
  // and leaves the function on the stack. INVALID_ARGUMENT
  // "FILE:LINE:COLUMN: <where>: <Lua's reason>" on a syntax error.
  absl::Status Compile(const Expr& e);
  // Compiles and runs `e`, leaving its one value on the stack. INTERNAL
  // "FILE:LINE: <where>: <reason>" on a Lua error, the budget or memory.
  absl::Status Run(const Expr& e);
  // Run, then read the value: truthiness, a template value as text, a
  // number. Pops it.
  absl::StatusOr<bool> Truthy(const Expr& e);
  absl::StatusOr<std::string> Text(const Expr& e);
  absl::StatusOr<double> Number(const Expr& e);
  // Pops the top value into global `name`.
  void SetGlobal(const std::string& name);

  int64_t instructions_used() const;

  // What the allocator and the count hook share (lua_sandbox.cc).
  struct Budget;

 private:
  // The error for an expression whose value is of the wrong Lua type.
  absl::Status WrongType(const Expr& e, const std::string& type,
                         const char* wanted) const;
  LuaSandbox(lua_State* L, std::unique_ptr<Budget> budget,
             std::string file_name);
  std::string Located(const Expr& e, const std::string& lua_message,
                      bool with_column) const;

  lua_State* L_;
  std::unique_ptr<Budget> budget_;
  std::string file_name_;
};

// How a template value reads: strings as they are, integral numbers
// without a decimal point, other numbers with up to 15 significant digits,
// booleans as true/false. Pushes nothing; false for other types.
bool TemplateText(lua_State* L, int index, std::string* out);
// Pushes TemplateText of a string, number or boolean (nothing may jump).
void PushTemplateText(lua_State* L, int index);

}  // namespace achilles::protocol_file_internal

#endif  // ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_LUA_SANDBOX_H_
