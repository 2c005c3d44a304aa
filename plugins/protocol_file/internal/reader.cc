#include "plugins/protocol_file/internal/reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <lua.hpp>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "achilles/v1/events.pb.h"
#include "plugins/protocol_file/internal/expr_check.h"

namespace achilles::protocol_file_internal {
namespace {

namespace pb = ::google::protobuf;
using KeySet = std::set<std::string>;

Position PositionOf(const YAML::Mark& m) { return {m.line + 1, m.column + 1}; }

// Each source line of a scalar, found in the file at or after its mark, so
// positions inside an expression are file positions whatever the style.
std::vector<Position> LocateLines(const std::string& source,
                                  const YAML::Mark& mark,
                                  const std::vector<std::string>& file) {
  std::vector<Position> out;
  size_t line = static_cast<size_t>(std::max(mark.line, 0));
  size_t from = static_cast<size_t>(std::max(mark.column, 0));
  for (absl::string_view part : absl::StrSplit(source, '\n')) {
    bool found = false;
    for (size_t l = line; !part.empty() && l < file.size() && l < line + 4;
         ++l) {
      const size_t at = file[l].find(std::string(part), l == line ? from : 0);
      if (at == std::string::npos) continue;
      out.push_back({static_cast<int>(l) + 1, static_cast<int>(at) + 1});
      line = l + 1;
      from = 0;
      found = true;
      break;
    }
    if (!found) out.push_back(out.empty() ? PositionOf(mark) : out.back());
  }
  return out;
}

// Where the brace opened at `open` closes (Lua inside may nest braces);
// s.size() when it does not.
size_t ClosingBrace(const std::string& s, size_t open) {
  int depth = 1;
  for (size_t i = open + 1; i < s.size(); ++i) {
    depth += s[i] == '{' ? 1 : s[i] == '}' ? -1 : 0;
    if (depth == 0) return i;
  }
  return s.size();
}

// Text as a Lua string literal.
std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\%03d", static_cast<int>(c)));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool ValidId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
           c == '.' || c == '-';
  });
}

bool ValidSemver(absl::string_view v) {
  std::vector<absl::string_view> parts = absl::StrSplit(v, '.');
  if (parts.size() != 3) return false;
  for (auto p : parts) {
    if (p.empty() || p.size() > 9 ||
        !std::all_of(p.begin(), p.end(), absl::ascii_isdigit)) {
      return false;
    }
  }
  return true;
}

class Reader {
 public:
  Reader(absl::string_view text, LuaSandbox* lua,
         protocol_file::ParsedProtocol* out)
      : lua_(lua), out_(out), file_(out->file_name) {
    for (absl::string_view l : absl::StrSplit(text, '\n')) {
      lines_.emplace_back(l);
    }
  }
  bool ReadAll(const YAML::Node& root);
  absl::Status error() const { return error_; }

 private:
  bool Fail(const YAML::Node& at, absl::string_view why) {
    return FailAt(PositionOf(at.Mark()), why);
  }
  bool FailAt(Position p, absl::string_view why) {
    error_ = absl::InvalidArgumentError(
        absl::StrCat(file_, ":", p.line, ":", p.column, ": ", why));
    return false;
  }
  bool Keys(const YAML::Node& map, const std::string& where,
            const KeySet& allowed, const KeySet& required);
  bool Text(const YAML::Node& n, const std::string& where, std::string* out);
  bool List(const YAML::Node& n, const std::string& where,
            std::vector<std::string>* out);
  bool MakeExpr(const YAML::Node& n, const std::string& where, Expr* out);
  bool MakeTemplate(const YAML::Node& n, const std::string& where,
                    Template* out);
  bool FinishTemplate(std::string lua, Template* out);
  bool CheckHole(const Expr& text, size_t from, size_t to,
                 const std::string& where, std::string* lua);
  bool ReadMetadata(const YAML::Node& root);
  bool ReadId(const YAML::Node& n, std::string* id);
  bool ReadSources(const YAML::Node& n);
  bool EventKinds(const YAML::Node& n);
  bool KnownSources(const YAML::Node& n, const std::string& where,
                    std::vector<std::string>* out);
  bool Lets(const YAML::Node& n);
  bool ReadRule(const YAML::Node& n, const std::string& where,
                protocol_file_internal::Rule* out);
  bool ReadRecommend(const YAML::Node& n, const std::string& where,
                     Recommendation* out);
  bool Enums(const YAML::Node& n, const std::string& where,
             Recommendation* out);
  bool ReadRationale(const YAML::Node& n, const std::string& where,
                     Recommendation* out);
  bool ReadObserved(const YAML::Node& n, const std::string& where,
                    Observation* out);
  bool ReadPrescription(const YAML::Node& n, const std::string& where,
                        Recommendation* out);
  bool ReadDataGaps(const YAML::Node& n, const std::string& where,
                    std::vector<DataGap>* out);
  bool ReadContraindications(const YAML::Node& n, const std::string& where,
                             std::vector<Contraindication>* out);

  LuaSandbox* lua_;
  protocol_file::ParsedProtocol* out_;
  const std::string& file_;
  std::vector<std::string> lines_;
  std::set<std::string> source_keys_;
  std::set<std::string> recommendation_ids_;
  absl::Status error_;
};

bool Reader::Keys(const YAML::Node& map, const std::string& where,
                  const KeySet& allowed, const KeySet& required) {
  if (!map.IsMap()) return Fail(map, absl::StrCat(where, " must be a mapping"));
  KeySet seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (!allowed.count(key)) {
      return Fail(it->first, absl::StrCat("unknown key '", key, "' in ", where,
                                          "; expected one of: ",
                                          absl::StrJoin(allowed, ", ")));
    }
    if (!seen.insert(key).second) {
      return Fail(it->first, absl::StrCat("duplicate key '", key, "'"));
    }
  }
  for (const std::string& key : required) {
    if (!seen.count(key)) {
      return Fail(map, absl::StrCat(where, " needs '", key, "'"));
    }
  }
  return true;
}

bool Reader::Text(const YAML::Node& n, const std::string& where,
                  std::string* out) {
  if (!n.IsScalar() || n.Scalar().empty()) {
    return Fail(n, absl::StrCat(where, " must be non-empty text"));
  }
  *out = n.Scalar();
  return true;
}

bool Reader::List(const YAML::Node& n, const std::string& where,
                  std::vector<std::string>* out) {
  if (!n.IsSequence()) return Fail(n, absl::StrCat(where, " must be a list"));
  for (size_t i = 0; i < n.size(); ++i) {
    std::string item;
    if (!Text(n[i], absl::StrCat(where, "[", i, "]"), &item)) return false;
    out->push_back(std::move(item));
  }
  return true;
}

bool Reader::MakeExpr(const YAML::Node& n, const std::string& where,
                      Expr* out) {
  if (!n.IsScalar() || absl::StripAsciiWhitespace(n.Scalar()).empty()) {
    return Fail(n, absl::StrCat(where, " must be a Lua expression"));
  }
  out->source = n.Scalar();
  out->where = where;
  out->lines = LocateLines(out->source, n.Mark(), lines_);
  if (absl::Status st = CheckNames(*out, file_); !st.ok()) {
    error_ = st;
    return false;
  }
  absl::Status compiled = lua_->Compile(*out);
  if (!compiled.ok()) {
    error_ = compiled;
    return false;
  }
  lua_pop(lua_->state(), 1);
  return true;
}

// One {hole} of a template: its syntax and names, at its own position.
bool Reader::CheckHole(const Expr& text, size_t from, size_t to,
                       const std::string& where, std::string* lua) {
  Expr hole;
  hole.source = text.source.substr(from, to - from);
  hole.where = where;
  const Position start = text.At(from);
  hole.lines.push_back(start);
  for (size_t i = from; i < to; ++i) {
    if (text.source[i] == '\n') hole.lines.push_back(text.At(i + 1));
  }
  if (absl::StripAsciiWhitespace(hole.source).empty()) {
    return FailAt(start, absl::StrCat(where, ": empty {} in a template"));
  }
  if (absl::Status st = CheckNames(hole, file_); !st.ok()) {
    error_ = st;
    return false;
  }
  // Only an expression may fill a hole: it is spliced into the text call.
  const std::string as_expression = "return (" + hole.source + "\n)";
  if (luaL_loadbufferx(lua_->state(), as_expression.data(),
                       as_expression.size(), "=expr", "t") != LUA_OK) {
    lua_pop(lua_->state(), 1);
    // Compiled again through the sandbox for its positioned message.
    Expr located = hole;
    located.source = as_expression;
    absl::Status st = lua_->Compile(located);
    if (st.ok()) {
      lua_pop(lua_->state(), 1);
      st = absl::InvalidArgumentError(absl::StrCat(file_, ":", start.line, ":",
                                                   start.column, ": ", where,
                                                   ": not an expression"));
    }
    error_ = st;
    return false;
  }
  lua_pop(lua_->state(), 1);
  absl::StrAppend(lua, ", (", hole.source, "\n)");
  return true;
}

bool Reader::MakeTemplate(const YAML::Node& n, const std::string& where,
                          Template* out) {
  if (!n.IsScalar() || n.Scalar().empty()) {
    return Fail(n, absl::StrCat(where, " must be non-empty text"));
  }
  out->text.source = n.Scalar();
  out->text.where = where;
  out->text.lines = LocateLines(out->text.source, n.Mark(), lines_);
  const std::string& s = out->text.source;
  std::string lua = "__text(\"\"";
  std::string literal;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((s[i] == '{' || s[i] == '}') && i + 1 < s.size() && s[i + 1] == s[i]) {
      literal += s[i++];
      continue;
    }
    if (s[i] == '}') {
      return FailAt(
          out->text.At(i),
          absl::StrCat(where, ": unmatched } (write }} for a brace)"));
    }
    if (s[i] != '{') {
      literal += s[i];
      continue;
    }
    const size_t end = ClosingBrace(s, i);
    if (end >= s.size()) {
      return FailAt(out->text.At(i),
                    absl::StrCat(where, ": unclosed { (write {{ for a brace)"));
    }
    absl::StrAppend(&lua, ", ", Quote(literal));
    literal.clear();
    if (!CheckHole(out->text, i + 1, end, where, &lua)) return false;
    i = end;
  }
  absl::StrAppend(&lua, ", ", Quote(literal), ")");
  return FinishTemplate(std::move(lua), out);
}

bool Reader::FinishTemplate(std::string lua, Template* out) {
  out->lua.source = std::move(lua);
  out->lua.where = out->text.where;
  out->lua.lines = {out->text.Line(1)};
  // The whole text call too: Lua bounds its arguments (about 250 holes).
  if (absl::Status st = lua_->Compile(out->lua); !st.ok()) {
    error_ = st;
    return false;
  }
  lua_pop(lua_->state(), 1);
  return true;
}

bool Reader::ReadSources(const YAML::Node& n) {
  if (!n.IsSequence() || n.size() == 0) {
    return Fail(n, "sources must list at least one {key, citation}");
  }
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string where = absl::StrCat("sources[", i, "]");
    protocol_file::Source s;
    if (!Keys(n[i], where, {"key", "citation"}, {"key", "citation"}) ||
        !Text(n[i]["key"], where + ".key", &s.key) ||
        !Text(n[i]["citation"], where + ".citation", &s.citation)) {
      return false;
    }
    if (!source_keys_.insert(s.key).second) {
      return Fail(n[i]["key"],
                  absl::StrCat("source '", s.key, "' is listed twice"));
    }
    out_->metadata.sources.push_back(std::move(s));
  }
  return true;
}

bool Reader::EventKinds(const YAML::Node& n) {
  if (!List(n, "event_kinds", &out_->metadata.event_kinds)) return false;
  const pb::OneofDescriptor* kind =
      v1::Event::descriptor()->FindOneofByName("kind");
  for (size_t i = 0; i < out_->metadata.event_kinds.size(); ++i) {
    const std::string& k = out_->metadata.event_kinds[i];
    const pb::FieldDescriptor* f = v1::Event::descriptor()->FindFieldByName(k);
    if (k != "*" && (f == nullptr || f->containing_oneof() != kind)) {
      std::vector<std::string> known;
      for (int j = 0; j < kind->field_count(); ++j) {
        known.push_back(kind->field(j)->name());
      }
      return Fail(n[i], absl::StrCat("event kind '", k, "' is not one of ",
                                     absl::StrJoin(known, ", "), " or *"));
    }
  }
  return true;
}

// The same rules as a .so's manifest (plugins/host/internal/info_check.h),
// with the file position.
bool Reader::ReadId(const YAML::Node& n, std::string* id) {
  if (!Text(n, "id", id)) return false;
  if (!ValidId(*id)) return Fail(n, "id must be 1-64 chars of [a-z0-9_.-]");
  if (*id == "safety" || *id == "engine" || *id == "data" ||
      absl::StartsWith(*id, "achilles")) {
    return Fail(n, absl::StrCat("id '", *id,
                                "' is reserved for the engine (safety, "
                                "engine, data and achilles* are taken); "
                                "choose another"));
  }
  return true;
}

bool Reader::ReadMetadata(const YAML::Node& root) {
  protocol_file::Metadata& m = out_->metadata;
  std::string format;
  if (!Text(root["format"], "format", &format)) return false;
  if (format != "1") {
    return Fail(root["format"], "format must be 1 (the only version so far)");
  }
  if (!ReadId(root["id"], &m.id)) return false;
  if (!Text(root["version"], "version", &m.version)) return false;
  if (!ValidSemver(m.version)) {
    return Fail(root["version"], "version must be MAJOR.MINOR.PATCH");
  }
  if (!Text(root["display_name"], "display_name", &m.display_name)) {
    return false;
  }
  if (m.display_name.size() > 128) {
    return Fail(root["display_name"], "display_name must be 1-128 chars");
  }
  if (!List(root["protocols"], "protocols", &m.protocols)) return false;
  if (m.protocols.empty()) {
    return Fail(root["protocols"], "protocols must list at least one");
  }
  if (root["event_kinds"] && !EventKinds(root["event_kinds"])) return false;
  return ReadSources(root["sources"]);
}

bool Reader::KnownSources(const YAML::Node& n, const std::string& where,
                          std::vector<std::string>* out) {
  if (!List(n, where, out)) return false;
  if (out->empty()) return Fail(n, absl::StrCat(where, " must cite a source"));
  for (size_t i = 0; i < out->size(); ++i) {
    if (!source_keys_.count((*out)[i])) {
      return Fail(n[i], absl::StrCat("source '", (*out)[i],
                                     "' is not declared under sources"));
    }
  }
  return true;
}

bool Reader::Lets(const YAML::Node& n) {
  if (!n.IsMap()) return Fail(n, "let must map names to Lua expressions");
  KeySet names;
  for (auto it = n.begin(); it != n.end(); ++it) {
    Let let;
    let.name = it->first.Scalar();
    const bool identifier =
        !let.name.empty() && !absl::ascii_isdigit(let.name[0]) &&
        std::all_of(let.name.begin(), let.name.end(),
                    [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
    if (!identifier || IsReservedName(let.name) ||
        !names.insert(let.name).second) {
      return Fail(it->first,
                  absl::StrCat("let name '", let.name,
                               "' must be a new Lua name, not a built-in"));
    }
    if (!MakeExpr(it->second, absl::StrCat("let.", let.name), &let.value)) {
      return false;
    }
    out_->lets.push_back(std::move(let));
  }
  return true;
}

bool Reader::Enums(const YAML::Node& n, const std::string& where,
                   Recommendation* out) {
  std::string severity, category;
  if (!Text(n["severity"], where + ".severity", &severity) ||
      !Text(n["category"], where + ".category", &category)) {
    return false;
  }
  severity = absl::AsciiStrToUpper(severity);
  category = absl::AsciiStrToUpper(category);
  if (severity == "INFO" || severity == "SEVERITY_INFO") {
    out->severity = v1::SEVERITY_INFO;
  } else if (severity == "WARNING" || severity == "SEVERITY_WARNING") {
    out->severity = v1::SEVERITY_WARNING;
  } else {
    return Fail(n["severity"],
                "severity must be info or warning (critical is the built-in "
                "safety screen's alone)");
  }
  v1::Category c = v1::CATEGORY_UNSPECIFIED;
  if (!v1::Category_Parse(category, &c) &&
      !v1::Category_Parse("CATEGORY_" + category, &c)) {
    c = v1::CATEGORY_UNSPECIFIED;
  }
  if (c == v1::CATEGORY_UNSPECIFIED || c == v1::CATEGORY_SAFETY) {
    return Fail(n["category"],
                "category must be one of referral, load_management, "
                "exercise, return_to_run, footwear, data_request, "
                "expectations (safety is the built-in screen's alone)");
  }
  out->category = c;
  return true;
}

bool Reader::ReadObserved(const YAML::Node& n, const std::string& where,
                          Observation* out) {
  if (!Keys(n, where, {"label", "value", "feature", "when"},
            {"label", "value"}) ||
      !MakeTemplate(n["label"], where + ".label", &out->label) ||
      !MakeTemplate(n["value"], where + ".value", &out->value)) {
    return false;
  }
  if (n["when"]) {
    out->when.emplace();
    if (!MakeExpr(n["when"], where + ".when", &*out->when)) return false;
  }
  if (n["feature"]) {
    std::string path;
    if (!Text(n["feature"], where + ".feature", &path)) return false;
    auto fields = ResolveFeaturePath(path);
    if (!fields.ok()) return Fail(n["feature"], fields.status().message());
    out->feature = *std::move(fields);
  }
  return true;
}

bool Reader::ReadRationale(const YAML::Node& n, const std::string& where,
                           Recommendation* out) {
  if (!Keys(n, where,
            {"rule_id", "rule", "threshold", "policy", "sources", "observed"},
            {"rule_id", "sources", "observed"}) ||
      !Text(n["rule_id"], where + ".rule_id", &out->rule_id) ||
      !KnownSources(n["sources"], where + ".sources", &out->sources)) {
    return false;
  }
  const std::pair<const char*, std::optional<Template>*> texts[] = {
      {"rule", &out->rule},
      {"threshold", &out->threshold},
      {"policy", &out->policy}};
  for (const auto& [key, field] : texts) {
    if (!n[key]) continue;
    field->emplace();
    if (!MakeTemplate(n[key], absl::StrCat(where, ".", key), &**field)) {
      return false;
    }
  }
  const YAML::Node observed = n["observed"];
  if (!observed.IsSequence() || observed.size() == 0) {
    return Fail(observed, absl::StrCat(where,
                                       ".observed must list at least one "
                                       "{label, value}: the host refuses "
                                       "advice without observed values"));
  }
  out->observed.resize(observed.size());
  for (size_t i = 0; i < observed.size(); ++i) {
    if (!ReadObserved(observed[i], absl::StrCat(where, ".observed[", i, "]"),
                      &out->observed[i])) {
      return false;
    }
  }
  return true;
}

bool Reader::ReadPrescription(const YAML::Node& n, const std::string& where,
                              Recommendation* out) {
  if (!n.IsMap()) return Fail(n, absl::StrCat(where, " must be a mapping"));
  const pb::Descriptor* d = v1::Prescription::descriptor();
  for (auto it = n.begin(); it != n.end(); ++it) {
    PrescriptionValue v;
    const std::string key = it->first.Scalar();
    const std::string at = absl::StrCat(where, ".", key);
    v.field = d->FindFieldByName(key);
    if (v.field == nullptr) {
      return Fail(it->first, absl::StrCat("'", key,
                                          "' is not a field of "
                                          "achilles.v1.Prescription"));
    }
    if (v.field->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      v.text.emplace();
      if (!MakeTemplate(it->second, at, &*v.text)) return false;
    } else if (double x = 0; it->second.IsScalar() &&
                             absl::SimpleAtod(it->second.Scalar(), &x)) {
      v.number = x;
    } else {
      v.expr.emplace();
      if (!MakeExpr(it->second, at, &*v.expr)) return false;
    }
    out->prescription.push_back(std::move(v));
  }
  return true;
}

bool Reader::ReadRecommend(const YAML::Node& n, const std::string& where,
                           Recommendation* out) {
  if (!Keys(n, where,
            {"id", "severity", "category", "summary", "detail", "priority",
             "tags", "prescription", "rationale"},
            {"id", "severity", "category", "summary", "rationale"}) ||
      !Text(n["id"], where + ".id", &out->id)) {
    return false;
  }
  if (!ValidId(out->id) || !recommendation_ids_.insert(out->id).second) {
    return Fail(n["id"],
                "recommendation id must be unique, 1-64 chars of "
                "[a-z0-9_.-]");
  }
  if (!Enums(n, where, out) ||
      !MakeTemplate(n["summary"], where + ".summary", &out->summary)) {
    return false;
  }
  if (n["detail"]) {
    out->detail.emplace();
    if (!MakeTemplate(n["detail"], where + ".detail", &*out->detail)) {
      return false;
    }
  }
  if (n["priority"] &&
      (!n["priority"].IsScalar() ||
       !absl::SimpleAtoi(n["priority"].Scalar(), &out->priority) ||
       out->priority < 0 || out->priority > 100)) {
    return Fail(n["priority"], "priority must be a whole number 0-100");
  }
  if (n["tags"] && !List(n["tags"], where + ".tags", &out->tags)) return false;
  if (n["prescription"] &&
      !ReadPrescription(n["prescription"], where + ".prescription", out)) {
    return false;
  }
  return ReadRationale(n["rationale"], where + ".rationale", out);
}

bool Reader::ReadDataGaps(const YAML::Node& n, const std::string& where,
                          std::vector<DataGap>* out) {
  if (!n.IsSequence()) return Fail(n, absl::StrCat(where, " must be a list"));
  out->resize(n.size());
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string at = absl::StrCat(where, "[", i, "]");
    DataGap& gap = (*out)[i];
    if (!Keys(n[i], at, {"when", "text"}, {"text"}) ||
        !MakeTemplate(n[i]["text"], at + ".text", &gap.text)) {
      return false;
    }
    if (n[i]["when"]) {
      gap.when.emplace();
      if (!MakeExpr(n[i]["when"], at + ".when", &*gap.when)) return false;
    }
  }
  return true;
}

bool Reader::ReadContraindications(const YAML::Node& n,
                                   const std::string& where,
                                   std::vector<Contraindication>* out) {
  if (!n.IsSequence()) return Fail(n, absl::StrCat(where, " must be a list"));
  out->resize(n.size());
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string at = absl::StrCat(where, "[", i, "]");
    const YAML::Node c = n[i];
    Contraindication& out_c = (*out)[i];
    if (!Keys(c, at,
              {"when", "id", "blocked_tag", "reason", "rule_id", "sources"},
              {"id", "blocked_tag", "reason", "rule_id", "sources"}) ||
        !Text(c["id"], at + ".id", &out_c.id) ||
        !Text(c["blocked_tag"], at + ".blocked_tag", &out_c.blocked_tag) ||
        !MakeTemplate(c["reason"], at + ".reason", &out_c.reason) ||
        !Text(c["rule_id"], at + ".rule_id", &out_c.rule_id) ||
        !KnownSources(c["sources"], at + ".sources", &out_c.sources)) {
      return false;
    }
    if (c["when"]) {
      out_c.when.emplace();
      if (!MakeExpr(c["when"], at + ".when", &*out_c.when)) return false;
    }
  }
  return true;
}

bool Reader::ReadRule(const YAML::Node& n, const std::string& where,
                      protocol_file_internal::Rule* out) {
  if (!Keys(n, where, {"when", "recommend", "data_gaps", "contraindications"},
            {"when"}) ||
      !MakeExpr(n["when"], where + ".when", &out->when)) {
    return false;
  }
  if (!n["recommend"] && !n["data_gaps"] && !n["contraindications"]) {
    return Fail(n, absl::StrCat(where,
                                " needs recommend, data_gaps or "
                                "contraindications"));
  }
  if (n["recommend"]) {
    out->recommend.emplace();
    if (!ReadRecommend(n["recommend"], where + ".recommend",
                       &*out->recommend)) {
      return false;
    }
  }
  if (n["data_gaps"] &&
      !ReadDataGaps(n["data_gaps"], where + ".data_gaps", &out->data_gaps)) {
    return false;
  }
  return !n["contraindications"] ||
         ReadContraindications(n["contraindications"],
                               where + ".contraindications",
                               &out->contraindications);
}

bool Reader::ReadAll(const YAML::Node& root) {
  if (!Keys(root, "the protocol file",
            {"format", "id", "version", "display_name", "protocols",
             "event_kinds", "sources", "match", "when", "let", "rules"},
            {"format", "id", "version", "display_name", "protocols", "sources",
             "rules"}) ||
      !ReadMetadata(root)) {
    return false;
  }
  if (root["match"]) {
    std::string match;
    if (!Text(root["match"], "match", &match)) return false;
    if (match != "first" && match != "all") {
      return Fail(root["match"], "match must be first or all");
    }
    out_->first_match = match == "first";
  }
  if (root["when"]) {
    out_->when.emplace();
    if (!MakeExpr(root["when"], "when", &*out_->when)) return false;
  }
  if (root["let"] && !Lets(root["let"])) return false;
  const YAML::Node rules = root["rules"];
  if (!rules.IsSequence() || rules.size() == 0) {
    return Fail(rules, "rules must list at least one rule");
  }
  out_->rules.resize(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string where = absl::StrCat("rules[", i, "]");
    out_->rules[i].name = where;
    if (!ReadRule(rules[i], where, &out_->rules[i])) return false;
  }
  return true;
}

}  // namespace

absl::Status ReadProtocol(absl::string_view text, LuaSandbox* lua,
                          protocol_file::ParsedProtocol* out) {
  // yaml-cpp reports everything by exception; none leaves this function.
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    Reader reader(text, lua, out);
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(
          out->file_name, ":1:1: a protocol file is a YAML mapping"));
    }
    reader.ReadAll(root);
    return reader.error();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(out->file_name, ":", e.mark.line + 1, ":",
                     e.mark.column + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(out->file_name, ": cannot read: ", e.what()));
  }
}

}  // namespace achilles::protocol_file_internal
