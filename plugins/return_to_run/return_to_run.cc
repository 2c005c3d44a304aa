// Return to run (docs/clinical/RULES.md D4): the S1 walk-jog ladder for
// patients coming back to running, and volume management for runners still
// training (S4).
//
// Ladder: L1 1 min jog / 2 min walk x 8 = 24 min, every other day; repeat
// each level 2-3 sessions while pain is within policy and the 24 h response
// is good; then L2 1:1, L3 2:1, L4 3:1 (24 min kept, a design inference),
// L5 gradually longer continuous easy running; then hills, then speed,
// each brought back gradually (S4, S1). Flare: back one level. No
// back-to-back run days early: the engine flags them (D4-B2B) and the
// ladder does not progress. Runs older than the clinic's recency window
// lead to a reassessment, never to progression.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "achilles/plugin_sdk.h"

namespace {

using achilles::sdk::AnyStepBackFlag;
using achilles::sdk::Contraindicate;
using achilles::sdk::Recommend;
using achilles::sdk::Result;
namespace v1 = achilles::v1;

struct Level {
  int jog_s, walk_s, intervals;
  const char* name;
};
// Index = level; 0 unused. 24 minutes per session through L4.
constexpr Level kLadder[] = {
    {0, 0, 0, ""},
    {60, 120, 8, "L1: 1 min easy jog / 2 min walk x 8 (24 min)"},
    {60, 60, 12, "L2: 1 min jog / 1 min walk x 12 (24 min)"},
    {120, 60, 8, "L3: 2 min jog / 1 min walk x 8 (24 min)"},
    {180, 60, 6, "L4: 3 min jog / 1 min walk x 6 (24 min)"},
    {0, 0, 0, "L5: gradually longer continuous easy running"},
};
constexpr int kTopLevel = 5;
constexpr int kRepeatSessions = 2;  // S1: repeat each level 2-3 sessions.
// S1, S0: pain "repeatedly" above policy means back one level; two runs in a
// row is the fewest that repeat.
constexpr int kRepeatedAbovePolicy = 2;

const char kRunRules[] =
    " Flat route, easy pace, every other day (no back-to-back run days "
    "early), 5-minute dynamic warm-up, at least 48 h between hard sessions; "
    "soft surface if one is available; hills and speed last.";

std::string Km(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g km", std::round(v * 10) / 10);
  return buf;
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// Any warning/critical flag other than the step-back ones (RF-7, RF-8), or
// pain in the red zone: the safety screen's "stop running" stands alone.
bool MustStop(const v1::Features& f) {
  return !achilles::sdk::OnlyStepBackFlags(f) ||
         f.pain_zone() == v1::PAIN_ZONE_RED;
}

void PrescribeLevel(Recommend& r, int level) {
  const Level& l = kLadder[level];
  auto* p = r.Prescription();
  p->set_ladder_level(level);
  if (level < kTopLevel) {
    p->set_jog_seconds(l.jog_s);
    p->set_walk_seconds(l.walk_s);
    p->set_intervals(l.intervals);
    p->set_total_minutes(24);
  }
  p->set_frequency("every other day");
  p->set_surface("flat, soft if available");
  p->set_exercise(l.name);
}

// The clinic's pain model, named in the rationale of advice that depends on
// the pain zone.
const char* PainModelName(const v1::ClinicPolicy& p) {
  return p.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5 ? "Silbernagel"
                                                        : "traffic light 3/5";
}

void ObservePainDuring(Recommend& r, const v1::Features& f) {
  if (f.last_pain_during().present()) {
    r.Observe(
        "pain during last run",
        std::to_string(static_cast<int>(f.last_pain_during().value())) + "/10",
        f.last_pain_during());
  }
}

// The weekly-volume headline: after a spike the cap is set against the week
// before it (D4-10PCT); otherwise against last week, naming the patient's
// target when it is over the cap.
std::string VolumeSummary(const v1::Features& f, double cap, bool spike,
                          bool wants_more) {
  if (spike) {
    return "Load spiked: keep next week at most " + Km(cap) +
           " (10% over the " + Km(f.run_km_baseline().value()) +
           " week before the spike)";
  }
  if (wants_more) {
    return "Cap next week at " + Km(cap) + " (at most +10%), not " +
           Km(f.target_weekly_km().value());
  }
  return "Pain acceptable: continue; raise weekly distance by at most 10% "
         "(up to " +
         Km(cap) + ")";
}

// Either half of the 24-hour response (settle time, next morning) recorded
// for the latest session.
bool ResponseRecorded(const v1::Features& f) {
  return f.last_settle_hours().present() ||
         f.last_morning_vs_baseline() != v1::COMPARISON_UNSPECIFIED;
}

// The weekly-volume card's detail. The verdict lets green pain through
// without a recorded 24 h response (traffic light), so the card must not
// claim one.
std::string VolumeDetail(bool spike, bool response_known) {
  if (spike) {
    return "Pain is within the clinic's limits, but last week's running rose "
           "more than 10%. Come back to within 10% of the week before the "
           "spike.";
  }
  return std::string(response_known
                         ? "Pain is within the clinic's limits and settles "
                           "within 24 hours."
                         : "Pain is within the clinic's limits; the 24-hour "
                           "response to the last run is not recorded, so "
                           "check it settles within 24 hours.") +
         " Increase weekly mileage by no more than 10%.";
}

class ReturnToRun : public achilles::sdk::Plugin {
 public:
  Result Evaluate(const v1::PluginRequest& req,
                  v1::PluginResponse* resp) override {
    const v1::Features& f = req.features();
    if (MustStop(f)) return Result::Ok();
    // The server validates levels 0-5; a plugin indexes its table only with
    // levels it knows, whoever calls it.
    const bool on_ladder = f.last_ladder_level().present() &&
                           f.last_ladder_level().value() >= 1 &&
                           f.last_ladder_level().value() <= kTopLevel;
    const bool stale = f.recency().runs_stale();
    const bool running = f.days_since_last_run().present() && !stale;
    if (on_ladder && f.last_ladder_level().value() < kTopLevel) {
      Contraindicate(resp, "hills_last", "hills",
                     "return to run: hills come last, after continuous easy "
                     "running",
                     "D4", {"S4", "S1"});
      Contraindicate(resp, "speed_last", "speed_work",
                     "return to run: speed work comes last", "D4",
                     {"S4", "S1"});
      Contraindicate(resp, "no_back_to_back", "back_to_back_runs",
                     "return to run: no back-to-back run days early", "D4",
                     {"S1", "S0"});
    }
    if (on_ladder && stale) return Reassess(req, resp);
    if (on_ladder && f.last_ladder_level().value() >= kTopLevel) {
      return FinalStage(req, resp);
    }
    if (on_ladder) return Ladder(req, resp);
    if (running) return Runner(req, resp);
    return Start(req, resp);
  }

 private:
  // Runs older than the recency window cannot justify the next level.
  Result Reassess(const v1::PluginRequest& req, v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    const int level = static_cast<int>(f.last_ladder_level().value());
    const v1::Feature& age = f.recency().last_run_age_days();
    Recommend("ladder_reassess")
        .Info(v1::CATEGORY_RETURN_TO_RUN)
        .Summary(
            "Reassess before running again: the last walk-jog session "
            "(level " +
            std::to_string(level) + ") was " +
            std::to_string(static_cast<int>(age.value())) + " days ago")
        .Detail("Runs older than the clinic's recency window (" +
                std::to_string(f.recency().window_days()) +
                " days) cannot justify the next level. Reassess, then "
                "restart the ladder at the level the assessment supports "
                "and record each session's pain and 24-hour response.")
        .Observe("walk-jog level of the last run", std::to_string(level),
                 f.last_ladder_level())
        .Observe("days since the last run",
                 std::to_string(static_cast<int>(age.value())), age)
        .Rule("D4",
              "Progress one level only after 2-3 good, current sessions at "
              "the level",
              "latest run older than the recency window")
        .Sources({"S1"})
        .Policy("recency window " + std::to_string(f.recency().window_days()) +
                " days (clinic policy)")
        .Priority(20)
        .AddTo(resp);
    return Result::Ok();
  }

  // D4's last stage, after sustained good continuous running at L5: hills
  // first, then speed, each repeated before the next (S4, S1).
  Result FinalStage(const v1::PluginRequest& req, v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    const int ok = static_cast<int>(f.continuous_runs_ok().value());
    const int hills = static_cast<int>(f.hill_runs_ok().value());
    const int speed = static_cast<int>(f.speed_runs_ok().value());
    if (AnyStepBackFlag(f) || f.pain_zone() != v1::PAIN_ZONE_GREEN ||
        !f.progression_allowed() || ok < kRepeatSessions) {
      return Ladder(req, resp);
    }
    const bool insertional = f.location() == v1::LOCATION_INSERTIONAL ||
                             f.location() == v1::LOCATION_MIXED;
    Recommend r(hills < kRepeatSessions   ? "add_hills"
                : speed < kRepeatSessions ? "add_speed"
                                          : "return_complete");
    r.Info(v1::CATEGORY_RETURN_TO_RUN)
        .Observe("good continuous runs in a row", std::to_string(ok),
                 f.continuous_runs_ok())
        .Observe("of them on hills", std::to_string(hills), f.hill_runs_ok())
        .Observe("of them at speed", std::to_string(speed), f.speed_runs_ok())
        .Rule("D4",
              "Hills and speed come last, one at a time, after sustained "
              "pain-free continuous running; repeat each step 2-3 times",
              ">= 2 good continuous runs; then >= 2 good hill runs before "
              "speed")
        .Sources({"S4", "S1"})
        .Tag("running")
        .Tag("safe_to_continue_running")
        .Priority(20);
    if (hills < kRepeatSessions) {
      DescribeHills(r, insertional);
    } else if (speed < kRepeatSessions) {
      DescribeSpeed(r);
    } else {
      DescribeReturnComplete(r);
    }
    r.AddTo(resp);
    return Result::Ok();
  }

  void DescribeHills(Recommend& r, bool insertional) {
    r.Summary(insertional ? "Reintroduce hills gradually: gentle uphill "
                            "sections on one easy run; no downhill"
                          : "Reintroduce hills gradually: gentle hills on "
                            "one easy run, speed later")
        .Detail(std::string("Continuous easy running has gone well. Add "
                            "hills first, gently, and repeat 2-3 times "
                            "with a good 24-hour response before adding "
                            "speed.") +
                (insertional ? " Downhill running compresses the "
                               "insertion: uphill only."
                             : ""))
        .Tag("hills")
        .Tag("progression")
        .Tag("run_progression");
  }

  void DescribeSpeed(Recommend& r) {
    r.Summary(
         "Hills are tolerated: reintroduce speed gradually, at least 48 h "
         "between hard sessions")
        .Detail(
            "Add short faster sections to one run, then build up; keep at "
            "least 48 hours between hard sessions and repeat 2-3 times "
            "with a good 24-hour response before doing more.")
        .Tag("speed_work")
        .Tag("progression")
        .Tag("run_progression");
  }

  void DescribeReturnComplete(Recommend& r) {
    r.Summary(
         "Return to running complete: hills and speed tolerated; keep heavy "
         "calf raises year-round")
        .Detail(
            "Keep monitoring pain and the 24-hour response. Maintain heavy "
            "calf raises all year; race only when symptoms have been mild "
            "and predictable for weeks.");
  }

  // On the walk-jog ladder: step back, hold, progress or repeat, in that
  // order of precedence.
  Result Ladder(const v1::PluginRequest& req, v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    const int level = static_cast<int>(f.last_ladder_level().value());
    const int ok = static_cast<int>(f.sessions_ok_at_level().value());
    if (AnyStepBackFlag(f) ||
        f.runs_above_green_at_level().value() >= kRepeatedAbovePolicy) {
      return LadderStepBack(req, level, resp);
    }
    if (f.pain_zone() == v1::PAIN_ZONE_AMBER) {
      return LadderHold(req, level, resp);
    }
    const bool back_to_back = f.back_to_back_run_dates_size() > 0;
    if (ok >= kRepeatSessions && f.progression_allowed() && !back_to_back &&
        level < kTopLevel) {
      return LadderProgress(f, level, ok, resp);
    }
    return LadderRepeat(f, level, ok, back_to_back, resp);
  }

  Result LadderStepBack(const v1::PluginRequest& req, int level,
                        v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    const int back = level > 1 ? level - 1 : 1;
    Recommend r("ladder_step_back");
    r.Warning(v1::CATEGORY_RETURN_TO_RUN)
        .Summary("Go back to walk-jog level " + std::to_string(back) +
                 " and repeat it before trying level " + std::to_string(level) +
                 " again")
        .Detail(std::string("The runs at level ") + std::to_string(level) +
                " were followed by a flare (pain above the clinic's limit "
                "on repeated runs, slow settling, worse next morning, or a "
                "worsening trend)." +
                kRunRules)
        .Observe("walk-jog level of last run", std::to_string(level),
                 f.last_ladder_level())
        .Rule("D4",
              "Pain above policy, pain into the next day, or a "
              "worsening trend: go back one level",
              "RF-8 or RF-7 fired, or pain above the green zone on 2 runs "
              "in a row at the level")
        .Sources({"S1", "S0"})
        .Tag("running")
        .Tag("regression")
        .Priority(30);
    if (AnyStepBackFlag(f)) {
      r.Observe("safety flags",
                achilles::sdk::RedFlagFired(f, "RF-7")
                    ? "worsening trend (RF-7)"
                    : "24 h response (RF-8)",
                {f.last_load_event_id()});
    }
    const v1::Feature& above = f.runs_above_green_at_level();
    if (above.value() >= kRepeatedAbovePolicy) {
      r.Observe("runs in a row with pain above the green zone",
                std::to_string(static_cast<int>(above.value())), above)
          .Policy(PainModelName(req.policy()));
    }
    PrescribeLevel(r, back);
    r.AddTo(resp);
    return Result::Ok();
  }

  Result LadderHold(const v1::PluginRequest& req, int level,
                    v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    // The run's pain during it when rated, otherwise after it.
    const v1::Feature& pain = f.last_pain_during().present()
                                  ? f.last_pain_during()
                                  : f.last_pain_after();
    Recommend r("ladder_hold");
    r.Info(v1::CATEGORY_RETURN_TO_RUN)
        .Summary("Hold walk-jog level " + std::to_string(level) +
                 "; ease the pace and shorten the jog if needed")
        .Detail(std::string("Pain is in the amber zone: repeat this level, "
                            "do not progress.") +
                kRunRules)
        .Observe("walk-jog level of last run", std::to_string(level),
                 f.last_ladder_level())
        .Observe("pain with last run",
                 std::to_string(static_cast<int>(pain.value())) + "/10", pain)
        .Rule("D4",
              "Repeat each level while pain is borderline; progress "
              "only with pain within policy and a good 24 h response",
              "pain in the amber zone")
        .Policy(PainModelName(req.policy()))
        .Sources({"S1", "S4"})
        .Tag("running")
        .Priority(20);
    PrescribeLevel(r, level);
    r.AddTo(resp);
    return Result::Ok();
  }

  Result LadderProgress(const v1::Features& f, int level, int ok,
                        v1::PluginResponse* resp) {
    const int next = level + 1;
    Recommend r("ladder_progress");
    r.Info(v1::CATEGORY_RETURN_TO_RUN)
        .Summary("Progress to walk-jog " + std::string(kLadder[next].name) +
                 ", every other day")
        .Detail(std::string(std::to_string(ok)) + " sessions at level " +
                std::to_string(level) +
                " went well: pain within policy and settled within 24 h." +
                kRunRules)
        .Observe("good sessions in a row at level " + std::to_string(level),
                 std::to_string(ok), f.sessions_ok_at_level())
        .Rule("D4",
              "Repeat each level 2-3 sessions; progress when pain is "
              "within policy and the 24 h response is good",
              ">= 2 good sessions at the current level")
        .Sources({"S1"})
        .Tag("running")
        .Tag("progression")
        .Tag("run_progression")
        .Tag("safe_to_continue_running")
        .Priority(20);
    ObservePainDuring(r, f);
    PrescribeLevel(r, next);
    r.AddTo(resp);
    return Result::Ok();
  }

  Result LadderRepeat(const v1::Features& f, int level, int ok,
                      bool back_to_back, v1::PluginResponse* resp) {
    Recommend r("ladder_repeat");
    r.Info(v1::CATEGORY_RETURN_TO_RUN)
        .Summary("Repeat walk-jog level " + std::to_string(level) +
                 ", every other day")
        .Detail(std::string(std::to_string(ok)) +
                " good session(s) so far at this level; repeat it 2-3 times "
                "before moving on." +
                (f.progression_allowed()
                     ? ""
                     : " Progression is on hold: " +
                           f.progression_blocked_because() + ".") +
                (back_to_back ? " Runs fell on back-to-back days: keep a "
                                "rest day between runs before moving on."
                              : "") +
                kRunRules)
        .Observe("good sessions in a row at level " + std::to_string(level),
                 std::to_string(ok), f.sessions_ok_at_level())
        .Rule("D4", "Repeat each level 2-3 sessions before progressing",
              "< 2 good sessions at the current level, progression on "
              "hold, or back-to-back run days")
        .Sources({"S1"})
        .Tag("running")
        .Tag("safe_to_continue_running")
        .Priority(20);
    if (back_to_back) {
      r.Observe("back-to-back run days", Join(f.back_to_back_run_dates()),
                achilles::sdk::Ids(f.back_to_back_run_event_ids()));
    }
    // Neither half of the 24-hour response (settle time, next morning) is
    // recorded for the last run: the count of good sessions rests on less.
    if (!ResponseRecorded(f)) r.Confidence(0.6);
    PrescribeLevel(r, level);
    r.AddTo(resp);
    return Result::Ok();
  }

  // A runner not on the ladder: cut volume after a flare or amber pain;
  // otherwise cap the weekly increase when pain allows, and advise on
  // cadence.
  Result Runner(const v1::PluginRequest& req, v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    const double km = f.run_km_last_7d().value();
    if (AnyStepBackFlag(f) || f.pain_zone() == v1::PAIN_ZONE_AMBER) {
      return CutVolume(f, km, resp);
    }
    if (f.pain_zone() == v1::PAIN_ZONE_GREEN && f.progression_allowed()) {
      WeeklyVolume(req, km, resp);
    }
    Cadence(f, resp);
    return Result::Ok();
  }

  Result CutVolume(const v1::Features& f, double km, v1::PluginResponse* resp) {
    // Amber alone is borderline (S4: "cut pace and distance, monitor");
    // a flag that fired (RF-7, RF-8) makes it a warning, and then volume
    // goes first, one change at a time (S4: cut volume, watch a week).
    const bool flagged = AnyStepBackFlag(f);
    Recommend r("cut_volume");
    r.Severity(flagged ? v1::SEVERITY_WARNING : v1::SEVERITY_INFO)
        .Category(v1::CATEGORY_RETURN_TO_RUN)
        .Summary("Cut running volume by 20-30% (" + Km(km * 0.7) + " to " +
                 Km(km * 0.8) + " this week), " +
                 (flagged ? "keep the pace" : "ease the pace") +
                 ", watch for a week before other changes")
        .Detail(
            "Reduce volume first; no hills, speed or extra distance "
            "until symptoms settle. Cross-train (cycling, swimming, "
            "pool running) to keep fitness; avoid the rower or "
            "elliptical if painful.")
        .Observe("running in the last 7 days", Km(km), f.run_km_last_7d())
        .Rule("D4",
              "Runners still training with symptoms: cut volume "
              "first by 20-30%, watch 1 week before other changes; amber "
              "pain: cut pace and distance",
              "RF-8, RF-7 or amber pain while running")
        .Sources({"S4", "S3", "S0"})
        .Tag("running")
        .Tag("load_reduction")
        .Priority(30);
    if (f.consecutive_worse_mornings().present()) {
      r.Observe("mornings in a row with stiffness worse than usual",
                std::to_string(
                    static_cast<int>(f.consecutive_worse_mornings().value())),
                f.consecutive_worse_mornings());
    }
    if (f.pain_zone() == v1::PAIN_ZONE_AMBER) {
      r.Observe("pain zone of last run", "amber", {f.last_load_event_id()});
    }
    auto* p = r.Prescription();
    p->set_weekly_distance_km_min(std::round(km * 0.7 * 10) / 10);
    p->set_weekly_distance_km_max(std::round(km * 0.8 * 10) / 10);
    p->set_duration_weeks(1);
    r.AddTo(resp);
    return Result::Ok();
  }

  void WeeklyVolume(const v1::PluginRequest& req, double km,
                    v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    // After a spike the cap comes from the week before it (D4-10PCT).
    const bool spike = f.load_spike();
    const double cap = spike ? f.run_km_cap().value() : km * 1.10;
    const bool wants_more =
        f.target_weekly_km().present() && f.target_weekly_km().value() > cap;
    const bool response_known = ResponseRecorded(f);
    Recommend r("weekly_volume");
    r.Info(v1::CATEGORY_RETURN_TO_RUN)
        .Summary(VolumeSummary(f, cap, spike, wants_more))
        .Detail(VolumeDetail(spike, response_known))
        .Observe("running in the last 7 days", Km(km), f.run_km_last_7d())
        .Rule("D4", "Weekly mileage increase at most 10%",
              spike ? "next week <= the week before the spike x 1.10"
                    : "next week <= last 7 days x 1.10")
        .Sources({"S4"})
        .Policy(PainModelName(req.policy()))
        .Tag("running")
        .Tag("safe_to_continue_running")
        .Priority(20);
    if (spike) {
      r.Observe("running in the 7 days before the spike",
                Km(f.run_km_baseline().value()), f.run_km_baseline());
    } else {
      r.Tag("run_progression");
    }
    if (wants_more) {
      r.Observe("weekly distance the patient wants",
                Km(f.target_weekly_km().value()), f.target_weekly_km());
    }
    ObservePainDuring(r, f);
    if (!response_known) r.Confidence(0.6);
    r.Prescription()->set_weekly_distance_km_max(std::round(cap * 10) / 10);
    r.AddTo(resp);
  }

  // Cadence +5-10% (S4) unless the last run was already at 170 spm or more.
  void Cadence(const v1::Features& f, v1::PluginResponse* resp) {
    const bool cadence_known = f.last_cadence_spm().present();
    if (cadence_known && f.last_cadence_spm().value() >= 170) return;
    Recommend c("cadence");
    c.Info(v1::CATEGORY_RETURN_TO_RUN)
        .Summary("Raise running cadence by 5-10%" +
                 std::string(cadence_known ? ""
                                           : " if it is below 170-180 "
                                             "steps a minute"))
        .Detail(
            "A slightly higher step rate (170-180 spm if lower) "
            "reduces load per step on the tendon.")
        .Rule("D4",
              "Runners still training: cadence +5-10% (170-180 spm "
              "if lower)",
              "cadence < 170 spm or not recorded")
        .Sources({"S4"})
        .Tag("running")
        .Priority(10);
    if (cadence_known) {
      c.Observe("cadence of last run",
                std::to_string(static_cast<int>(f.last_cadence_spm().value())) +
                    " spm",
                f.last_cadence_spm());
    } else {
      c.Observe("cadence", "not recorded", f.days_since_last_run());
      c.Confidence(0.6);
    }
    auto* p = c.Prescription();
    p->set_cadence_increase_pct_min(5);
    p->set_cadence_increase_pct_max(10);
    c.AddTo(resp);
  }

  Result Start(const v1::PluginRequest& req, v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    if (f.location() == v1::LOCATION_UNSPECIFIED) return Result::Ok();
    const bool tear_out =
        f.tear_ruled_out().present() && f.tear_ruled_out().value() == 1;
    const bool strength_ok = f.days_on_programme().present() &&
                             f.pain_zone() == v1::PAIN_ZONE_GREEN &&
                             f.last_load_kind() == "exercise";
    // "Stable week to week" needs at least two weeks to compare.
    const bool stable = f.pain_trend() == v1::TREND_STABLE ||
                        f.pain_trend() == v1::TREND_IMPROVING;
    if (achilles::sdk::RedFlags(f) != achilles::sdk::RedFlagVerdict::kClear ||
        !stable || !strength_ok || !f.progression_allowed()) {
      return Result::Ok();
    }
    if (!tear_out) {
      resp->add_data_gaps(
          "Return to running can start once a tear has been ruled out; "
          "record the finding.");
      return Result::Ok();
    }
    Recommend r("ladder_start");
    r.Info(v1::CATEGORY_RETURN_TO_RUN)
        .Summary(
            "Start walk-jog level 1: 1 min easy jog / 2 min walk x 8 "
            "(24 min), every other day")
        .Detail(std::string("Symptoms are stable, strength work is "
                            "tolerated and a tear has been ruled out.") +
                kRunRules)
        .Observe("tear ruled out", "yes", f.tear_ruled_out())
        .Observe("pain zone of latest strength session", "green",
                 {f.last_load_event_id()})
        .Rule("D4",
              "Entry: symptoms stable, strength work tolerated, no red "
              "flag, tear ruled out",
              "no red flag, weekly trend stable or improving, green pain "
              "with strength work")
        .Sources({"S1", "S4"})
        .Tag("running")
        .Tag("safe_to_continue_running")
        .Priority(20);
    PrescribeLevel(r, 1);
    r.AddTo(resp);
    return Result::Ok();
  }
};

}  // namespace

ACH_EXPORT_PLUGIN(ReturnToRun, "return_to_run", "1.0.0", "Return to run",
                  "return_to_run,walk_jog",
                  "run_session,pain_report,morning_stiffness,training_goal")
