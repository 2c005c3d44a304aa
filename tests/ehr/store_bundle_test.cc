// A FHIR bundle is stored all or nothing, even when the disk fills in the
// middle: StoreBundle over a real RocksDB whose file writes fail after k
// successful ones, for every k until the import succeeds. Before the
// patient and its events went into one write, k = 1 left an empty patient.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>

#include "services/ehr/ehr.h"
#include "services/ehr/internal/routes.h"
#include "storage/timeline_store.h"
#include "tests/common/temp_dir.h"
#include "tests/ehr/fhir_bundles.h"

namespace achilles::ehr_internal {
namespace {

using achilles::testing::TempDir;

TEST(StoreBundleTest, ANewPatientIsStoredWithAllItsEventsOrNotAtAll) {
  auto parsed =
      ehr::ParseBundle(testing::OrdinaryBundle("atomic-1").dump(), "");
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->errors.empty());
  const int want = static_cast<int>(parsed->events.size());
  bool succeeded = false;
  for (int k = 0; k < 20 && !succeeded; ++k) {
    TempDir dir;
    std::atomic<int> writes_left{-1};
    storage::StoreOptions o;
    o.path = dir.Sub("db");
    o.fault_injector = [&](storage::FileOp op, const std::string&) {
      if (op == storage::FileOp::kWrite && writes_left.load() >= 0 &&
          writes_left.fetch_sub(1) <= 0) {
        return ENOSPC;
      }
      return 0;
    };
    auto store = storage::OpenRocksDbStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    api::Backend backend;
    backend.store = store->get();
    HttpEnv env;
    env.backend = &backend;
    writes_left = k;  // Every write after the first k fails.
    auto stored = StoreBundle(env, "c", *parsed);
    writes_left = -1;
    auto patient = (*store)->GetPatient("c", "atomic-1");
    if (stored.ok()) {
      succeeded = true;
      EXPECT_EQ(*stored, want);
      ASSERT_TRUE(patient.ok()) << patient.status();
    } else {
      EXPECT_TRUE(absl::IsNotFound(patient.status()))
          << "after " << k << " writes: " << stored.status()
          << " left the patient behind";
    }
    auto events = (*store)->CountEvents("c", "atomic-1");
    if (events.ok()) {
      EXPECT_EQ(*events, stored.ok() ? want : 0) << k;
    }
  }
  EXPECT_TRUE(succeeded);
}

}  // namespace
}  // namespace achilles::ehr_internal
