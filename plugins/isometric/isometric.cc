// Isometric holds for an irritable tendon (docs/clinical/RULES.md D3).
// Relief is not guaranteed in the Achilles (ONE), so holds are optional,
// tracked, and never the only intervention (F-5).
//
// Entry: REACTIVE stage not yet shown settled, high irritability derived by
// the engine (pain at the clinic's stop threshold not easing with warm-up),
// or pain that blocks isotonic work (single-leg heel raise pain in the red
// zone). Move on to HSR once the engine judges irritability settled: good
// sessions over at least a week, the lower bound of S4's "1-2 weeks".
#include <string>
#include <vector>

#include "achilles/plugin_sdk.h"

namespace {

using achilles::sdk::Recommend;
using achilles::sdk::Result;
namespace v1 = achilles::v1;

// Lowest pain in the clinic's red zone (rule C).
int RedFrom(const v1::ClinicPolicy& p) {
  if (p.pain_model() == v1::PAIN_MODEL_SILBERNAGEL_5) {
    const int max_ok = p.silbernagel_max_ok() > 0 ? p.silbernagel_max_ok() : 5;
    return p.silbernagel_strictly_below() ? max_ok : max_ok + 1;
  }
  return 6;
}

// What brought the patient to this plugin; the holds card observes each
// reason that applies.
struct Entry {
  bool settled = false;      // Irritability judged settled by the engine.
  bool reactive = false;     // REACTIVE stage, not shown settled since.
  bool irritable = false;    // High irritability by the engine's evidence.
  bool raise_hurts = false;  // Single-leg heel raise pain in the red zone.
  bool on_holds = false;     // Isometric sessions already logged.
  bool insertional = false;  // Holds on flat ground.
};

Entry Assess(const v1::PluginRequest& req) {
  const v1::Features& f = req.features();
  Entry e;
  e.settled = f.irritability() == v1::IRRITABILITY_SETTLED;
  e.reactive = f.stage() == v1::STAGE_REACTIVE && !e.settled;
  e.irritable = f.irritability() == v1::IRRITABILITY_HIGH;
  // An old heel-raise test says nothing about today: only one inside the
  // clinic's recency window counts (as in the engine's irritability).
  const v1::Feature& raise = f.single_leg_heel_raise_pain();
  const int64_t window_s =
      int64_t{f.recency().window_days() > 0 ? f.recency().window_days() : 14} *
      86400;
  e.raise_hurts = raise.present() && raise.value() >= RedFrom(req.policy()) &&
                  req.as_of().seconds() - raise.at().seconds() <= window_s;
  e.on_holds = f.isometric_sessions().present();
  e.insertional = f.location() == v1::LOCATION_INSERTIONAL ||
                  f.location() == v1::LOCATION_MIXED;
  return e;
}

void PrescribeHolds(Recommend& r, bool insertional) {
  auto* p = r.Prescription();
  p->set_exercise(insertional ? "double-leg isometric heel-raise hold, flat "
                                "ground"
                              : "double-leg isometric heel-raise hold");
  p->set_sets(4);
  p->set_reps(1);
  p->set_hold_seconds(30);
  p->set_hold_seconds_max(45);
  p->set_frequency("4-5 holds per session; optional before a run");
  if (insertional) p->set_surface("flat ground");
}

class Isometric : public achilles::sdk::Plugin {
 public:
  Result Evaluate(const v1::PluginRequest& req,
                  v1::PluginResponse* resp) override {
    const v1::Features& f = req.features();
    if (achilles::sdk::RedFlags(f) == achilles::sdk::RedFlagVerdict::kStop) {
      return Result::Ok();
    }
    const Entry e = Assess(req);
    if (!e.reactive && !e.irritable && !e.raise_hurts && !e.on_holds) {
      return Result::Ok();
    }
    if (f.isometric_pain_change().present() &&
        f.isometric_pain_change().value() > 0) {
      ReduceHolds(f, resp);
    } else if (e.on_holds && e.settled) {
      MoveToIsotonic(f, resp);
    } else {
      Holds(f, e, resp);
    }
    return Result::Ok();
  }

 private:
  void ReduceHolds(const v1::Features& f, v1::PluginResponse* resp) {
    Recommend("reduce_holds")
        .Warning(v1::CATEGORY_EXERCISE)
        .Summary("Pain rose after isometric holds: reduce or stop them")
        .Detail(
            "In the Achilles, holds do not reliably relieve pain and "
            "the most painful tendons can get worse. Reduce the holds "
            "or stop them and review the plan.")
        .Observe("pain after minus before holds",
                 "+" + std::to_string(
                           static_cast<int>(f.isometric_pain_change().value())),
                 f.isometric_pain_change())
        .Rule("D3", "If pain rises after holds, reduce them or stop",
              "pain after holds > pain before")
        .Sources({"ONE"})
        .Tag("exercise")
        .Tag("isometric")
        .Tag("load_reduction")
        .Priority(25)
        .AddTo(resp);
  }

  void MoveToIsotonic(const v1::Features& f, v1::PluginResponse* resp) {
    Recommend("move_to_isotonic")
        .Info(v1::CATEGORY_EXERCISE)
        .Summary(
            "Irritability has settled: move on from holds to heavy "
            "slow resistance")
        .Detail(
            "After about 1-2 weeks of holds with settled irritability, "
            "start isotonic loading.")
        .Observe(
            "isometric sessions logged",
            std::to_string(static_cast<int>(f.isometric_sessions().value())),
            f.isometric_sessions())
        .Observe("irritability settled", f.irritability_evidence(),
                 f.irritability_since())
        .Rule("D3",
              "Progress to HSR after about 1-2 weeks once "
              "irritability has settled",
              ">= 2 sessions over >= 7 days with green pain and a good "
              "24-hour response")
        .Sources({"S4"})
        .Tag("exercise")
        .Tag("progression")
        .Priority(15)
        .AddTo(resp);
  }

  void Holds(const v1::Features& f, const Entry& e, v1::PluginResponse* resp) {
    Recommend r("holds");
    r.Info(v1::CATEGORY_EXERCISE)
        .Summary(std::string("Isometric holds: double-leg rise onto toes, "
                             "hold 30-45 s, 4-5 times") +
                 (e.insertional ? " (on flat ground)" : "") +
                 "; track pain before and after")
        .Detail(
            "Optional pain relief for an irritable tendon, usable before "
            "a run; progress to single-leg. Relief is not guaranteed in "
            "the Achilles: record pain before and after, and keep holds "
            "alongside the main programme, never as the only treatment.")
        .Rule("D3",
              "Reactive or irritable tendon: isometric holds "
              "30-45 s x 4-5, double-leg first",
              "stage = reactive, high irritability (pain at the stop "
              "threshold not easing with warm-up), or single-leg heel raise "
              "pain in the red zone")
        .Sources({"S4", "S3", "RIO", "ONE"})
        .Tag("exercise")
        .Tag("isometric")
        .Priority(25);
    ObserveEntry(r, f, e);
    PrescribeHolds(r, e.insertional);
    r.AddTo(resp);
    if (!e.on_holds) {
      resp->add_data_gaps(
          "Pain before and after isometric holds is not recorded yet; log "
          "it so the response to holds can be judged.");
    }
  }

  void ObserveEntry(Recommend& r, const v1::Features& f, const Entry& e) {
    if (e.reactive) {
      r.Observe("stage", "reactive", f.stage_recorded());
    }
    if (e.irritable) {
      r.Observe("irritability high", f.irritability_evidence(),
                f.irritability_since());
    }
    if (f.single_leg_heel_raise_pain().present()) {
      r.Observe("single-leg heel raise pain",
                std::to_string(
                    static_cast<int>(f.single_leg_heel_raise_pain().value())) +
                    "/10",
                f.single_leg_heel_raise_pain());
    }
    if (e.on_holds) {
      r.Observe(
          "isometric sessions logged",
          std::to_string(static_cast<int>(f.isometric_sessions().value())),
          f.isometric_sessions());
    }
  }
};

}  // namespace

ACH_EXPORT_PLUGIN(Isometric, "isometric", "1.0.0", "Isometric pain relief",
                  "isometric", "finding,exercise_session")
