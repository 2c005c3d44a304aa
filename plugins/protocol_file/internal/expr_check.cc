#include "plugins/protocol_file/internal/expr_check.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "achilles/v1/plugin.pb.h"

namespace achilles::protocol_file_internal {
namespace {

namespace pb = ::google::protobuf;

struct Token {
  enum Kind { kName, kDot, kOther } kind;
  std::string text;
  size_t offset;
};

bool NameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Length of a long bracket opening "[[" or "[==[" at `i`, 0 if none; its
// level in *level.
size_t LongBracket(const std::string& s, size_t i, size_t* level) {
  if (s[i] != '[') return 0;
  size_t j = i + 1;
  while (j < s.size() && s[j] == '=') ++j;
  if (j < s.size() && s[j] == '[') {
    *level = j - i - 1;
    return j - i + 1;
  }
  return 0;
}

// Skips a long string or comment body; returns the index after it.
size_t SkipLong(const std::string& s, size_t i, size_t level) {
  const std::string close = "]" + std::string(level, '=') + "]";
  const size_t end = s.find(close, i);
  return end == std::string::npos ? s.size() : end + close.size();
}

size_t SkipQuoted(const std::string& s, size_t i) {
  const char quote = s[i++];
  while (i < s.size() && s[i] != quote && s[i] != '\n') {
    i += s[i] == '\\' ? 2 : 1;
  }
  return i + 1;
}

// Names and dots, with strings, comments and numbers skipped: enough to
// find `features.x.y` chains. Syntax is Lua's job (lua_sandbox.h).
std::vector<Token> Tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  size_t level = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (s.compare(i, 2, "--") == 0) {
      const size_t open = i + 2 < s.size() ? LongBracket(s, i + 2, &level) : 0;
      i = open > 0 ? SkipLong(s, i + 2 + open, level) : s.find('\n', i);
      if (i == std::string::npos) break;
    } else if (size_t open = LongBracket(s, i, &level); open > 0) {
      i = SkipLong(s, i + open, level);
    } else if (c == '"' || c == '\'') {
      i = SkipQuoted(s, i);
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < s.size() && (NameChar(s[i]) || s[i] == '.')) ++i;
      out.push_back({Token::kOther, "", i});
    } else if (NameChar(c)) {
      const size_t start = i;
      while (i < s.size() && NameChar(s[i])) ++i;
      out.push_back({Token::kName, s.substr(start, i - start), start});
    } else if (c == '.' && s.compare(i, 2, "..") != 0) {
      out.push_back({Token::kDot, ".", i++});
    } else {
      if (!std::isspace(static_cast<unsigned char>(c))) {
        out.push_back({Token::kOther, std::string(1, c), i});
      }
      i += s.compare(i, 2, "..") == 0 ? 2 : 1;
    }
  }
  return out;
}

// Follows `root.a.b...` from tokens[i] (the root name); empty when fine,
// else the reason and the offending token's offset.
std::string CheckChain(const std::vector<Token>& tokens, size_t i,
                       const pb::Descriptor* type, size_t* bad_offset) {
  const pb::Descriptor* at = type;
  std::string last = tokens[i].text;
  for (size_t k = i + 1;
       k + 1 < tokens.size() && tokens[k].kind == Token::kDot &&
       tokens[k + 1].kind == Token::kName;
       k += 2) {
    const Token& name = tokens[k + 1];
    *bad_offset = name.offset;
    if (at == nullptr) {
      return absl::StrCat("'", last, "' is not a message, so it has no field '",
                          name.text, "'");
    }
    const pb::FieldDescriptor* f = at->FindFieldByName(name.text);
    if (f == nullptr) {
      if (at->FindOneofByName(name.text) != nullptr) {
        at = nullptr;
        last = name.text;
        continue;
      }
      return absl::StrCat("'", name.text, "' is not a field of ",
                          at->full_name());
    }
    const bool message = f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
    at = message && !f->is_repeated() &&
                 f->message_type()->full_name() != "google.protobuf.Timestamp"
             ? f->message_type()
             : nullptr;
    last = name.text;
  }
  return "";
}

}  // namespace

absl::Status CheckNames(const Expr& e, const std::string& file_name) {
  const std::vector<Token> tokens = Tokenize(e.source);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].kind != Token::kName) continue;
    if (i > 0 &&
        (tokens[i - 1].kind == Token::kDot || tokens[i - 1].text == ":")) {
      continue;  // A field of something else, not the root.
    }
    const pb::Descriptor* type = nullptr;
    if (tokens[i].text == "features") {
      type = v1::Features::descriptor();
    } else if (tokens[i].text == "policy") {
      type = v1::ClinicPolicy::descriptor();
    } else {
      continue;
    }
    size_t bad = 0;
    const std::string why = CheckChain(tokens, i, type, &bad);
    if (!why.empty()) {
      const Position p = e.At(bad);
      return absl::InvalidArgumentError(absl::StrCat(
          file_name, ":", p.line, ":", p.column, ": ", e.where, ": ", why));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<const pb::FieldDescriptor*>> ResolveFeaturePath(
    const std::string& path) {
  std::vector<const pb::FieldDescriptor*> fields;
  const pb::Descriptor* at = v1::Features::descriptor();
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    const pb::FieldDescriptor* f =
        at == nullptr ? nullptr : at->FindFieldByName(std::string(part));
    if (f == nullptr || f->is_repeated() ||
        f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' is not a feature (a Feature field of ",
                       v1::Features::descriptor()->full_name(), ")"));
    }
    fields.push_back(f);
    at = f->message_type();
  }
  if (at != v1::Feature::descriptor()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a feature (a Feature field of ",
                     v1::Features::descriptor()->full_name(), ")"));
  }
  return fields;
}

}  // namespace achilles::protocol_file_internal
