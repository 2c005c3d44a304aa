#include "plugins/protocol_file/internal/model.h"

#include <algorithm>

namespace achilles::protocol_file_internal {

Position Expr::At(size_t offset) const {
  int line = 0;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  Position at = Line(line + 1);
  at.column += static_cast<int>(offset - line_start);
  return at;
}

Position Expr::Line(int lua_line) const {
  if (lines.empty()) return Position{};
  const size_t k = static_cast<size_t>(
      std::clamp(lua_line - 1, 0, static_cast<int>(lines.size()) - 1));
  return lines[k];
}

}  // namespace achilles::protocol_file_internal
