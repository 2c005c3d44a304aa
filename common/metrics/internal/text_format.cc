#include "common/metrics/internal/text_format.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace achilles::metrics_internal {

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip form: the same value always prints the same bytes.
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string EscapeLabelValue(absl::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(absl::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void TextWriter::Header(absl::string_view name, absl::string_view help,
                        absl::string_view type) {
  absl::StrAppend(&out_, "# HELP ", name, " ", EscapeHelp(help), "\n",
                  "# TYPE ", name, " ", type, "\n");
}

void TextWriter::Sample(absl::string_view name, absl::string_view suffix,
                        const std::vector<std::string>& label_names,
                        const std::vector<std::string>& label_values,
                        double value, absl::string_view extra_label,
                        absl::string_view extra_value) {
  absl::StrAppend(&out_, name, suffix);
  std::string labels;
  for (size_t i = 0; i < label_names.size() && i < label_values.size(); ++i) {
    if (label_values[i].empty()) continue;
    absl::StrAppend(&labels, labels.empty() ? "" : ",", label_names[i], "=\"",
                    EscapeLabelValue(label_values[i]), "\"");
  }
  if (!extra_label.empty()) {
    absl::StrAppend(&labels, labels.empty() ? "" : ",", extra_label, "=\"",
                    extra_value, "\"");
  }
  if (!labels.empty()) absl::StrAppend(&out_, "{", labels, "}");
  absl::StrAppend(&out_, " ", FormatNumber(value), "\n");
}

void TextWriter::Histogram(absl::string_view name,
                           const std::vector<std::string>& label_names,
                           const std::vector<std::string>& label_values,
                           const std::vector<double>& bounds,
                           const metrics::Histogram::Reading& reading) {
  for (size_t i = 0; i <= bounds.size(); ++i) {
    const std::string le =
        i < bounds.size() ? FormatNumber(bounds[i]) : std::string("+Inf");
    Sample(name, "_bucket", label_names, label_values,
           static_cast<double>(reading.cumulative[i]), "le", le);
  }
  Sample(name, "_sum", label_names, label_values, reading.sum);
  Sample(name, "_count", label_names, label_values,
         static_cast<double>(reading.count));
}

}  // namespace achilles::metrics_internal
