// SortTimeline against the real thing: the same events appended to a RocksDB
// store and read back with LoadTimeline must come out in the same order.
#include "storage/timeline_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/timeline_store.h"
#include "tests/common/events.h"
#include "tests/common/temp_dir.h"

namespace achilles::storage {
namespace {

using ::achilles::testing::Day;
using ::achilles::testing::Note;
using ::achilles::testing::TempDir;

// 1900-01-01T00:00:00Z, the earliest time validation accepts.
constexpr int64_t k1900 = int64_t{-2208988800} * 1000000;

class TimelineOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.path = dir_.Sub("db");
    options.sync_writes = false;
    auto store = OpenRocksDbStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    v1::Patient p;
    p.set_patient_id("p");
    ASSERT_TRUE(store_->UpsertPatient("c", p).ok());
  }

  // What the store returns for `events` appended in this order, in batches
  // of at most `batch`.
  std::vector<v1::Event> Stored(const std::vector<v1::Event>& events,
                                size_t batch = 500) {
    for (size_t i = 0; i < events.size(); i += batch) {
      std::vector<v1::Event> part(
          events.begin() + i,
          events.begin() + std::min(events.size(), i + batch));
      auto r = store_->AppendEvents("c", "p", part);
      EXPECT_TRUE(r.ok()) << r.status();
    }
    auto timeline = store_->LoadTimeline("c", "p", Day(1000));
    EXPECT_TRUE(timeline.ok()) << timeline.status();
    return timeline.ok() ? *timeline : std::vector<v1::Event>();
  }

  static std::vector<v1::Event> Sorted(std::vector<v1::Event> events) {
    SortTimeline(&events);
    return events;
  }

  static std::vector<std::string> Ids(const std::vector<v1::Event>& events) {
    std::vector<std::string> ids;
    for (const auto& e : events) ids.push_back(e.event_id());
    return ids;
  }

  static void ExpectSameEvents(const std::vector<v1::Event>& want,
                               const std::vector<v1::Event>& got) {
    ASSERT_EQ(Ids(got), Ids(want));
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].SerializeAsString(), want[i].SerializeAsString())
          << want[i].event_id();
    }
  }

  TempDir dir_;
  std::unique_ptr<TimelineStore> store_;
};

TEST_F(TimelineOrderTest, SameTimeOrdersByIdBytesNotFileOrder) {
  const std::vector<v1::Event> events = {
      Note("b", Day(1)),   Note("a9", Day(1)),  Note("a10", Day(1)),
      Note("B", Day(1)),   Note("_z", Day(1)),  Note("-m", Day(1)),
      Note("a", Day(1)),   Note("a.1", Day(1)), Note("a:1", Day(1)),
      Note("zz", Day(0.5))};
  const auto sorted = Sorted(events);
  EXPECT_EQ(Ids(sorted),
            (std::vector<std::string>{"zz", "-m", "B", "_z", "a", "a.1", "a10",
                                      "a9", "a:1", "b"}));
  ExpectSameEvents(Stored(events), sorted);
}

TEST_F(TimelineOrderTest, TimesBefore1970SortBeforeLaterOnes) {
  v1::Event half_second_before_epoch = Note("half", 0);
  half_second_before_epoch.mutable_occurred_at()->set_seconds(-1);
  half_second_before_epoch.mutable_occurred_at()->set_nanos(500000000);
  const std::vector<v1::Event> events = {
      Note("epoch", 0),     Note("late", Day(2)),
      Note("minus1us", -1), half_second_before_epoch,
      Note("y1900", k1900), Note("y1969", -kMicrosPerDay),
      Note("a1900", k1900), Note("plus1us", 1)};
  const auto sorted = Sorted(events);
  EXPECT_EQ(Ids(sorted),
            (std::vector<std::string>{"a1900", "y1900", "y1969", "half",
                                      "minus1us", "epoch", "plus1us", "late"}));
  ExpectSameEvents(Stored(events), sorted);
}

TEST_F(TimelineOrderTest, TimeIsWholeMicrosecondsAsTheKeyHoldsIt) {
  // 1.999 us and 1.001 us are the same key time, so the ids decide.
  v1::Event later_nanos = Note("a", 0);
  later_nanos.mutable_occurred_at()->set_nanos(1999);
  v1::Event earlier_nanos = Note("b", 0);
  earlier_nanos.mutable_occurred_at()->set_nanos(1001);
  const std::vector<v1::Event> events = {earlier_nanos, later_nanos};
  const auto sorted = Sorted(events);
  EXPECT_EQ(Ids(sorted), (std::vector<std::string>{"a", "b"}));
  ExpectSameEvents(Stored(events), sorted);
}

TEST_F(TimelineOrderTest, ARepeatedEventIsHeldOnce) {
  const std::vector<v1::Event> events = {Note("e2", Day(2)), Note("e1", Day(1)),
                                         Note("e2", Day(2))};
  const auto sorted = Sorted(events);
  EXPECT_EQ(Ids(sorted), (std::vector<std::string>{"e1", "e2"}));
  ExpectSameEvents(Stored(events), sorted);
}

TEST_F(TimelineOrderTest, RandomTimelinesMatchTheStore) {
  // Few distinct times, so many events share one; short ids from the whole
  // allowed alphabet, so byte order is exercised beyond letters.
  const std::string alphabet =
      "-.0123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  const std::vector<int64_t> times = {k1900,  -kMicrosPerDay, -1,     0, 1,
                                      Day(1), Day(1) + 1,     Day(30)};
  std::mt19937 rng(20260105);
  std::set<std::string> used;
  std::vector<v1::Event> events;
  while (events.size() < 400) {
    std::string id;
    const int len = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < len; ++i) id += alphabet[rng() % alphabet.size()];
    if (!used.insert(id).second) continue;
    events.push_back(Note(id, times[rng() % times.size()]));
  }
  ExpectSameEvents(Stored(events, 37), Sorted(events));
}

}  // namespace
}  // namespace achilles::storage
