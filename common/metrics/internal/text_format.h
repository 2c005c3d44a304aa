// Writing the Prometheus text exposition format (0.0.4): headers, samples,
// histogram series, label escaping and number formatting. Internal to
// common/metrics.
#ifndef ACHILLES_COMMON_METRICS_INTERNAL_TEXT_FORMAT_H_
#define ACHILLES_COMMON_METRICS_INTERNAL_TEXT_FORMAT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/metrics/metrics.h"

namespace achilles::metrics_internal {

// The shortest text that reads back as `v` ("+Inf", "-Inf", "NaN" too).
std::string FormatNumber(double v);
// A label value with \, " and newline escaped.
std::string EscapeLabelValue(absl::string_view v);
// HELP text with \ and newline escaped.
std::string EscapeHelp(absl::string_view v);

class TextWriter {
 public:
  void Header(absl::string_view name, absl::string_view help,
              absl::string_view type);
  // name+suffix{labels} value. Labels with an empty value are left out.
  void Sample(absl::string_view name, absl::string_view suffix,
              const std::vector<std::string>& label_names,
              const std::vector<std::string>& label_values, double value,
              absl::string_view extra_label = "",
              absl::string_view extra_value = "");
  void Histogram(absl::string_view name,
                 const std::vector<std::string>& label_names,
                 const std::vector<std::string>& label_values,
                 const std::vector<double>& bounds,
                 const metrics::Histogram::Reading& reading);
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace achilles::metrics_internal

#endif  // ACHILLES_COMMON_METRICS_INTERNAL_TEXT_FORMAT_H_
