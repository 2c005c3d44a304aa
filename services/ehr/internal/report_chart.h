// The clinician report's chart: one inline SVG of the timeline (pain per
// activity and timing, morning stiffness, weekly run volume, exercise
// sessions) with red flags and recommendations marked. Every plotted
// event is a <g id="ev-<event id>"> so the rationale can link to it.
// Pure and deterministic.
#ifndef ACHILLES_SERVICES_EHR_INTERNAL_REPORT_CHART_H_
#define ACHILLES_SERVICES_EHR_INTERNAL_REPORT_CHART_H_

#include <set>
#include <string>
#include <vector>

#include "achilles/v1/evaluation.pb.h"
#include "achilles/v1/events.pb.h"

namespace achilles::ehr_internal {

// Text safe inside HTML elements and attribute values.
std::string Html(const std::string& s);
// The element id of an event's chart mark.
std::string ChartId(const std::string& event_id);

// `plotted` receives the ids of the events drawn (to link only those).
std::string RenderChart(const std::vector<v1::Event>& events,
                        const v1::Evaluation& evaluation,
                        std::set<std::string>* plotted);

}  // namespace achilles::ehr_internal

#endif  // ACHILLES_SERVICES_EHR_INTERNAL_REPORT_CHART_H_
