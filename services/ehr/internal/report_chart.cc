#include "services/ehr/internal/report_chart.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/time_util.h"

namespace achilles::ehr_internal {
namespace {

constexpr int kWidth = 960, kHeight = 420;
constexpr int kLeft = 48, kRight = 56, kTop = 28;
constexpr int kPainBottom = 270;                // Pain/stiffness panel: 0-10.
constexpr int kBarTop = 300, kBarBottom = 380;  // Weekly run km.

struct Axis {
  int64_t from_us, to_us;
  double X(int64_t us) const {
    const double span = std::max<int64_t>(to_us - from_us, kMicrosPerDay);
    return kLeft + (kWidth - kLeft - kRight) * (us - from_us) / span;
  }
  static double Y(double pain) {
    return kPainBottom - (kPainBottom - kTop) * pain / 10.0;
  }
};

const char* ActivityColour(v1::Activity a) {
  switch (a) {
    case v1::ACTIVITY_RUNNING:
      return "#1f77b4";
    case v1::ACTIVITY_WALKING:
      return "#2ca02c";
    case v1::ACTIVITY_EXERCISE:
      return "#9467bd";
    case v1::ACTIVITY_DAILY_LIVING:
      return "#8c564b";
    case v1::ACTIVITY_HEEL_RAISE_TEST:
      return "#e377c2";
    default:
      return "#7f7f7f";
  }
}

// during = circle, after = square, next morning = triangle.
std::string Mark(const char* timing, double x, double y, const char* colour) {
  if (std::string(timing) == "after") {
    return absl::StrFormat(
        "<rect class=\"pt\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" "
        "fill=\"%s\"/>",
        x - 4, y - 4, colour);
  }
  if (std::string(timing) == "next morning") {
    return absl::StrFormat(
        "<path class=\"pt\" d=\"M%.1f %.1fl5 9h-10z\" fill=\"%s\"/>", x, y - 5,
        colour);
  }
  return absl::StrFormat(
      "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"/>", x,
      y, colour);
}

void PainMarks(const v1::LoadResponse& r, v1::Activity activity, double x,
               const std::string& what, std::string* svg) {
  const char* colour = ActivityColour(activity);
  struct T {
    bool has;
    int value;
    const char* timing;
  };
  for (const T& t :
       {T{r.has_pain_during(), r.pain_during(), "during"},
        T{r.has_pain_after(), r.pain_after(), "after"},
        T{r.has_pain_next_morning(), r.pain_next_morning(), "next morning"}}) {
    if (!t.has) continue;
    absl::StrAppend(svg, Mark(t.timing, x, Axis::Y(t.value), colour));
    absl::StrAppend(svg, "<title>", Html(what), ": pain ", t.timing, " ",
                    t.value, "/10</title>");
  }
}

std::string ExerciseMarks(const v1::ExerciseSession& s, double x,
                          const std::string& day) {
  std::string svg = absl::StrFormat(
      "<path class=\"ex\" d=\"M%.1f %dv10\" stroke=\"#9467bd\" "
      "stroke-width=\"3\"/>",
      x, kPainBottom + 6);
  PainMarks(s.response(), v1::ACTIVITY_EXERCISE, x,
            absl::StrCat(day, " exercise session"), &svg);
  if (s.response().ByteSizeLong() == 0) {
    absl::StrAppend(&svg, "<title>", day, " exercise session</title>");
  }
  return svg;
}

std::string StiffnessMarks(const v1::MorningStiffness& m, double x,
                           const std::string& day) {
  if (!m.has_severity()) return "";
  return absl::StrCat(
      absl::StrFormat("<path class=\"pt stiff\" d=\"M%.1f %.1fl5 5l-5 5l-5 "
                      "-5z\" fill=\"#ff7f0e\"/>",
                      x, Axis::Y(m.severity()) - 5),
      "<title>", day, ": morning stiffness ", m.severity(), "/10",
      m.has_minutes() ? absl::StrCat(", ", m.minutes(), " min") : "",
      "</title>");
}

// One event's marks, or "" when nothing of it is charted.
std::string EventMarks(const v1::Event& e, const Axis& axis) {
  const double x = axis.X(ToMicros(e.occurred_at()));
  const std::string day = FormatDay(ToMicros(e.occurred_at()));
  std::string svg;
  if (e.has_pain_report()) {
    PainMarks(e.pain_report().response(), e.pain_report().activity(), x, day,
              &svg);
  } else if (e.has_run_session()) {
    PainMarks(e.run_session().response(), v1::ACTIVITY_RUNNING, x,
              absl::StrCat(day, " run ", e.run_session().distance_km(), " km"),
              &svg);
  } else if (e.has_exercise_session()) {
    svg = ExerciseMarks(e.exercise_session(), x, day);
  } else if (e.has_morning_stiffness()) {
    svg = StiffnessMarks(e.morning_stiffness(), x, day);
  }
  if (svg.empty()) return "";
  return absl::StrCat("<g class=\"ev\" id=\"", Html(ChartId(e.event_id())),
                      "\">", svg, "</g>");
}

std::string Grid(const Axis& axis) {
  std::string svg;
  for (int p = 0; p <= 10; p += 2) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
                          "class=\"grid\"/><text x=\"%d\" y=\"%.1f\" "
                          "class=\"tick\">%d</text>",
                          kLeft, kWidth - kRight, Axis::Y(p), Axis::Y(p),
                          kLeft - 22, Axis::Y(p) + 4, p);
  }
  absl::StrAppendFormat(&svg,
                        "<text x=\"6\" y=\"%d\" class=\"axis\">pain / "
                        "stiffness (0-10)</text>",
                        kTop - 10);
  // Day labels every week from the end backwards.
  for (int64_t t = axis.to_us; t >= axis.from_us; t -= 7 * kMicrosPerDay) {
    absl::StrAppendFormat(&svg,
                          "<text x=\"%.1f\" y=\"%d\" class=\"tick\" "
                          "text-anchor=\"middle\">%s</text>",
                          axis.X(t), kHeight - 8, FormatDay(t).substr(5));
  }
  return svg;
}

std::string WeeklyBars(const v1::Evaluation& ev, const Axis& axis) {
  const auto& weeks = ev.features().weeks();
  double max_km = 1;
  for (const auto& w : weeks) max_km = std::max(max_km, w.run_km());
  std::string svg = absl::StrFormat(
      "<text x=\"6\" y=\"%d\" class=\"axis\">weekly run km (max %.1f)</text>",
      kBarTop - 6, max_km);
  for (const auto& w : weeks) {
    const double x0 = axis.X(ToMicros(w.start())),
                 x1 = axis.X(ToMicros(w.end()));
    const double h = (kBarBottom - kBarTop) * w.run_km() / max_km;
    absl::StrAppendFormat(
        &svg,
        "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
        "height=\"%.1f\"><title>week to %s: %.1f km in %d runs, %d exercise "
        "sessions</title></rect>",
        x0 + 2, kBarBottom - h, std::max(0.0, x1 - x0 - 4), h,
        FormatDay(ToMicros(w.end())), w.run_km(), w.run_sessions(),
        w.exercise_sessions());
  }
  return svg;
}

// Red flags as red lines at the events behind them; every other
// recommendation as its rank number above its newest observed event.
std::string Markers(const v1::Evaluation& ev, const Axis& axis,
                    const std::map<std::string, int64_t>& when) {
  std::string svg;
  for (const auto& r : ev.recommendations()) {
    int64_t at = INT64_MIN;
    for (const auto& o : r.rationale().observed()) {
      for (const auto& id : o.event_ids()) {
        auto it = when.find(id);
        if (it != when.end()) at = std::max(at, it->second);
      }
    }
    if (at == INT64_MIN) continue;
    const double x = axis.X(at);
    const bool flag = r.rationale().rule_id().rfind("RF-", 0) == 0;
    if (flag) {
      absl::StrAppendFormat(
          &svg,
          "<g class=\"flag\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
          "y2=\"%d\"/><text x=\"%.1f\" y=\"%d\">%s</text></g>",
          x, x, kTop, kPainBottom, x + 3, kTop + 10,
          Html(r.rationale().rule_id()));
    } else {
      absl::StrAppendFormat(&svg,
                            "<a href=\"#rec-%d\"><g class=\"recmark\"><circle "
                            "cx=\"%.1f\" cy=\"%d\" r=\"8\"/><text x=\"%.1f\" "
                            "y=\"%d\">%d</text></g></a>",
                            r.rank(), x, kTop - 12, x, kTop - 8, r.rank());
    }
  }
  return svg;
}

}  // namespace

std::string Html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ChartId(const std::string& event_id) { return "ev-" + event_id; }

std::string RenderChart(const std::vector<v1::Event>& events,
                        const v1::Evaluation& ev,
                        std::set<std::string>* plotted) {
  Axis axis{ToMicros(ev.as_of()) - 28 * kMicrosPerDay, ToMicros(ev.as_of())};
  for (const auto& e : events) {
    axis.from_us = std::min(axis.from_us, ToMicros(e.occurred_at()));
  }
  std::map<std::string, int64_t> when;
  std::string marks;
  for (const auto& e : events) {
    if (ToMicros(e.occurred_at()) > axis.to_us) continue;
    std::string m = EventMarks(e, axis);
    if (m.empty()) continue;
    plotted->insert(e.event_id());
    when[e.event_id()] = ToMicros(e.occurred_at());
    absl::StrAppend(&marks, m);
  }
  return absl::StrCat(
      "<svg id=\"chart\" role=\"img\" aria-label=\"Timeline chart\" "
      "viewBox=\"0 0 ",
      kWidth, " ", kHeight, "\">", Grid(axis), WeeklyBars(ev, axis),
      Markers(ev, axis, when), marks, "</svg>");
}

}  // namespace achilles::ehr_internal
