#include "storage/timeline_order.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/time_util.h"
#include "storage/internal/key_encoding.h"

namespace achilles::storage {

void SortTimeline(std::vector<v1::Event>* events) {
  // Compare the very bytes the store would key on, so this order cannot
  // drift from RocksDB's bytewise order if the encoding changes.
  std::vector<std::pair<std::string, size_t>> keys;
  keys.reserve(events->size());
  for (size_t i = 0; i < events->size(); ++i) {
    const v1::Event& e = (*events)[i];
    keys.emplace_back(storage_internal::EventKeySuffix(
                          ToMicros(e.occurred_at()), e.event_id()),
                      i);
  }
  // std::string compares as unsigned bytes, as RocksDB's default comparator
  // does; the index breaks ties, so the first of events sharing a key leads.
  std::sort(keys.begin(), keys.end());
  std::vector<v1::Event> sorted;
  sorted.reserve(keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    if (k > 0 && keys[k].first == keys[k - 1].first) continue;
    sorted.push_back(std::move((*events)[keys[k].second]));
  }
  *events = std::move(sorted);
}

}  // namespace achilles::storage
