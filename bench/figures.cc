// Figures over repeated runs (see figures.h).
#include "bench/figures.h"

#include <algorithm>

#include "bench/stats.h"

namespace achilles::bench {

const std::vector<double>* FigureGroup::Find(const std::string& metric) const {
  for (const auto& [name, values] : metrics) {
    if (name == metric) return &values;
  }
  return nullptr;
}

FigureGroup& Figures::Group(const std::string& section,
                            const std::string& name) {
  for (auto& g : groups_) {
    if (g.section == section && g.name == name) return g;
  }
  FigureGroup& g = groups_.emplace_back();
  g.section = section;
  g.name = name;
  return g;
}

const FigureGroup* Figures::Find(const std::string& section,
                                 const std::string& name) const {
  for (const auto& g : groups_) {
    if (g.section == section && g.name == name) return &g;
  }
  return nullptr;
}

void Figures::Add(const std::string& section, const std::string& name,
                  const std::string& metric, double value) {
  FigureGroup& g = Group(section, name);
  for (auto& [m, values] : g.metrics) {
    if (m == metric) {
      values.push_back(value);
      return;
    }
  }
  g.metrics.emplace_back(metric, std::vector<double>{value});
}

void Figures::Note(const std::string& section, const std::string& name,
                   const std::string& note) {
  FigureGroup& g = Group(section, name);
  if (std::find(g.notes.begin(), g.notes.end(), note) == g.notes.end()) {
    g.notes.push_back(note);
  }
}

namespace {

void WriteMetric(JsonWriter* json, const std::vector<double>& values) {
  const Spread s = SpreadOf(values);
  json->BeginObject();
  json->Field("min", s.min);
  json->Field("median", s.median);
  json->Field("max", s.max);
  json->Key("runs");
  json->BeginArray();
  for (double v : values) json->Number(v);
  json->EndArray();
  json->EndObject();
}

void WriteGroup(JsonWriter* json, const FigureGroup& g) {
  json->BeginObject();
  json->Field("section", g.section);
  json->Field("name", g.name);
  json->Key("metrics");
  json->BeginObject();
  for (const auto& [metric, values] : g.metrics) {
    json->Key(metric);
    WriteMetric(json, values);
  }
  json->EndObject();
  json->Key("notes");
  json->BeginArray();
  for (const auto& n : g.notes) json->String(n);
  json->EndArray();
  json->EndObject();
}

}  // namespace

void Figures::WriteJson(JsonWriter* json) const {
  json->BeginArray();
  for (const auto& g : groups_) WriteGroup(json, g);
  json->EndArray();
}

}  // namespace achilles::bench
