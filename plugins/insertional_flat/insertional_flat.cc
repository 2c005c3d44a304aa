// Insertional tendinopathy: flat-ground loading (docs/clinical/RULES.md D2,
// Jonsson 2008) with heel-lift footwear advice, and the hard blocks INS-X1..X3
// that the engine enforces against every other plugin's advice.
#include <cstdio>
#include <string>
#include <vector>

#include "achilles/plugin_sdk.h"

namespace {

using achilles::sdk::AnyStepBackFlag;
using achilles::sdk::Contraindicate;
using achilles::sdk::Ids;
using achilles::sdk::Recommend;
using achilles::sdk::RedFlags;
using achilles::sdk::RedFlagVerdict;
using achilles::sdk::Result;
namespace v1 = achilles::v1;

std::string Mm(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g mm", v);
  return buf;
}

// The loading card's prescription (D2, JON): the same dose whether the card
// says keep going or reduce.
void PrescribeFlatLoading(Recommend& r) {
  auto* p = r.Prescription();
  p->set_exercise("eccentric calf raise on flat ground, no dorsiflexion");
  p->set_sets(3);
  p->set_reps(15);
  p->set_sessions_per_day(2);
  p->set_sessions_per_week(7);
  p->set_frequency("twice a day, 7 days a week");
  p->set_duration_weeks(12);
  p->set_surface("flat floor, never below floor level");
}

// D2 (S4): a heel lift of 5-10 mm, in both shoes.
constexpr double kMinLiftMm = 5;
constexpr double kMaxLiftMm = 10;

// Whether the footwear record behind the heel-lift feature has the lift in
// both shoes, as D2 asks.
bool LiftInBothShoes(const v1::PluginRequest& req) {
  const v1::Feature& lift = req.features().heel_lift_mm();
  if (!lift.present() || lift.event_ids().empty()) return false;
  for (const auto& e : req.timeline()) {
    if (e.event_id() == lift.event_ids(0) && e.has_footwear()) {
      return e.footwear().heel_lift_both_shoes();
    }
  }
  return false;
}

class InsertionalFlat : public achilles::sdk::Plugin {
 public:
  Result Evaluate(const v1::PluginRequest& req,
                  v1::PluginResponse* resp) override {
    const v1::Features& f = req.features();
    if (f.location() != v1::LOCATION_INSERTIONAL &&
        f.location() != v1::LOCATION_MIXED) {
      return Result::Ok();
    }
    const std::vector<std::string> finding = Ids(f.finding_event_ids());

    // Hard blocks hold whatever else is going on, red flags included.
    HardBlocks(resp);

    // Load reduction stands even beside a warning flag; only a critical
    // flag (stop all loading) silences it.
    const RedFlagVerdict flags = RedFlags(f);
    if (f.irritability() == v1::IRRITABILITY_HIGH &&
        flags != RedFlagVerdict::kStop) {
      IrritableCard(f, resp);
    }

    // RF-7/RF-8 alone ask loading to step back, not to stop: the loading
    // card stands, reduced (LoadingCard).
    if (flags == RedFlagVerdict::kHold || flags == RedFlagVerdict::kStop) {
      return Result::Ok();
    }
    LoadingCard(f, finding, resp);
    FootwearCard(req, finding, resp);
    return Result::Ok();
  }

 private:
  // INS-X1..X3: the engine suppresses any plugin's advice with these tags.
  void HardBlocks(v1::PluginResponse* resp) {
    Contraindicate(resp, "INS-X1/heel_below_step", "heel_below_step",
                   "insertional tendinopathy: no heel drop below step level",
                   "INS-X1", {"S4", "JON"});
    Contraindicate(resp, "INS-X1/loaded_dorsiflexion", "loaded_dorsiflexion",
                   "insertional tendinopathy: no loaded dorsiflexion", "INS-X1",
                   {"S4", "JON"});
    Contraindicate(resp, "INS-X2/aggressive_stretch", "aggressive_stretch",
                   "insertional tendinopathy: no aggressive stretching into "
                   "dorsiflexion",
                   "INS-X2", {"S4"});
    Contraindicate(resp, "INS-X2/dorsiflexion_stretch", "dorsiflexion_stretch",
                   "insertional tendinopathy: no stretching into dorsiflexion",
                   "INS-X2", {"S4"});
    Contraindicate(resp, "INS-X3/downhill_running", "downhill_running",
                   "insertional tendinopathy: downhill running compresses "
                   "the insertion",
                   "INS-X3", {"S4"});
  }

  void IrritableCard(const v1::Features& f, v1::PluginResponse* resp) {
    Recommend("irritable_modify")
        .Info(v1::CATEGORY_EXERCISE)
        .Summary(
            "While the tendon is irritable: modify deep squats and "
            "long lunges")
        .Detail(
            "Deep squats and long lunges compress the insertion; "
            "shorten or avoid them until irritability settles.")
        .Observe("irritability high", f.irritability_evidence(),
                 f.irritability_since())
        .Rule("D2", "While irritable, modify deep squats and long lunges",
              "irritability high")
        .Sources({"S3"})
        .Tag("load_reduction")
        .Priority(15)
        .AddTo(resp);
  }

  // Why flat-ground loading is reduced, if it is.
  enum class Reduce { kNo, kPainRose, kRedZone, kStepBackFlag };

  // Pain after training rose since the previous session or was in the
  // clinic's red zone (rule C: lighter load after exercise), or the screen
  // asks loading to step back (RF-7, RF-8).
  static Reduce ReductionFor(const v1::Features& f) {
    if (f.pain_after_exercise_increase().present() &&
        f.pain_after_exercise_increase().value() > 0) {
      return Reduce::kPainRose;
    }
    if (f.last_load_kind() == "exercise" &&
        f.pain_zone() == v1::PAIN_ZONE_RED) {
      return Reduce::kRedZone;
    }
    return AnyStepBackFlag(f) ? Reduce::kStepBackFlag : Reduce::kNo;
  }

  // Flat-ground eccentric loading (D2), or a reduced version of it.
  void LoadingCard(const v1::Features& f,
                   const std::vector<std::string>& finding,
                   v1::PluginResponse* resp) {
    const Reduce reduce = ReductionFor(f);
    Recommend r(reduce != Reduce::kNo ? "flat_loading_reduce" : "flat_loading");
    r.Category(v1::CATEGORY_EXERCISE)
        .Observe("tendinopathy location",
                 f.location() == v1::LOCATION_MIXED
                     ? "mid-portion and insertional"
                     : "insertional",
                 finding)
        .Rule("D2",
              "Insertional: eccentric loading with no dorsiflexion, "
              "lowering only to floor level; 3x15, twice a day, 7 days "
              "a week, 12 weeks",
              "location = insertional")
        .Sources({"JON", "S4", "S3"})
        .Tag("exercise")
        .Priority(20);
    if (reduce != Reduce::kNo) {
      DescribeReduction(r, f, reduce);
    } else {
      DescribeFullDose(r);
    }
    if (f.visa_a_latest().present()) {
      r.Observe("VISA-A",
                std::to_string(static_cast<int>(f.visa_a_latest().value())),
                f.visa_a_latest());
    }
    PrescribeFlatLoading(r);
    r.AddTo(resp);
  }

  void DescribeReduction(Recommend& r, const v1::Features& f, Reduce why) {
    r.Severity(v1::SEVERITY_WARNING)
        .Summary(ReductionSummary(why))
        .Detail(
            "Keep to flat ground and reduce the sets until pain after "
            "training is back within the clinic's limit and no higher than "
            "before, and the symptoms settle within 24 hours.")
        .Tag("load_reduction");
    switch (why) {
      case Reduce::kPainRose:
        r.Observe("rise in pain after training vs previous session",
                  "+" + std::to_string(static_cast<int>(
                            f.pain_after_exercise_increase().value())),
                  f.pain_after_exercise_increase());
        break;
      case Reduce::kRedZone:
        r.Observe("pain zone of the last session", "red",
                  {f.last_load_event_id()});
        break;
      case Reduce::kStepBackFlag:
      case Reduce::kNo:
        r.Observe("screen flags asking loading to step back", StepBackFlags(f));
        break;
    }
  }

  static const char* ReductionSummary(Reduce why) {
    switch (why) {
      case Reduce::kPainRose:
        return "Reduce flat-ground loading: pain after training rose";
      case Reduce::kRedZone:
        return "Reduce flat-ground loading: pain after training above the "
               "clinic's limit";
      default:
        return "Reduce flat-ground loading: the safety screen asks loading "
               "to step back";
    }
  }

  // "RF-7, RF-8", as fired.
  static std::string StepBackFlags(const v1::Features& f) {
    std::string out;
    for (const std::string& flag : f.red_flags()) {
      if (!achilles::sdk::IsStepBackFlag(flag)) continue;
      out += (out.empty() ? "" : ", ") + flag;
    }
    return out;
  }

  void DescribeFullDose(Recommend& r) {
    r.Severity(v1::SEVERITY_INFO)
        .Summary(
            "Flat-ground eccentric calf raises: 3x15, twice a day, "
            "every day, 12 weeks; never below floor level")
        .Detail(
            "Lower slowly to the floor only, not off a step. Slow "
            "raises. While the tendon is irritable, modify deep squats "
            "and long lunges. Expect a slower course (4-9 months); "
            "specialist input is advised.");
  }

  // Footwear (D2, S4): 5-10 mm heel lift in both shoes, shoe drop >= 8 mm.
  void FootwearCard(const v1::PluginRequest& req,
                    const std::vector<std::string>& finding,
                    v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    const bool low_drop =
        f.shoe_drop_mm().present() && f.shoe_drop_mm().value() < 8;
    const bool flat_shoes = f.barefoot_or_minimalist().present() &&
                            f.barefoot_or_minimalist().value() == 1;
    const bool lift_ok =
        f.heel_lift_mm().present() && f.heel_lift_mm().value() >= kMinLiftMm &&
        f.heel_lift_mm().value() <= kMaxLiftMm && LiftInBothShoes(req);
    if (lift_ok && !low_drop && !flat_shoes) return;
    Recommend fw("heel_lift");
    fw.Info(v1::CATEGORY_FOOTWEAR)
        .Summary(
            "Heel lift of 5-10 mm in both shoes; shoes with at least "
            "8 mm drop; avoid flat shoes and barefoot walking")
        .Detail(
            "A heel lift reduces compression at the insertion. Use it "
            "in both shoes; avoid flat shoes and barefoot walking "
            "during a flare.")
        .Rule("D2",
              "Insertional: heel raise 5-10 mm in both shoes, shoe "
              "drop >= 8 mm, no flat shoes or barefoot in a flare",
              "shoe drop < 8 mm, or no heel lift of 5-10 mm in both shoes")
        .Sources({"S4"})
        .Tag("footwear")
        .Priority(10);
    ObserveFootwear(fw, f, finding, flat_shoes, LiftInBothShoes(req));
    auto* fp = fw.Prescription();
    fp->set_heel_lift_mm_min(5);
    fp->set_heel_lift_mm_max(10);
    fp->set_shoe_drop_mm_min(8);
    fw.AddTo(resp);
  }

  void ObserveFootwear(Recommend& fw, const v1::Features& f,
                       const std::vector<std::string>& finding, bool flat_shoes,
                       bool both_shoes) {
    if (f.shoe_drop_mm().present()) {
      fw.Observe("shoe drop", Mm(f.shoe_drop_mm().value()), f.shoe_drop_mm());
    } else {
      fw.Observe("shoe drop", "not recorded", finding);
    }
    if (flat_shoes) {
      fw.Observe("barefoot or minimalist shoes", "yes",
                 f.barefoot_or_minimalist());
    }
    if (f.heel_lift_mm().present()) {
      fw.Observe("heel lift",
                 Mm(f.heel_lift_mm().value()) +
                     (both_shoes ? " in both shoes" : " (not in both shoes)"),
                 f.heel_lift_mm());
    }
  }
};

}  // namespace

ACH_EXPORT_PLUGIN(InsertionalFlat, "insertional_flat", "1.0.0",
                  "Insertional flat-ground loading", "insertional_flat",
                  "finding,exercise_session,footwear")
