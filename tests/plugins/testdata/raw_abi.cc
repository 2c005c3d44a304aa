// Plugins written against the raw C ABI, to produce info structs and
// responses the SDK would never produce. RAW_CASE selects one.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "achilles/plugin_abi.h"

namespace {

ach_type_rc Garbage(const uint8_t*, size_t, uint8_t** out, size_t* out_size,
                    char*, size_t) {
  // Not a valid protobuf: a field tag with wire type 7 (invalid).
  static const uint8_t kBytes[] = {0x0f, 0xff, 0xff, 0xff, 0x07};
  *out = static_cast<uint8_t*>(std::malloc(sizeof kBytes));
  std::memcpy(*out, kBytes, sizeof kBytes);
  *out_size = sizeof kBytes;
  return ACH_RC_OK;
}

void Free(uint8_t* p) { std::free(p); }

// RAW_CASE 7: a size that runs past the buffer into an unmapped page.
// RAW_CASE 8: a size no buffer could have.
size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

ach_type_rc LieAboutSize(const uint8_t*, size_t, uint8_t** out,
                         size_t* out_size, char*, size_t) {
  void* p = mmap(nullptr, 2 * PageSize(), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return ACH_RC_PLUGIN_ERROR;
  mprotect(static_cast<char*>(p) + PageSize(), PageSize(), PROT_NONE);
  *out = static_cast<uint8_t*>(p);
  *out_size = RAW_CASE == 8 ? SIZE_MAX / 2 : 2 * PageSize();
  return ACH_RC_OK;
}

void FreeMapped(uint8_t* p) { munmap(p, 2 * PageSize()); }

}  // namespace

#if RAW_CASE != 0  // RAW_CASE 0 exports no entry symbol at all.
extern "C" __attribute__((visibility("default"))) const ach_type_plugin_info*
ach_on_get_info(void) {
  static ach_type_plugin_info info = {sizeof(ach_type_plugin_info),
                                      ACH_ABI_VERSION_MAJOR,
                                      ACH_ABI_VERSION_MINOR,
                                      0,
                                      "raw_plugin",
                                      "1.0.0",
                                      "Raw ABI test plugin",
                                      "test",
                                      "note",
                                      &Garbage,
                                      &Free};
#if RAW_CASE == 2
  info.abi_major = ACH_ABI_VERSION_MAJOR + 1;
#elif RAW_CASE == 3
  info.abi_minor = ACH_ABI_VERSION_MINOR + 1;
#elif RAW_CASE == 4
  info.struct_size = 12;
#elif RAW_CASE == 5
  info.id = "Bad Id!";
#elif RAW_CASE == 6
  info.version = "one";
#elif RAW_CASE == 7 || RAW_CASE == 8
  info.on_evaluate = &LieAboutSize;
  info.on_free = &FreeMapped;
#endif
  return &info;
}
#endif

extern "C" __attribute__((visibility("default"))) int raw_case_marker(void) {
  return RAW_CASE;
}
