// Timeline order: the order in which TimelineStore::LoadTimeline returns a
// patient's events, for code that holds events in memory and must see them
// exactly as the server would (achilles-plugin-test). Derived from the
// store's key encoding (storage/internal/key_encoding.h), not a copy of it:
// occurred_at in whole microseconds, then event_id bytes.
//
// Built as its own small library (achilles_timeline_order) so callers do not
// link RocksDB. Pure functions; thread-safe.
#ifndef ACHILLES_STORAGE_TIMELINE_ORDER_H_
#define ACHILLES_STORAGE_TIMELINE_ORDER_H_

#include <vector>

#include "achilles/v1/events.pb.h"

namespace achilles::storage {

// Sorts `events` into store order. Events that share a key (same
// microsecond and event_id) are one stored event, so only the first of them
// is kept, as the store keeps the first copy of a repeated event. Callers
// validate first (validation::ValidateEventBatch): after that, a shared key
// means identical content.
void SortTimeline(std::vector<achilles::v1::Event>* events);

}  // namespace achilles::storage

#endif  // ACHILLES_STORAGE_TIMELINE_ORDER_H_
