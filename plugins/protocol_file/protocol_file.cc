#include "plugins/protocol_file/protocol_file.h"

#include <cmath>
#include <fstream>
#include <iterator>
#include <lua.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "plugins/protocol_file/internal/lua_sandbox.h"
#include "plugins/protocol_file/internal/model.h"
#include "plugins/protocol_file/internal/proto_view.h"
#include "plugins/protocol_file/internal/reader.h"

namespace achilles::protocol_file {
namespace {

namespace pb = ::google::protobuf;
namespace pi = ::achilles::protocol_file_internal;

// One Evaluate call: its own Lua state, so no value survives into the next
// call and two calls never share anything.
class Call {
 public:
  Call(const ParsedProtocol& p, const v1::PluginRequest& request,
       pi::LuaSandbox* lua)
      : p_(p), request_(request), lua_(lua) {}

  absl::Status Run(v1::PluginResponse* out);

 private:
  void PushRequest();
  absl::StatusOr<bool> When(const std::optional<pi::Expr>& when);
  absl::Status Emit(const pi::Rule& rule, v1::PluginResponse* out);
  absl::Status Recommend(const pi::Recommendation& r, v1::Recommendation* out);
  absl::Status Observe(const pi::Observation& o, v1::Rationale* out);
  absl::Status Prescribe(const pi::PrescriptionValue& v, v1::Prescription* out);
  absl::Status Fill(const std::optional<pi::Template>& t, std::string* out);

  const ParsedProtocol& p_;
  const v1::PluginRequest& request_;
  pi::LuaSandbox* lua_;
};

void Call::PushRequest() {
  lua_State* L = lua_->state();
  // Read-only views; the patient id is not among them.
  pi::PushMessageView(L, request_.features());
  lua_->SetGlobal("features");
  pi::PushMessageView(L, request_.policy());
  lua_->SetGlobal("policy");
  pi::PushListView(
      L, request_,
      v1::PluginRequest::descriptor()->FindFieldByName("timeline"));
  lua_->SetGlobal("events");
  lua_pushinteger(L, request_.as_of().seconds());
  lua_->SetGlobal("as_of");
}

absl::StatusOr<bool> Call::When(const std::optional<pi::Expr>& when) {
  if (!when.has_value()) return true;
  return lua_->Truthy(*when);
}

absl::Status Call::Fill(const std::optional<pi::Template>& t,
                        std::string* out) {
  if (!t.has_value()) return absl::OkStatus();
  auto text = lua_->Text(t->lua);
  if (!text.ok()) return text.status();
  *out = *std::move(text);
  return absl::OkStatus();
}

absl::Status Call::Observe(const pi::Observation& o, v1::Rationale* out) {
  auto wanted = When(o.when);
  if (!wanted.ok() || !*wanted) return wanted.status();
  auto* obs = out->add_observed();
  auto label = lua_->Text(o.label.lua);
  if (!label.ok()) return label.status();
  auto value = lua_->Text(o.value.lua);
  if (!value.ok()) return value.status();
  obs->set_label(*std::move(label));
  obs->set_value(*std::move(value));
  if (o.feature.empty()) return absl::OkStatus();
  const pb::Message* m = &request_.features();
  for (const pb::FieldDescriptor* f : o.feature) {
    m = &m->GetReflection()->GetMessage(*m, f);
  }
  v1::Feature feature;
  feature.CopyFrom(*m);
  *obs->mutable_event_ids() = feature.event_ids();
  if (feature.has_at()) *obs->mutable_observed_at() = feature.at();
  return absl::OkStatus();
}

absl::Status Call::Prescribe(const pi::PrescriptionValue& v,
                             v1::Prescription* out) {
  const pb::Reflection* r = out->GetReflection();
  if (v.text.has_value()) {
    auto text = lua_->Text(v.text->lua);
    if (!text.ok()) return text.status();
    r->SetString(out, v.field, *std::move(text));
    return absl::OkStatus();
  }
  double x = v.number.value_or(0);
  if (v.expr.has_value()) {
    auto number = lua_->Number(*v.expr);
    if (!number.ok()) return number.status();
    x = *number;
  }
  if (v.field->cpp_type() == pb::FieldDescriptor::CPPTYPE_DOUBLE) {
    r->SetDouble(out, v.field, x);
    return absl::OkStatus();
  }
  if (x != std::trunc(x) || std::fabs(x) > 1e9) {
    return absl::InternalError(
        absl::StrCat(p_.file_name, ": prescription ", v.field->name(),
                     " must be a whole number, got ", x));
  }
  r->SetInt32(out, v.field, static_cast<int32_t>(x));
  return absl::OkStatus();
}

absl::Status Call::Recommend(const pi::Recommendation& r,
                             v1::Recommendation* out) {
  out->set_id(r.id);
  out->set_severity(r.severity);
  out->set_category(r.category);
  out->set_priority(r.priority);
  out->set_confidence(1.0);
  for (const auto& tag : r.tags) out->add_tags(tag);
  auto summary = lua_->Text(r.summary.lua);
  if (!summary.ok()) return summary.status();
  out->set_summary(*std::move(summary));
  if (absl::Status st = Fill(r.detail, out->mutable_detail()); !st.ok()) {
    return st;
  }
  for (const auto& v : r.prescription) {
    if (absl::Status st = Prescribe(v, out->mutable_prescription()); !st.ok()) {
      return st;
    }
  }
  v1::Rationale* why = out->mutable_rationale();
  why->set_rule_id(r.rule_id);
  for (const auto& s : r.sources) why->add_sources(s);
  for (const auto& [t, field] :
       {std::make_pair(&r.rule, why->mutable_rule()),
        std::make_pair(&r.threshold, why->mutable_threshold()),
        std::make_pair(&r.policy, why->mutable_policy())}) {
    if (absl::Status st = Fill(*t, field); !st.ok()) return st;
  }
  for (const auto& o : r.observed) {
    if (absl::Status st = Observe(o, why); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status Call::Emit(const pi::Rule& rule, v1::PluginResponse* out) {
  if (rule.recommend.has_value()) {
    absl::Status st = Recommend(*rule.recommend, out->add_candidates());
    if (!st.ok()) return st;
  }
  for (const pi::DataGap& gap : rule.data_gaps) {
    auto wanted = When(gap.when);
    if (!wanted.ok()) return wanted.status();
    if (!*wanted) continue;
    auto text = lua_->Text(gap.text.lua);
    if (!text.ok()) return text.status();
    out->add_data_gaps(*std::move(text));
  }
  for (const pi::Contraindication& c : rule.contraindications) {
    auto wanted = When(c.when);
    if (!wanted.ok()) return wanted.status();
    if (!*wanted) continue;
    auto* ci = out->add_contraindications();
    ci->set_id(c.id);
    ci->set_blocked_tag(c.blocked_tag);
    ci->set_rule_id(c.rule_id);
    for (const auto& s : c.sources) ci->add_sources(s);
    auto reason = lua_->Text(c.reason.lua);
    if (!reason.ok()) return reason.status();
    ci->set_reason(*std::move(reason));
  }
  return absl::OkStatus();
}

absl::Status Call::Run(v1::PluginResponse* out) {
  PushRequest();
  for (const pi::Let& let : p_.lets) {
    if (absl::Status st = lua_->Run(let.value); !st.ok()) return st;
    lua_->SetGlobal(let.name);
  }
  auto applies = When(p_.when);
  if (!applies.ok() || !*applies) return applies.status();
  for (const pi::Rule& rule : p_.rules) {
    auto fires = lua_->Truthy(rule.when);
    if (!fires.ok()) return fires.status();
    if (!*fires) continue;
    if (absl::Status st = Emit(rule, out); !st.ok()) return st;
    if (p_.first_match) break;
  }
  return absl::OkStatus();
}

}  // namespace

Protocol::Protocol(std::unique_ptr<const ParsedProtocol> parsed)
    : parsed_(std::move(parsed)) {}
Protocol::~Protocol() = default;

const Metadata& Protocol::metadata() const { return parsed_->metadata; }

absl::StatusOr<std::unique_ptr<Protocol>> Protocol::Parse(
    absl::string_view text, const std::string& file_name,
    const Limits& limits) {
  if (text.size() > limits.max_file_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ":1:1: larger than ", limits.max_file_bytes, " bytes"));
  }
  auto parsed = std::make_unique<ParsedProtocol>();
  parsed->file_name = file_name;
  parsed->limits = limits;
  // Compiling every expression once here finds syntax errors at load.
  auto lua = pi::LuaSandbox::Create(limits, file_name);
  if (!lua.ok()) return lua.status();
  if (absl::Status st = pi::ReadProtocol(text, lua->get(), parsed.get());
      !st.ok()) {
    return st;
  }
  return std::unique_ptr<Protocol>(new Protocol(std::move(parsed)));
}

absl::StatusOr<std::unique_ptr<Protocol>> Protocol::Load(
    const std::string& path, const std::string& file_name,
    const Limits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string text;
  text.resize(limits.max_file_bytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return Parse(text, file_name, limits);
}

absl::StatusOr<v1::PluginResponse> Protocol::Evaluate(
    const v1::PluginRequest& request) const {
  auto lua = pi::LuaSandbox::Create(parsed_->limits, parsed_->file_name);
  if (!lua.ok()) return lua.status();
  v1::PluginResponse response;
  Call call(*parsed_, request, lua->get());
  if (absl::Status st = call.Run(&response); !st.ok()) return st;
  return response;
}

}  // namespace achilles::protocol_file
