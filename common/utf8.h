// UTF-8 checks for text that ends up in proto3 string fields. A proto3
// string that is not valid UTF-8 serializes, but the receiving side refuses
// to parse it: a client would get an answer it cannot decode. Text the
// server did not write itself (requests, plugin messages) is checked or
// made valid before it goes into one.
#ifndef ACHILLES_COMMON_UTF8_H_
#define ACHILLES_COMMON_UTF8_H_

#include <string>

#include "absl/strings/string_view.h"

namespace achilles {

// True when `s` is well-formed UTF-8: no truncated sequences, overlong
// forms, surrogates or values past U+10FFFF.
bool IsValidUtf8(absl::string_view s);

// `s` with every byte that does not start a well-formed sequence replaced
// by U+FFFD (the replacement character), so the rest stays readable.
std::string ToValidUtf8(absl::string_view s);

}  // namespace achilles

#endif  // ACHILLES_COMMON_UTF8_H_
