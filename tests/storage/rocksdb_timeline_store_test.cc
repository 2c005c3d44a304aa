#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "storage/timeline_store.h"
#include "tests/common/events.h"
#include "tests/common/store_scan.h"
#include "tests/common/temp_dir.h"

namespace achilles::storage {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::Note;
using ::achilles::testing::TempDir;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    StoreOptions options;
    options.path = dir_.Sub("db");
    auto store = OpenRocksDbStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void AddPatient(const std::string& clinic, const std::string& id) {
    v1::Patient p;
    p.set_patient_id(id);
    ASSERT_TRUE(store_->UpsertPatient(clinic, p).ok());
  }

  std::vector<std::string> Ids(const std::vector<v1::Event>& events) {
    std::vector<std::string> ids;
    for (const auto& e : events) ids.push_back(e.event_id());
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<TimelineStore> store_;
};

TEST_F(StoreTest, UpsertReportsCreatedThenUpdatedAndKeepsCreatedAt) {
  v1::Patient p;
  p.set_patient_id("p1");
  auto created = store_->UpsertPatient("c", p);
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(*created);
  const auto first_created = p.created_at();
  p.set_display_name("renamed");
  auto again = store_->UpsertPatient("c", p);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto got = store_->GetPatient("c", "p1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->display_name(), "renamed");
  EXPECT_EQ(got->created_at().seconds(), first_created.seconds());
}

TEST_F(StoreTest, TimelineIsOrderedByTimeThenId) {
  AddPatient("c", "p");
  ASSERT_TRUE(store_
                  ->AppendEvents("c", "p",
                                 {Note("b", Day(2)), Note("a", Day(2)),
                                  Note("z", Day(1)), Note("m", Day(-400))})
                  .ok());
  auto t = store_->LoadTimeline("c", "p", Day(10));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Ids(*t), (std::vector<std::string>{"m", "z", "a", "b"}));
}

TEST_F(StoreTest, AsOfIncludesEventsAtExactlyThatTime) {
  AddPatient("c", "p");
  ASSERT_TRUE(store_
                  ->AppendEvents(
                      "c", "p",
                      {Note("a", Day(1)), Note("b", Day(2)), Note("c", Day(3))})
                  .ok());
  auto t = store_->LoadTimeline("c", "p", Day(2));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Ids(*t), (std::vector<std::string>{"a", "b"}));
}

TEST_F(StoreTest, ClinicsAndPatientsAreIsolated) {
  AddPatient("c1", "p");
  AddPatient("c2", "p");
  AddPatient("c1", "p1");
  AddPatient("c1", "p10");
  ASSERT_TRUE(store_->AppendEvents("c1", "p", {Note("e1", Day(1))}).ok());
  ASSERT_TRUE(store_->AppendEvents("c2", "p", {Note("e2", Day(1))}).ok());
  ASSERT_TRUE(store_->AppendEvents("c1", "p1", {Note("e3", Day(1))}).ok());
  ASSERT_TRUE(store_->AppendEvents("c1", "p10", {Note("e4", Day(1))}).ok());
  EXPECT_EQ(Ids(*store_->LoadTimeline("c1", "p", Day(9))),
            std::vector<std::string>{"e1"});
  EXPECT_EQ(Ids(*store_->LoadTimeline("c2", "p", Day(9))),
            std::vector<std::string>{"e2"});
  EXPECT_EQ(Ids(*store_->LoadTimeline("c1", "p1", Day(9))),
            std::vector<std::string>{"e3"});
  EXPECT_TRUE(absl::IsNotFound(store_->GetPatient("c3", "p").status()));
  int n = 0;
  ASSERT_TRUE(store_
                  ->ForEachPatientId("c1",
                                     [&](const std::string&) {
                                       ++n;
                                       return absl::OkStatus();
                                     })
                  .ok());
  EXPECT_EQ(n, 3);
}

TEST_F(StoreTest, RetrySameContentIsIdempotent) {
  AddPatient("c", "p");
  auto first = store_->AppendEvents("c", "p", {Note("e1", Day(1), "x")});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->appended, 1);
  auto retry = store_->AppendEvents(
      "c", "p", {Note("e1", Day(1), "x"), Note("e2", Day(2))});
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->appended, 1);
  EXPECT_EQ(retry->duplicate_event_ids, std::vector<std::string>{"e1"});
  EXPECT_EQ(*store_->CountEvents("c", "p"), 2);
}

TEST_F(StoreTest, SameIdDifferentContentFailsWholeBatch) {
  AddPatient("c", "p");
  ASSERT_TRUE(store_->AppendEvents("c", "p", {Note("e1", Day(1), "x")}).ok());
  auto conflict = store_->AppendEvents(
      "c", "p", {Note("new", Day(3)), Note("e1", Day(1), "different")});
  EXPECT_TRUE(absl::IsAlreadyExists(conflict.status()));
  EXPECT_NE(conflict.status().message().find("e1"), std::string::npos);
  // Nothing from the rejected batch is stored.
  EXPECT_EQ(*store_->CountEvents("c", "p"), 1);
}

TEST_F(StoreTest, AppendToUnknownPatientIsNotFound) {
  auto r = store_->AppendEvents("c", "ghost", {Note("e", Day(1))});
  EXPECT_TRUE(absl::IsNotFound(r.status()));
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  AddPatient("c", "p");
  ASSERT_TRUE(store_->AppendEvents("c", "p", {Note("e1", Day(1))}).ok());
  v1::ClinicPolicy policy;
  policy.set_pain_model(v1::PAIN_MODEL_SILBERNAGEL_5);
  ASSERT_TRUE(store_->PutPolicy("c", policy, -1).ok());
  Reopen();
  EXPECT_EQ(*store_->CountEvents("c", "p"), 1);
  auto got = store_->GetPolicy("c", 0);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->version(), 1);
  EXPECT_EQ(got->pain_model(), v1::PAIN_MODEL_SILBERNAGEL_5);
}

TEST_F(StoreTest, SecondOpenOfLockedDirFailsClearly) {
  StoreOptions options;
  options.path = dir_.Sub("db");
  auto second = OpenRocksDbStore(options);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_NE(second.status().message().find("locked"), std::string::npos);
}

TEST_F(StoreTest, CorruptDirFailsWithDataLossNotACrash) {
  store_.reset();
  // Overwrite every file's middle with garbage; MANIFEST/CURRENT damage
  // makes the open fail.
  for (const auto& entry :
       std::filesystem::directory_iterator(dir_.Sub("db"))) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("MANIFEST", 0) == 0 || name == "CURRENT") {
      std::FILE* f = std::fopen(entry.path().c_str(), "r+b");
      ASSERT_NE(f, nullptr);
      std::fputs("garbage-garbage-garbage-garbage", f);
      std::fclose(f);
    }
  }
  StoreOptions options;
  options.path = dir_.Sub("db");
  auto broken = OpenRocksDbStore(options);
  ASSERT_FALSE(broken.ok());
  EXPECT_TRUE(absl::IsDataLoss(broken.status()) ||
              absl::IsInternal(broken.status()))
      << broken.status();
  EXPECT_NE(broken.status().message().find(dir_.Sub("db")), std::string::npos);
}

TEST_F(StoreTest, ErasureRemovesEventsEvaluationsAndIndex) {
  AddPatient("c", "p");
  AddPatient("c", "keep");
  ASSERT_TRUE(store_->AppendEvents("c", "p", {Note("e1", Day(1))}).ok());
  ASSERT_TRUE(store_->AppendEvents("c", "keep", {Note("e1", Day(1))}).ok());
  v1::Evaluation ev;
  ev.set_clinic_id("c");
  ev.set_patient_id("p");
  ev.set_evaluation_id("ev1");
  ASSERT_TRUE(store_->PutEvaluation(ev).ok());
  auto result = store_->DeletePatient("c", "p");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->events_deleted, 1);
  EXPECT_EQ(result->evaluations_deleted, 1);
  EXPECT_TRUE(absl::IsNotFound(store_->GetPatient("c", "p").status()));
  EXPECT_TRUE(
      absl::IsNotFound(store_->GetEvaluation("c", "p", "ev1").status()));
  // Re-creating the patient starts empty, and the old event id is free.
  AddPatient("c", "p");
  EXPECT_EQ(*store_->CountEvents("c", "p"), 0);
  auto again = store_->AppendEvents("c", "p", {Note("e1", Day(5), "other")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->appended, 1);
  EXPECT_EQ(*store_->CountEvents("c", "keep"), 1);
}

// Feedback racing an erasure never outlives it: PutFeedback takes the
// patient's lock and needs the patient, so after every erasure no feedback
// record of the patient is left (before the fix, 11 of 300 were).
TEST_F(StoreTest, FeedbackRacingErasureLeavesNothing) {
  for (int round = 0; round < 200; ++round) {
    const std::string p = "p" + std::to_string(round);
    AddPatient("c", p);
    std::atomic<bool> erased{false};
    std::thread writer([&] {
      for (int i = 0; i < 1000; ++i) {
        // Read before the call: a call that began after the erasure
        // returned must fail (one that began before may still land first).
        const bool began_after_erasure = erased.load();
        auto id = store_->PutFeedback("c", p, "ev1", "record");
        if (!id.ok()) {
          EXPECT_TRUE(absl::IsNotFound(id.status())) << id.status();
          return;
        }
        if (began_after_erasure) {
          ADD_FAILURE() << "feedback stored after the erasure returned";
          return;
        }
      }
    });
    ASSERT_TRUE(store_->DeletePatient("c", p).ok());
    erased = true;
    writer.join();
    EXPECT_TRUE(
        absl::IsNotFound(store_->PutFeedback("c", p, "ev1", "late").status()));
  }
}

// An evaluation id names its content: the same id with other bytes is
// refused, never overwritten.
TEST_F(StoreTest, StoredEvaluationIsNeverOverwritten) {
  AddPatient("c", "p");
  v1::Evaluation ev;
  ev.set_clinic_id("c");
  ev.set_patient_id("p");
  ev.set_evaluation_id("ev1");
  ev.add_data_gaps("first");
  ASSERT_TRUE(store_->PutEvaluation(ev).ok());
  ASSERT_TRUE(store_->PutEvaluation(ev).ok());  // Same content: idempotent.
  v1::Evaluation other = ev;
  other.set_data_gaps(0, "second");
  EXPECT_TRUE(absl::IsAlreadyExists(store_->PutEvaluation(other)));
  EXPECT_EQ(store_->GetEvaluation("c", "p", "ev1")->data_gaps(0), "first");
}

TEST_F(StoreTest, AuditEntriesAreAppendedInOrderAndRead) {
  ASSERT_TRUE(store_->AppendAudit({{1, "a"}, {2, "b"}}).ok());
  ASSERT_TRUE(store_->AppendAudit({{3, "c"}}).ok());
  auto from2 = store_->ReadAudit(2, 10);
  ASSERT_TRUE(from2.ok());
  ASSERT_EQ(from2->size(), 2u);
  EXPECT_EQ((*from2)[0], (std::pair<uint64_t, std::string>{2, "b"}));
  EXPECT_EQ((*from2)[1], (std::pair<uint64_t, std::string>{3, "c"}));
}

TEST_F(StoreTest, PagingWalksEveryEventOnce) {
  AddPatient("c", "p");
  std::vector<v1::Event> events;
  for (int i = 0; i < 25; ++i) {
    events.push_back(Note("e" + std::to_string(100 + i), Day(i)));
  }
  ASSERT_TRUE(store_->AppendEvents("c", "p", events).ok());
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = store_->ListEvents("c", "p", Day(-1), Day(100), 10, token);
    ASSERT_TRUE(page.ok());
    for (const auto& e : page->events) seen.push_back(e.event_id());
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 25u);
  auto bad = store_->ListEvents("c", "p", Day(-1), Day(100), 10, "!!notatoken");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
}

TEST_F(StoreTest, SnapshotDoesNotSeeLaterWrites) {
  AddPatient("c", "p");
  ASSERT_TRUE(store_->AppendEvents("c", "p", {Note("e1", Day(1))}).ok());
  auto snap = store_->GetSnapshot();
  ASSERT_TRUE(store_->AppendEvents("c", "p", {Note("e2", Day(2))}).ok());
  EXPECT_EQ(store_->LoadTimeline("c", "p", Day(9), snap.get())->size(), 1u);
  EXPECT_EQ(store_->LoadTimeline("c", "p", Day(9))->size(), 2u);
}

TEST_F(StoreTest, PolicyVersionsAndOptimisticConcurrency) {
  v1::ClinicPolicy a;
  ASSERT_TRUE(store_->PutPolicy("c", a, 0).ok());
  EXPECT_EQ(a.version(), 1);
  v1::ClinicPolicy b;
  EXPECT_TRUE(absl::IsFailedPrecondition(store_->PutPolicy("c", b, 0)));
  ASSERT_TRUE(store_->PutPolicy("c", b, 1).ok());
  EXPECT_EQ(b.version(), 2);
  EXPECT_EQ(store_->GetPolicy("c", 1)->version(), 1);
  EXPECT_TRUE(absl::IsNotFound(store_->GetPolicy("other", 0).status()));
}

TEST_F(StoreTest, ConcurrentRetriesOfOneEventStoreItOnce) {
  AddPatient("c", "p");
  std::vector<std::thread> threads;
  std::atomic<int> appended{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto r = store_->AppendEvents("c", "p", {Note("same", Day(1))});
      if (r.ok()) appended += r->appended;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(appended.load(), 1);
  EXPECT_EQ(*store_->CountEvents("c", "p"), 1);
}

// Every prefix scan ends at its prefix: "a" never captures "ab", and a
// server-record prefix never captures a longer one.
TEST_F(StoreTest, ScansStopAtTheirPrefix) {
  AddPatient("a", "p1");
  AddPatient("a", "p2");
  AddPatient("ab", "p0");
  auto page = store_->ListPatients("a", 1, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->patients.size(), 1u);
  EXPECT_EQ(page->patients[0].patient_id(), "p1");
  page = store_->ListPatients("a", 5, page->next_page_token);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->patients.size(), 1u);
  EXPECT_EQ(page->patients[0].patient_id(), "p2");
  EXPECT_TRUE(page->next_page_token.empty());
  for (const char* key : {"tok/a", "tok/b", "tokx/c", "to"}) {
    ASSERT_TRUE(store_->PutServerRecord(key, key).ok());
  }
  auto records = store_->ListServerRecords("tok/");
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].first, "tok/a");
  EXPECT_EQ((*records)[1].second, "tok/b");
  EXPECT_EQ(store_->ListServerRecords("")->size(), 4u);
}

TEST_F(StoreTest, LoadStoredTimelineHandsOutTheBytesOfEachEvent) {
  AddPatient("c", "p");
  ASSERT_TRUE(store_
                  ->AppendEvents("c", "p",
                                 {Note("b", Day(2)), Note("a", Day(1)),
                                  Note("late", Day(9))})
                  .ok());
  auto stored = store_->LoadStoredTimeline("c", "p", Day(5));
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto plain = store_->LoadTimeline("c", "p", Day(5));
  ASSERT_TRUE(plain.ok());
  // Moved, as callers receive it: the arena and everything on it move too.
  storage::StoredTimeline moved = *std::move(stored);
  std::vector<v1::Event> events;
  for (const v1::Event* e : moved.events) events.push_back(*e);
  EXPECT_EQ(Ids(events), Ids(*plain));
  EXPECT_EQ(Ids(events), (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(moved.bytes.size(), moved.events.size());
  for (size_t i = 0; i < moved.events.size(); ++i) {
    EXPECT_EQ(moved.events[i]->GetArena(), moved.arena.get()) << i;
    EXPECT_EQ(moved.bytes[i], moved.events[i]->SerializeAsString()) << i;
  }
  auto none = store_->LoadStoredTimeline("c", "nobody", Day(5));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->events.empty());
  EXPECT_TRUE(none->bytes.empty());
}

TEST_F(StoreTest, PolicyAndRecordsReadThroughASnapshot) {
  v1::ClinicPolicy policy;
  ASSERT_TRUE(store_->PutPolicy("c", policy, -1).ok());
  ASSERT_TRUE(store_->PutRecord("c", "run/x", "first").ok());
  auto snapshot = store_->GetSnapshot();
  ASSERT_TRUE(store_->PutPolicy("c", policy, -1).ok());
  ASSERT_TRUE(store_->PutRecord("c", "run/x", "second").ok());
  ASSERT_TRUE(store_->PutRecord("c", "run/y", "new").ok());
  EXPECT_EQ(store_->GetPolicy("c", 0, snapshot.get())->version(), 1);
  EXPECT_EQ(store_->GetPolicy("c", 0)->version(), 2);
  EXPECT_TRUE(
      absl::IsNotFound(store_->GetPolicy("c", 2, snapshot.get()).status()));
  EXPECT_EQ(*store_->GetRecord("c", "run/x", snapshot.get()), "first");
  EXPECT_EQ(*store_->GetRecord("c", "run/x"), "second");
  EXPECT_TRUE(absl::IsNotFound(
      store_->GetRecord("c", "run/y", snapshot.get()).status()));
}

v1::Evaluation Eval(const std::string& patient, const std::string& id,
                    const std::string& content) {
  v1::Evaluation ev;
  ev.set_clinic_id("c");
  ev.set_patient_id(patient);
  ev.set_evaluation_id(id);
  ev.add_data_gaps(content);
  return ev;
}

EvaluationWrite Write(const v1::Evaluation& ev, const std::string& marker) {
  EvaluationWrite w;
  w.evaluation = ev;
  w.records = {{"delta", "d-" + ev.evaluation_id()}, {marker, ""}};
  return w;
}

TEST_F(StoreTest, PutEvaluationsStoresTheGroupWithItsRecords) {
  AddPatient("c", "p1");
  AddPatient("c", "p2");
  std::vector<EvaluationWrite> group = {Write(Eval("p1", "e1", "x"), "run/r"),
                                        Write(Eval("p2", "e2", "y"), "run/r")};
  auto results = store_->PutEvaluations(group);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_TRUE((*results)[0].ok());
  EXPECT_TRUE((*results)[1].ok());
  EXPECT_EQ(store_->GetLatestEvaluation("c", "p1")->evaluation_id(), "e1");
  EXPECT_EQ(store_->GetLatestEvaluation("c", "p2")->data_gaps(0), "y");
  EXPECT_EQ(*store_->GetPatientRecord("c", "p2", "delta"), "d-e2");
  EXPECT_TRUE(store_->GetPatientRecord("c", "p1", "run/r").ok());
  // Storing the same bytes again is a harmless retry.
  results = store_->PutEvaluations(group);
  ASSERT_TRUE(results.ok());
  EXPECT_TRUE((*results)[0].ok());
  EXPECT_TRUE(store_->PutEvaluations({}).ok());
}

// A patient erased while the run evaluated them gets nothing stored, not
// even keys that a later patient with the same id would inherit; the rest
// of the group is stored.
TEST_F(StoreTest, PutEvaluationsStoresNothingForAnErasedPatient) {
  AddPatient("c", "p1");
  AddPatient("c", "gone");
  ASSERT_TRUE(store_->DeletePatient("c", "gone").ok());
  auto results =
      store_->PutEvaluations({Write(Eval("gone", "e0", "x"), "run/r"),
                              Write(Eval("p1", "e1", "y"), "run/r")});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_TRUE(absl::IsNotFound((*results)[0])) << (*results)[0];
  EXPECT_TRUE((*results)[1].ok());
  EXPECT_TRUE(store_->GetPatientRecord("c", "p1", "run/r").ok());
  AddPatient("c", "gone");
  EXPECT_TRUE(
      absl::IsNotFound(store_->GetLatestEvaluation("c", "gone").status()));
  EXPECT_TRUE(
      absl::IsNotFound(store_->GetEvaluation("c", "gone", "e0").status()));
  EXPECT_TRUE(absl::IsNotFound(
      store_->GetPatientRecord("c", "gone", "run/r").status()));
  EXPECT_TRUE(absl::IsNotFound(
      store_->GetPatientRecord("c", "gone", "delta").status()));
}

TEST_F(StoreTest, CreatePatientWithEventsWritesBothOrNeither) {
  v1::Patient p;
  p.set_patient_id("new");
  const v1::Event changed = Note("b", Day(2), "other text");
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_->CreatePatientWithEvents("c", p, {Note("b", Day(2)), changed})
          .status()));
  EXPECT_TRUE(absl::IsNotFound(store_->GetPatient("c", "new").status()));

  auto created = store_->CreatePatientWithEvents(
      "c", p, {Note("a", Day(1)), Note("b", Day(2)), Note("a", Day(1))});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->appended, 2);
  EXPECT_EQ(created->duplicate_event_ids, std::vector<std::string>{"a"});
  EXPECT_TRUE(store_->GetPatient("c", "new")->has_created_at());
  EXPECT_EQ(Ids(*store_->LoadTimeline("c", "new", Day(10))),
            (std::vector<std::string>{"a", "b"}));
  // Stored as AppendEvents stores: a retry is a duplicate.
  auto retry = store_->AppendEvents("c", "new", {Note("b", Day(2))});
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->appended, 0);
  EXPECT_TRUE(absl::IsAlreadyExists(
      store_->CreatePatientWithEvents("c", p, {Note("z", Day(3))}).status()));
}

// A clinic-level record a patient owns (a CDS card's mapping) is read by
// its key alone, refused for a patient who does not exist, and erased with
// the patient: afterwards no key or value in the store holds the id.
TEST_F(StoreTest, PatientOwnedRecordsAreErasedWithThePatient) {
  AddPatient("c", "owner-7q");
  AddPatient("c", "other");
  ASSERT_TRUE(
      store_->PutPatientOwnedRecord("c", "owner-7q", "card/1", "owner-7q/e1")
          .ok());
  ASSERT_TRUE(
      store_->PutPatientOwnedRecord("c", "owner-7q", "card/2", "owner-7q/e2")
          .ok());
  ASSERT_TRUE(
      store_->PutPatientOwnedRecord("c", "other", "card/3", "other/e3").ok());
  EXPECT_EQ(*store_->GetRecord("c", "card/1"), "owner-7q/e1");
  EXPECT_TRUE(absl::IsNotFound(
      store_->PutPatientOwnedRecord("c", "nobody", "card/4", "x")));
  EXPECT_TRUE(absl::IsNotFound(store_->GetRecord("c", "card/4").status()));

  ASSERT_TRUE(store_->DeletePatient("c", "owner-7q").ok());
  EXPECT_TRUE(absl::IsNotFound(store_->GetRecord("c", "card/1").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->GetRecord("c", "card/2").status()));
  EXPECT_EQ(*store_->GetRecord("c", "card/3"), "other/e3");
  store_.reset();
  auto left = testing::StoreEntriesContaining(dir_.Sub("db"), "owner-7q");
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_TRUE(left->empty()) << (*left)[0];
}

TEST_F(StoreTest, PutEvaluationsNeverRewritesAnEvaluationId) {
  AddPatient("c", "p1");
  AddPatient("c", "p2");
  ASSERT_TRUE(store_->PutEvaluation(Eval("p1", "e1", "shown")).ok());
  ASSERT_TRUE(store_->PutEvaluation(Eval("p1", "e2", "later")).ok());
  auto results =
      store_->PutEvaluations({Write(Eval("p1", "e1", "other"), "run/r"),
                              Write(Eval("p2", "e3", "x"), "run/r"),
                              // One id twice in a group, other bytes.
                              Write(Eval("p2", "e3", "y"), "run/s")});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_TRUE(absl::IsAlreadyExists((*results)[0])) << (*results)[0];
  EXPECT_TRUE((*results)[1].ok());
  EXPECT_TRUE(absl::IsAlreadyExists((*results)[2])) << (*results)[2];
  EXPECT_EQ(store_->GetEvaluation("c", "p1", "e1")->data_gaps(0), "shown");
  // The refused write moved nothing: not the pointer, not its records.
  EXPECT_EQ(store_->GetLatestEvaluation("c", "p1")->evaluation_id(), "e2");
  EXPECT_TRUE(
      absl::IsNotFound(store_->GetPatientRecord("c", "p1", "run/r").status()));
  EXPECT_TRUE(
      absl::IsNotFound(store_->GetPatientRecord("c", "p2", "run/s").status()));
  EXPECT_EQ(store_->GetEvaluation("c", "p2", "e3")->data_gaps(0), "x");
}

}  // namespace
}  // namespace achilles::storage
