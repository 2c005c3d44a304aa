// RenderReport: the self-contained clinician page (no external resource,
// one small inline script that only highlights chart points).
#include <set>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/ehr/ehr.h"
#include "services/ehr/internal/report_chart.h"

namespace achilles::ehr {
namespace {

using ehr_internal::ChartId;
using ehr_internal::Html;

constexpr char kStyle[] = R"CSS(
body{font:15px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:22px;margin:0 0 4px}.meta{color:#555;margin-bottom:12px}
#chart{width:100%;height:auto;border:1px solid #ddd;background:#fff}
.grid{stroke:#eee}.tick{font-size:10px;fill:#666}.axis{font-size:11px;fill:#333}
.bar{fill:#aec7e8}.flag line{stroke:#d62728;stroke-width:2;stroke-dasharray:4 3}
.flag text{fill:#d62728;font-size:11px;font-weight:bold}
.recmark circle{fill:#fff;stroke:#333}.recmark text{font-size:10px;text-anchor:middle}
.ev.hl .pt{stroke:#000;stroke-width:3}
.legend span{margin-right:14px;font-size:13px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
.rec{border-left:6px solid #7f7f7f;padding:8px 12px;margin:12px 0;background:#fafafa}
.rec.critical{border-color:#d62728}.rec.warning{border-color:#ff7f0e}.rec.info{border-color:#1f77b4}
.rec h3{margin:0 0 4px;font-size:16px}.why{font-size:13px;color:#333}
.obs a{color:#0b5394}
@media print{body{margin:0;max-width:none}.rec{break-inside:avoid}a{color:inherit;text-decoration:none}
.noprint{display:none}#chart{border:none}}
)CSS";

// Highlights an event's chart marks while its observed value is hovered
// or focused; marks the page ready for the browser test.
constexpr char kScript[] = R"JS(
(function(){
  function mark(id,on){var g=document.getElementById(id);if(g)g.classList.toggle('hl',on);}
  var links=document.querySelectorAll('a[data-ev]');
  for(var i=0;i<links.length;i++){(function(a){
    var id=a.getAttribute('data-ev');
    a.addEventListener('mouseenter',function(){mark(id,true);});
    a.addEventListener('mouseleave',function(){mark(id,false);});
    a.addEventListener('focus',function(){mark(id,true);});
    a.addEventListener('blur',function(){mark(id,false);});
  })(links[i]);}
  document.body.setAttribute('data-ready',String(links.length));
})();
)JS";

const char* SeverityClass(v1::Severity s) {
  return s == v1::SEVERITY_CRITICAL  ? "critical"
         : s == v1::SEVERITY_WARNING ? "warning"
                                     : "info";
}

std::string Legend() {
  struct L {
    const char* colour;
    const char* label;
  };
  std::string out = "<div class=\"legend\">";
  for (const L& l : {L{"#1f77b4", "running"}, L{"#2ca02c", "walking"},
                     L{"#9467bd", "exercise"}, L{"#8c564b", "daily living"},
                     L{"#ff7f0e", "morning stiffness"},
                     L{"#aec7e8", "weekly run km"}, L{"#d62728", "red flag"}}) {
    absl::StrAppend(&out, "<span><i class=\"sw\" style=\"background:", l.colour,
                    "\"></i>", l.label, "</span>");
  }
  return out +
         "<span>&#9679; during &#9632; after &#9650; next morning</span></div>";
}

std::string Observed(const v1::Observation& o,
                     const std::set<std::string>& plotted) {
  std::string text =
      absl::StrCat(Html(o.label()), ": <b>", Html(o.value()), "</b>");
  if (o.has_observed_at()) {
    absl::StrAppend(&text, " (", FormatDay(ToMicros(o.observed_at())), ")");
  }
  for (const auto& id : o.event_ids()) {
    if (plotted.count(id) == 0) continue;
    return absl::StrCat("<li class=\"obs\"><a href=\"#", Html(ChartId(id)),
                        "\" data-ev=\"", Html(ChartId(id)), "\">", text,
                        "</a></li>");
  }
  return absl::StrCat("<li class=\"obs\">", text, "</li>");
}

std::string Recommendation(const v1::Recommendation& r,
                           const std::set<std::string>& plotted) {
  const auto& why = r.rationale();
  std::string out = absl::StrCat(
      "<section class=\"rec ", SeverityClass(r.severity()), "\" id=\"rec-",
      r.rank(), "\"><h3>", r.rank(), ". ", Html(r.summary()), "</h3>");
  if (!r.detail().empty())
    absl::StrAppend(&out, "<p>", Html(r.detail()), "</p>");
  absl::StrAppend(&out, "<div class=\"why\"><b>Rule ", Html(why.rule_id()),
                  "</b>: ", Html(why.rule()));
  if (!why.threshold().empty()) {
    absl::StrAppend(&out, "<br><b>Threshold</b>: ", Html(why.threshold()));
  }
  if (!why.policy().empty()) {
    absl::StrAppend(&out, "<br><b>Clinic policy</b>: ", Html(why.policy()));
  }
  absl::StrAppend(&out, "<ul>");
  for (const auto& o : why.observed())
    absl::StrAppend(&out, Observed(o, plotted));
  absl::StrAppend(&out, "</ul>");
  if (why.sources_size() > 0) {
    absl::StrAppend(&out, "<b>Sources</b>: ");
    for (int i = 0; i < why.sources_size(); ++i) {
      absl::StrAppend(&out, i ? ", " : "", Html(why.sources(i)));
    }
  }
  return out + "</div></section>";
}

}  // namespace

std::string RenderReport(const v1::Patient& patient,
                         const std::vector<v1::Event>& events,
                         const v1::Evaluation& ev) {
  std::set<std::string> plotted;
  const std::string chart = ehr_internal::RenderChart(events, ev, &plotted);
  std::string recs;
  for (const auto& r : ev.recommendations()) {
    absl::StrAppend(&recs, Recommendation(r, plotted));
  }
  return absl::StrCat(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Achilles report: ",
      Html(patient.patient_id()), "</title><style>", kStyle,
      "</style></head><body><h1>Achilles tendinopathy report</h1>"
      "<div class=\"meta\">Patient ",
      Html(patient.patient_id()), " &middot; as of ",
      FormatMicros(ToMicros(ev.as_of())), " &middot; ", events.size(),
      " events &middot; evaluation ", Html(ev.evaluation_id().substr(0, 12)),
      "</div>", Legend(), chart, "<h2>Recommendations, ranked</h2>",
      recs.empty() ? "<p>No recommendation.</p>" : recs, "<script>", kScript,
      "</script></body></html>\n");
}

}  // namespace achilles::ehr
