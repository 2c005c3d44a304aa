// Mid-portion heavy slow resistance (docs/clinical/RULES.md D1, Beyer
// 2015), with the Alfredson eccentric alternative when the clinic's policy
// prefers it (F-4).
//
// Entry: location MID-PORTION (or MIXED, where the engine applies the
// insertional blocks to this advice too), no warning or critical red flag,
// irritability settled: not HIGH by the engine's evidence, and a recorded
// REACTIVE stage only once sessions since have shown it settled. A patient
// already on the programme whose only flags are step-back flags (RF-7, RF-8)
// gets the step-back dose instead. Sessions older than the clinic's recency
// window lead to a reassessment, never to "N more sessions this week".
#include <cstdio>
#include <string>
#include <vector>

#include "achilles/plugin_sdk.h"

namespace {

using achilles::sdk::Ids;
using achilles::sdk::Recommend;
using achilles::sdk::RedFlags;
using achilles::sdk::RedFlagVerdict;
using achilles::sdk::Result;
namespace v1 = achilles::v1;

struct Dose {
  int sets = 0;
  int rm = 0;
  bool sourced = true;  // false: weeks 6-8, not in the retrieved BEY copy.
};

// BEY: wk 1 3x15RM; wk 2-3 3x12RM; wk 4-5 4x10RM; wk 9-12 4x6RM.
Dose DoseForWeek(int week) {
  if (week <= 1) return {3, 15, true};
  if (week <= 3) return {3, 12, true};
  if (week <= 5) return {4, 10, true};
  if (week <= 8) return {4, 10, false};
  return {4, 6, true};
}

// S4's home calf-raise ladder. `heel_below_step` only for mid-portion (F#3).
struct LadderStep {
  v1::Exercise exercise;
  const char* name;
  int sets, reps, reps_max;
  // Reps per set that count as "manageable" before moving on: the step's
  // own dose, and 3x12 before adding load (S4).
  int reps_to_progress;
};
constexpr LadderStep kLadder[] = {
    {v1::EXERCISE_DOUBLE_LEG_HEEL_RAISE_FLAT,
     "double-leg calf raise on flat ground", 3, 15, 0, 15},
    {v1::EXERCISE_SINGLE_LEG_HEEL_RAISE_FLAT,
     "single-leg calf raise on flat ground", 3, 12, 0, 12},
    {v1::EXERCISE_SINGLE_LEG_HEEL_RAISE_STEP,
     "single-leg calf raise on a step, heel below step level", 3, 10, 12, 12},
    {v1::EXERCISE_LOADED_HEEL_RAISE,
     "single-leg calf raise with a backpack or dumbbell", 3, 12, 0, 12},
};
constexpr int kLadderSteps = 4;

int LadderIndex(v1::Exercise e) {
  for (int i = 0; i < kLadderSteps; ++i) {
    if (kLadder[i].exercise == e) return i;
  }
  return -1;
}

constexpr int kProgrammeWeeks = 12;  // BEY.
constexpr int kSessionsPerWeek = 3;  // BEY.

// Too irritable for isotonic loading: high by evidence, or labelled
// REACTIVE and not shown settled since the label (D1 entry, D3).
bool Irritable(const v1::Features& f) {
  if (f.irritability() == v1::IRRITABILITY_HIGH) return true;
  return f.stage() == v1::STAGE_REACTIVE &&
         f.irritability() != v1::IRRITABILITY_SETTLED;
}

// Pain after the latest exercise session in the clinic's red zone: rule C
// asks for a lighter load (BEY: more pain after training means a lighter
// load), so the programme steps back rather than repeat the dose.
bool RedAfterExercise(const v1::Features& f) {
  return f.last_load_kind() == "exercise" && f.pain_zone() == v1::PAIN_ZONE_RED;
}

const char* StageWords(v1::Stage s) {
  switch (s) {
    case v1::STAGE_REACTIVE:
      return "reactive";
    case v1::STAGE_DISREPAIR:
      return "disrepair";
    case v1::STAGE_DEGENERATIVE:
      return "degenerative";
    default:
      return "not recorded";
  }
}

void Prescribe(Recommend& r, int week, const Dose& d) {
  // Full-range raises with the forefoot on a plate take the loaded ankle
  // into dorsiflexion: INS-X1 holds every HSR card back for a tendon with
  // an insertional part (MIXED).
  r.Tag("loaded_dorsiflexion");
  auto* p = r.Prescription();
  p->set_exercise(
      "seated bent-knee calf raise (weight on thigh); straight-knee calf "
      "raise in leg press; standing straight-knee calf raise, forefoot on a "
      "plate, barbell");
  p->set_sets(d.sets);
  p->set_reps(d.rm);
  p->set_rm(d.rm);
  p->set_tempo("3 s up / 3 s down, full range");
  p->set_load(std::to_string(d.rm) + "RM (heaviest load for " +
              std::to_string(d.rm) + " reps)");
  p->set_sessions_per_week(kSessionsPerWeek);
  p->set_frequency("3 sessions per week, on separate days");
  p->set_rest_between_sets_seconds(120);
  p->set_duration_weeks(kProgrammeWeeks);
  r.Detail(r.Build().detail() +
           " Rest 2-3 min between sets and 5 min between exercises. "
           "Discomfort during the exercise is acceptable; more pain after "
           "training means a lighter load or slower progression. Week " +
           std::to_string(week) + " of 12." +
           (d.sourced ? ""
                      : " The dose for weeks 6-8 is not in the retrieved copy "
                        "of the source: the week 4-5 dose is held until a "
                        "clinician sets it."));
  if (!d.sourced) r.Confidence(0.5);
}

// The home ladder's next step from the last session on it: back one step
// after a flare, up one once the full dose is manageable in the green zone,
// otherwise the same step again.
struct LadderMove {
  int next = 0;
  std::string id;
  std::string why;
  bool flare = false;
};

LadderMove ChooseLadderMove(const v1::Features& f, const v1::ExerciseSession& x,
                            int at) {
  const LadderStep& step = kLadder[at];
  const bool manageable = x.completed() && x.sets() >= step.sets &&
                          x.reps() >= step.reps_to_progress;
  const bool pain_rose = f.pain_after_exercise_increase().present() &&
                         f.pain_after_exercise_increase().value() > 0;
  LadderMove m;
  m.flare = pain_rose || RedFlags(f) != RedFlagVerdict::kClear ||
            f.last_morning_vs_baseline() == v1::COMPARISON_WORSE ||
            RedAfterExercise(f);
  m.next = at;
  m.id = "ladder_repeat";
  if (m.flare) {
    m.next = at > 0 ? at - 1 : 0;
    m.id = "ladder_step_back";
    m.why =
        "Pain after training rose or was above the clinic's limit, the "
        "tendon was slow to settle, or the next morning was worse: go back "
        "one step.";
  } else if (manageable && f.pain_zone() == v1::PAIN_ZONE_GREEN &&
             f.progression_allowed() && at + 1 < kLadderSteps) {
    m.next = at + 1;
    m.id = "ladder_progress";
    m.why =
        "The full dose was manageable with pain in the green zone: move "
        "up one step, changing one thing at a time.";
  } else {
    m.why = manageable ? "Repeat this step until pain stays in the green zone "
                         "and the next morning is no worse."
                       : "Repeat this step until the full dose is manageable.";
  }
  return m;
}

std::string LadderSummary(int at, int next) {
  const LadderStep& target = kLadder[next];
  return std::string(next > at   ? "Progress to "
                     : next < at ? "Step back to "
                                 : "Repeat ") +
         target.name + ", 3x" + std::to_string(target.reps) +
         (target.reps_max > 0 ? "-" + std::to_string(target.reps_max) : "") +
         ", 3 s up / 3 s down";
}

// "single-leg calf raise on flat ground, 3x12, completed"
std::string DescribeLadderSession(const v1::ExerciseSession& x, int at) {
  return std::string(kLadder[at].name) + ", " + std::to_string(x.sets()) + "x" +
         std::to_string(x.reps()) +
         (x.completed() ? ", completed" : ", not completed");
}

// Tags the engine acts on: load up or down, and heel_below_step, which the
// insertional blocks (INS-X1) suppress.
void TagLadderMove(Recommend& r, int at, int next) {
  if (next > at) {
    r.Tag("progression").Tag("exercise_progression").Tag("load_increase");
  }
  if (next < at) r.Tag("load_reduction");
  if (kLadder[next].exercise == v1::EXERCISE_SINGLE_LEG_HEEL_RAISE_STEP) {
    r.Tag("heel_below_step");
  }
}

void PrescribeLadderStep(Recommend& r, const LadderStep& target) {
  auto* p = r.Prescription();
  p->set_exercise(std::string(target.name) +
                  "; plus seated bent-knee (soleus) calf raise");
  p->set_sets(target.sets);
  p->set_reps(target.reps);
  p->set_reps_max(target.reps_max);
  p->set_tempo("3 s up / 3 s down");
  if (target.exercise == v1::EXERCISE_LOADED_HEEL_RAISE) {
    p->set_load("add a backpack or dumbbell");
  }
}

// What made the programme step back, each as an observation.
void ObserveStepBackReasons(Recommend& r, const v1::Features& f, bool pain_rose,
                            bool morning_worse) {
  if (pain_rose) {
    r.Observe("rise in pain after training vs previous session",
              "+" + std::to_string(static_cast<int>(
                        f.pain_after_exercise_increase().value())),
              f.pain_after_exercise_increase());
  }
  if (morning_worse) {
    r.Observe("next morning after last session", "worse than usual",
              {f.last_load_event_id()});
  }
  if (RedAfterExercise(f)) {
    r.Observe("pain zone of the last session", "red (above the clinic's limit)",
              {f.last_load_event_id()});
  }
  if (f.last_settle_hours().present() && f.last_settle_hours().value() > 24) {
    char hours[32];
    std::snprintf(hours, sizeof hours, "%g h", f.last_settle_hours().value());
    r.Observe("settle time after the last session", hours,
              f.last_settle_hours());
  }
}

class MidportionHsr : public achilles::sdk::Plugin {
 public:
  Result Evaluate(const v1::PluginRequest& req,
                  v1::PluginResponse* resp) override {
    const v1::Features& f = req.features();
    if (f.location() != v1::LOCATION_MIDPORTION &&
        f.location() != v1::LOCATION_MIXED) {
      return Result::Ok();
    }
    // Patients on S4's home ladder follow it instead of the gym weeks.
    const v1::Event* ladder_event = nullptr;
    for (const auto& e : req.timeline()) {
      if (e.has_exercise_session() &&
          LadderIndex(e.exercise_session().exercise()) >= 0 &&
          e.exercise_session().programme_week() == 0) {
        ladder_event = &e;
      }
    }
    const bool on_programme = f.hsr_last_week().present();
    const RedFlagVerdict flags = RedFlags(f);
    if (flags != RedFlagVerdict::kClear &&
        !((on_programme || ladder_event != nullptr) &&
          flags == RedFlagVerdict::kStepBack)) {
      return Result::Ok();  // The safety screen's advice stands alone.
    }
    if ((on_programme || ladder_event != nullptr) &&
        f.recency().exercise_stale()) {
      return Reassess(req, resp);
    }
    if (req.policy().strengthening_programme() ==
        v1::STRENGTHENING_PROGRAMME_ECCENTRIC) {
      return Eccentric(req, resp);
    }
    if (ladder_event != nullptr && !on_programme) {
      return Ladder(req, *ladder_event, resp);
    }
    if (!on_programme) return Start(req, resp);
    return OnProgramme(req, resp);
  }

 private:
  Result Start(const v1::PluginRequest& req, v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    if (Irritable(f)) return Result::Ok();
    Recommend r("programme_start");
    r.Info(v1::CATEGORY_EXERCISE)
        .Summary(
            "Start heavy slow resistance: week 1, 3x15RM, 3 s up / 3 s "
            "down, 3 sessions a week")
        .Detail(
            "Three bilateral calf-raise exercises, full range. Without "
            "gym equipment, the home ladder starts with double-leg "
            "calf raises on flat ground, 3x15, 3 s up / 3 s down (S4).")
        .Observe("tendinopathy location", "mid-portion",
                 Ids(f.finding_event_ids()))
        .Observe("stage", StageWords(f.stage()), f.stage_recorded())
        .Rule("D1",
              "Mid-portion, no red flag, irritability settled: heavy "
              "slow resistance 3 sessions/week for 12 weeks",
              "location = mid-portion and no warning or critical red flag")
        .Sources({"BEY", "S4"})
        .Tag("exercise")
        .Tag("heavy_loading")
        .Priority(20);
    if (f.irritability() == v1::IRRITABILITY_SETTLED) {
      r.Observe("irritability settled", f.irritability_evidence(),
                f.irritability_since());
    }
    Prescribe(r, 1, DoseForWeek(1));
    r.AddTo(resp);
    return Result::Ok();
  }

  // A patient on the gym programme: step back, repeat, finish, move on, or
  // continue the week, in that order of precedence.
  Result OnProgramme(const v1::PluginRequest& req, v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    const int week = static_cast<int>(f.hsr_last_week().value());
    const int sessions = static_cast<int>(f.hsr_sessions_last_week().value());
    const bool pain_rose = f.pain_after_exercise_increase().present() &&
                           f.pain_after_exercise_increase().value() > 0;
    const bool morning_worse =
        f.last_load_kind() == "exercise" &&
        f.last_morning_vs_baseline() == v1::COMPARISON_WORSE;
    if (pain_rose || morning_worse || RedAfterExercise(f) ||
        RedFlags(f) != RedFlagVerdict::kClear) {
      return StepBack(f, week, pain_rose, morning_worse, resp);
    }
    if (sessions >= kSessionsPerWeek && !f.progression_allowed()) {
      return RepeatWeek(f, week, sessions, resp);
    }
    if (sessions >= kSessionsPerWeek && week >= kProgrammeWeeks) {
      return Complete(f, week, resp);
    }
    if (sessions >= kSessionsPerWeek) return NextWeek(f, week, sessions, resp);
    return ContinueWeek(f, week, sessions, resp);
  }

  Result StepBack(const v1::Features& f, int week, bool pain_rose,
                  bool morning_worse, v1::PluginResponse* resp) {
    const int back = week > 1 ? week - 1 : 1;
    Recommend r("step_back");
    r.Warning(v1::CATEGORY_EXERCISE)
        .Summary("Lighter load: repeat the week " + std::to_string(back) +
                 " dose (" + std::to_string(DoseForWeek(back).sets) + "x" +
                 std::to_string(DoseForWeek(back).rm) +
                 "RM); do not increase load")
        .Detail(
            "Pain after training rose or was above the clinic's limit, the "
            "tendon was slow to settle, the next morning was worse, or "
            "symptoms are rising week on week: go back to the previous load "
            "before progressing again.")
        .Observe("HSR week reached", std::to_string(week), f.hsr_last_week())
        .Rule("D1",
              "More pain after training, or next morning worse: "
              "lighter load or slower progression; go back to the "
              "previous load",
              "pain after training rising or in the red zone, next morning "
              "WORSE, or RF-7/RF-8")
        .Sources({"BEY", "S0", "S4"})
        .Tag("exercise")
        .Tag("heavy_loading")
        .Tag("load_reduction")
        .Priority(30);
    ObserveStepBackReasons(r, f, pain_rose, morning_worse);
    Prescribe(r, back, DoseForWeek(back));
    r.AddTo(resp);
    return Result::Ok();
  }

  // The week is done but the pain policy says hold: repeat this week's
  // dose rather than leave the patient without a prescription.
  Result RepeatWeek(const v1::Features& f, int week, int sessions,
                    v1::PluginResponse* resp) {
    Recommend r("repeat_week");
    r.Info(v1::CATEGORY_EXERCISE)
        .Summary("Repeat HSR week " + std::to_string(week) + " (" +
                 std::to_string(DoseForWeek(week).sets) + "x" +
                 std::to_string(DoseForWeek(week).rm) + "RM) before moving on")
        .Detail("Week " + std::to_string(week) +
                " is complete, but progression is on hold: " +
                f.progression_blocked_because() + ".")
        .Observe("sessions completed in HSR week " + std::to_string(week),
                 std::to_string(sessions), f.hsr_sessions_last_week())
        .Observe("progression on hold because", f.progression_blocked_because(),
                 {f.last_load_event_id()})
        .Rule("D1",
              "Progress only when pain and the 24 h response allow; "
              "otherwise slower progression",
              "progression not allowed by the pain policy")
        .Sources({"BEY", "S4"})
        .Tag("exercise")
        .Tag("heavy_loading")
        .Priority(20);
    Prescribe(r, week, DoseForWeek(week));
    r.AddTo(resp);
    return Result::Ok();
  }

  Result Complete(const v1::Features& f, int week, v1::PluginResponse* resp) {
    Recommend("programme_complete")
        .Info(v1::CATEGORY_EXERCISE)
        .Summary(
            "12-week HSR programme complete: keep heavy calf raises "
            "year-round")
        .Detail(
            "Maintenance: continue heavy calf raises all year; move "
            "on to energy-storage work (faster raises, hopping) once "
            "daily activities and strength work are tolerated.")
        .Observe("HSR week reached", std::to_string(week), f.hsr_last_week())
        .Rule("D1", "Programme runs 12 weeks; maintenance afterwards",
              "week >= 12 with 3 sessions")
        .Sources({"BEY", "S4", "S1"})
        .Tag("exercise")
        .Tag("progression")
        .AddTo(resp);
    return Result::Ok();
  }

  Result NextWeek(const v1::Features& f, int week, int sessions,
                  v1::PluginResponse* resp) {
    const int next = week + 1;
    const Dose d = DoseForWeek(next);
    Recommend r("next_week");
    r.Info(v1::CATEGORY_EXERCISE)
        .Summary("Progress to HSR week " + std::to_string(next) + ": " +
                 std::to_string(d.sets) + "x" + std::to_string(d.rm) +
                 "RM, 3 s up / 3 s down, 3 sessions a week")
        .Detail("Week " + std::to_string(week) +
                " was completed without more pain after training.")
        .Observe("sessions completed in HSR week " + std::to_string(week),
                 std::to_string(sessions), f.hsr_sessions_last_week())
        .Rule("D1",
              "Beyer dosing: wk 1 3x15RM, wk 2-3 3x12RM, wk 4-5 "
              "4x10RM, wk 9-12 4x6RM; 3 sessions/week",
              "3 sessions done and no rise in pain after training")
        .Sources({"BEY"})
        .Tag("exercise")
        .Tag("heavy_loading")
        .Tag("progression")
        .Tag("exercise_progression")
        .Priority(20);
    if (DoseForWeek(week).rm != d.rm) r.Tag("load_increase");
    if (f.pain_after_exercise_increase().present()) {
      r.Observe("change in pain after training vs previous session",
                std::to_string(
                    static_cast<int>(f.pain_after_exercise_increase().value())),
                f.pain_after_exercise_increase());
    }
    Prescribe(r, next, d);
    r.AddTo(resp);
    return Result::Ok();
  }

  Result ContinueWeek(const v1::Features& f, int week, int sessions,
                      v1::PluginResponse* resp) {
    Recommend r("continue_week");
    r.Info(v1::CATEGORY_EXERCISE)
        .Summary("Continue HSR week " + std::to_string(week) + ": " +
                 std::to_string(kSessionsPerWeek - sessions) +
                 " more session(s) this week at the same dose")
        .Detail("Complete 3 sessions before moving to the next week.")
        .Observe("sessions completed in HSR week " + std::to_string(week),
                 std::to_string(sessions), f.hsr_sessions_last_week())
        .Rule("D1", "3 sessions per week at the week's dose",
              "sessions this week < 3")
        .Sources({"BEY"})
        .Tag("exercise")
        .Tag("heavy_loading")
        .Priority(20);
    Prescribe(r, week, DoseForWeek(week));
    r.AddTo(resp);
    return Result::Ok();
  }

  Result Ladder(const v1::PluginRequest& req, const v1::Event& last,
                v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    const auto& x = last.exercise_session();
    const int at = LadderIndex(x.exercise());
    const LadderMove move = ChooseLadderMove(f, x, at);
    Recommend r(move.id);
    r.Severity(move.flare ? v1::SEVERITY_WARNING : v1::SEVERITY_INFO)
        .Category(v1::CATEGORY_EXERCISE)
        .Summary(LadderSummary(at, move.next))
        .Detail(move.why +
                " Keep the seated bent-knee (soleus) raise with weight "
                "on the thigh alongside.")
        .Observe("last calf-raise step", DescribeLadderSession(x, at),
                 {last.event_id()}, &last.occurred_at())
        .Rule("D1",
              "Home ladder: double-leg flat 3x15 -> single-leg flat "
              "3x12 -> single-leg on step 3x10-12 (mid-portion only) -> "
              "add load once 3x12 is manageable; regress when worse "
              "after training",
              "full dose completed, pain green, progression allowed")
        .Sources({"S4", "S1", "BEY"})
        .Tag("exercise")
        .Priority(20);
    if (f.last_pain_after().present()) {
      r.Observe(
          "pain after last session",
          std::to_string(static_cast<int>(f.last_pain_after().value())) + "/10",
          f.last_pain_after());
    }
    TagLadderMove(r, at, move.next);
    PrescribeLadderStep(r, kLadder[move.next]);
    r.AddTo(resp);
    return Result::Ok();
  }

  // Sessions older than the recency window: the programme's place is
  // unknown, so reassess rather than count sessions of an old week.
  Result Reassess(const v1::PluginRequest& req, v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    const v1::Feature& age = f.recency().last_exercise_age_days();
    const int days = static_cast<int>(age.value());
    Recommend r("reassess_programme");
    r.Info(v1::CATEGORY_EXERCISE)
        .Summary(
            "Reassess before resuming calf loading: the last session "
            "was " +
            std::to_string(days) + " days ago")
        .Detail("Exercise sessions older than the clinic's recency window (" +
                std::to_string(f.recency().window_days()) +
                " days) cannot say where the programme stands. Reassess "
                "strength and pain, then restart at the load the assessment "
                "supports.")
        .Observe("days since the last exercise session", std::to_string(days),
                 age)
        .Rule("D1",
              "Progress the programme on current sessions: 3 a week, the "
              "week's dose, pain after training not rising",
              "latest exercise session older than the recency window")
        .Sources({"BEY", "S4"})
        .Policy("recency window " + std::to_string(f.recency().window_days()) +
                " days (clinic policy)")
        .Tag("exercise")
        .Priority(20);
    if (f.hsr_last_week().present()) {
      r.Observe("HSR week reached",
                std::to_string(static_cast<int>(f.hsr_last_week().value())),
                f.hsr_last_week());
    }
    r.AddTo(resp);
    return Result::Ok();
  }

  Result Eccentric(const v1::PluginRequest& req, v1::PluginResponse* resp) {
    const v1::Features& f = req.features();
    if (Irritable(f)) return Result::Ok();
    const bool alfredson =
        req.policy().eccentric_dose() != v1::ECCENTRIC_DOSE_MODERATE;
    Recommend r("eccentric");
    r.Info(v1::CATEGORY_EXERCISE)
        .Observe("tendinopathy location", "mid-portion",
                 Ids(f.finding_event_ids()))
        .Policy(alfredson ? "eccentric dose preset: Alfredson"
                          : "eccentric dose preset: moderate")
        .Tag("exercise")
        .Priority(20);
    auto* p = r.Prescription();
    if (alfredson) {
      r.Summary(
           "Eccentric heel drops below step level: 3x15, twice daily, "
           "12 weeks")
          .Detail(
              "Lower slowly with the heel below step level; the clinic "
              "prefers the eccentric programme to HSR.")
          .Rule("D1",
                "Eccentric alternative: 3x15 twice daily, 12 weeks, "
                "heel below step (mid-portion only)",
                "location = mid-portion")
          .Sources({"ALF", "FAH"})
          .Tag("heel_below_step")
          .Tag("loaded_dorsiflexion");
      p->set_exercise("eccentric heel drop off a step");
      p->set_sets(3);
      p->set_reps(15);
      p->set_sessions_per_day(2);
      p->set_duration_weeks(12);
      p->set_frequency("twice daily");
    } else {
      r.Summary(
           "Eccentric calf raises on flat ground: 2-3 sets of 8-12, "
           "slow lowering")
          .Detail(
              "Flat ground first; the clinic uses the moderate eccentric "
              "dose.")
          .Rule("D1",
                "Moderate eccentric dose: 2-3x8-12, slow lowering, flat "
                "first",
                "location = mid-portion")
          .Sources({"S2"});
      p->set_exercise("eccentric calf raise on flat ground");
      p->set_sets(3);
      p->set_reps(8);
      p->set_reps_max(12);
      p->set_tempo("slow lowering");
    }
    r.AddTo(resp);
    return Result::Ok();
  }
};

}  // namespace

ACH_EXPORT_PLUGIN(MidportionHsr, "midportion_hsr", "1.0.0",
                  "Mid-portion heavy slow resistance", "hsr,eccentric",
                  "finding,exercise_session,pain_report")
