#include "tests/common/store_scan.h"

#include <rocksdb/db.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace achilles::testing {
namespace {

bool Contains(const rocksdb::Slice& s, const std::string& needle) {
  return s.ToStringView().find(needle) != std::string_view::npos;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> StoreEntriesContaining(
    const std::string& db_path, const std::string& needle) {
  std::vector<std::string> families;
  rocksdb::Status s =
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_path, &families);
  if (!s.ok()) return absl::InternalError(s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& f : families)
    descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), db_path, descriptors,
                                   &handles, &raw);
  if (!s.ok()) return absl::InternalError(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::string> hits;
  for (auto* h : handles) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (Contains(it->key(), needle) || Contains(it->value(), needle)) {
        hits.push_back(absl::StrCat(h->GetName(), ": ", it->key().ToString()));
      }
    }
    if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return hits;
}

}  // namespace achilles::testing
