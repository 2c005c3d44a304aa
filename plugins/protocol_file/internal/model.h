// The typed form of a protocol file, as the reader builds it and the
// evaluator runs it. Every expression keeps where it came from, so an error
// found in it (at load or at run time) names FILE:LINE:COLUMN. Internal to
// plugins/protocol_file.
#ifndef ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_MODEL_H_
#define ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_MODEL_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "achilles/v1/evaluation.pb.h"
#include "google/protobuf/descriptor.h"
#include "plugins/protocol_file/protocol_file.h"

namespace achilles::protocol_file_internal {

// 1-based, as editors count.
struct Position {
  int line = 1;
  int column = 1;
};

// Lua source taken from the file. lines[k] is where line k (0-based) of
// `source` starts in the file.
struct Expr {
  std::string source;
  std::string where;  // The YAML path, e.g. "rules[2].when", for messages.
  std::vector<Position> lines;

  // Where byte `offset` of `source` is in the file.
  Position At(size_t offset) const;
  // Where (1-based) line `lua_line` of `source` starts.
  Position Line(int lua_line) const;
};

// A text with {lua} holes; `lua` is the whole template as one Lua
// expression that produces the text (holes converted as template values).
struct Template {
  Expr text;  // As written, for positions.
  Expr lua;
};

struct Observation {
  std::optional<Expr> when;
  Template label;
  Template value;
  // A Feature field of Features (a path from it), whose event ids and time
  // back the observation. Empty when none.
  std::vector<const google::protobuf::FieldDescriptor*> feature;
};

struct PrescriptionValue {
  const google::protobuf::FieldDescriptor* field = nullptr;
  std::optional<double> number;  // A literal number.
  std::optional<Expr> expr;      // Numeric field given as an expression.
  std::optional<Template> text;  // String field.
};

struct Recommendation {
  std::string id;
  achilles::v1::Severity severity = achilles::v1::SEVERITY_UNSPECIFIED;
  achilles::v1::Category category = achilles::v1::CATEGORY_UNSPECIFIED;
  Template summary;
  std::optional<Template> detail;
  int priority = 0;
  std::vector<std::string> tags;
  std::vector<PrescriptionValue> prescription;
  std::string rule_id;
  std::optional<Template> rule;
  std::optional<Template> threshold;
  std::optional<Template> policy;
  std::vector<std::string> sources;
  std::vector<Observation> observed;
};

struct DataGap {
  std::optional<Expr> when;
  Template text;
};

struct Contraindication {
  std::optional<Expr> when;
  std::string id;
  std::string blocked_tag;
  Template reason;
  std::string rule_id;
  std::vector<std::string> sources;
};

struct Rule {
  std::string name;  // For messages: its recommendation id or index.
  Expr when;
  std::optional<Recommendation> recommend;
  std::vector<DataGap> data_gaps;
  std::vector<Contraindication> contraindications;
};

// A value computed once per call before the rules, visible to later
// values and to every rule as a global.
struct Let {
  std::string name;
  Expr value;
};

}  // namespace achilles::protocol_file_internal

namespace achilles::protocol_file {

struct ParsedProtocol {
  std::string file_name;
  Limits limits;
  Metadata metadata;
  bool first_match = false;  // match: first
  std::optional<protocol_file_internal::Expr> when;
  std::vector<protocol_file_internal::Let> lets;
  std::vector<protocol_file_internal::Rule> rules;
};

}  // namespace achilles::protocol_file

#endif  // ACHILLES_PLUGINS_PROTOCOL_FILE_INTERNAL_MODEL_H_
