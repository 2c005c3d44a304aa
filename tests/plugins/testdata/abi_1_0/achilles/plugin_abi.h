/*
 * achilles-cds protocol plugin ABI. This pure-C header is the whole contract
 * between the server (the host) and a protocol plugin shared object.
 *
 * A plugin exports one symbol, ACH_ENTRY_SYMBOL ("ach_on_get_info"), that
 * returns a pointer to a static ach_type_plugin_info. The host reads it once
 * after dlopen, checks struct_size and the ABI version, and then calls
 * on_evaluate for each evaluation.
 *
 * Data crosses the boundary as serialized protobuf messages from
 * proto/achilles/v1/plugin.proto: the host passes a PluginRequest, the plugin
 * returns a PluginResponse. The ABI therefore changes rarely; the messages
 * evolve by adding fields.
 *
 * Versioning: the host accepts a plugin when the majors are equal and the
 * plugin's minor is not newer than the host's. Any change to this file must
 * bump ACH_ABI_VERSION_MINOR (additive) or ACH_ABI_VERSION_MAJOR (breaking);
 * a test hashes this file to enforce it.
 *
 * Rules for plugin authors:
 *  - Never let a C++ exception escape an exported function (the C++ SDK's
 *    ACH_EXPORT_PLUGIN macro catches everything for you).
 *  - on_evaluate may be called from several threads at once; keep no mutable
 *    global state, or guard it.
 *  - Memory the plugin returns is freed by the host calling on_free, never
 *    by the host's allocator.
 */
#ifndef ACHILLES_PLUGIN_ABI_H_
#define ACHILLES_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACH_ABI_VERSION_MAJOR 1
#define ACH_ABI_VERSION_MINOR 0
#define ACH_ABI_VERSION_PATCH 0

/* Name of the one exported entry symbol. */
#define ACH_ENTRY_SYMBOL "ach_on_get_info"

/* Bytes of error text the host provides for on_evaluate; longer text is cut. */
#define ACH_MAX_ERROR_LEN 512

/* Result of on_evaluate. */
typedef enum ach_type_rc {
  ACH_RC_OK = 0,
  /* The request could not be parsed or lacked something required. */
  ACH_RC_BAD_REQUEST = 1,
  /* The plugin failed; error_host_ptr says why. */
  ACH_RC_PLUGIN_ERROR = 2
} ach_type_rc;

/*
 * Evaluates one request.
 * @param request_host_ptr serialized achilles.v1.PluginRequest.
 *        OWNERSHIP: host; valid only during the call.
 * @param request_size its length in bytes.
 * @param response_plugin_ptr out: serialized achilles.v1.PluginResponse.
 *        OWNERSHIP: plugin; the host hands it back to on_free exactly once.
 *        May be NULL when response_size is 0.
 * @param response_size out: its length in bytes.
 * @param error_host_ptr out: NUL-terminated reason when the result is not
 *        ACH_RC_OK. OWNERSHIP: host; a buffer of error_capacity bytes.
 * @param error_capacity size of error_host_ptr (ACH_MAX_ERROR_LEN).
 * @return ACH_RC_OK, or an error code with error_host_ptr filled in.
 */
typedef ach_type_rc (*ach_type_on_evaluate)(const uint8_t* request_host_ptr,
                                            size_t request_size,
                                            uint8_t** response_plugin_ptr,
                                            size_t* response_size,
                                            char* error_host_ptr,
                                            size_t error_capacity);

/*
 * Frees a buffer returned by on_evaluate.
 * @param buffer_plugin_ptr OWNERSHIP: plugin; NULL is allowed and ignored.
 */
typedef void (*ach_type_on_free)(uint8_t* buffer_plugin_ptr);

/*
 * Static description of the plugin. All strings are NUL-terminated, static,
 * and OWNERSHIP: plugin (valid for as long as the library stays loaded).
 */
typedef struct ach_type_plugin_info {
  /* sizeof(ach_type_plugin_info) as the plugin was compiled. */
  uint32_t struct_size;
  /* ACH_ABI_VERSION_MAJOR / _MINOR the plugin was compiled against. */
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t reserved; /* Zero. Keeps the pointers 8-byte aligned, no padding. */
  /* Unique id: 1-64 chars of [a-z0-9_.-], e.g. "midportion_hsr". */
  const char* id;
  /* Semantic version, e.g. "1.2.0". */
  const char* version;
  /* Shown to clinicians. */
  const char* display_name;
  /* Comma-separated protocol names, e.g. "hsr,eccentric". */
  const char* protocols;
  /* Comma-separated event kinds the plugin reads, e.g. "run_session". */
  const char* event_kinds;
  ach_type_on_evaluate on_evaluate;
  ach_type_on_free on_free;
} ach_type_plugin_info;

/*
 * The entry point every plugin exports under ACH_ENTRY_SYMBOL.
 * @return pointer to a static info struct. OWNERSHIP: plugin. Never NULL.
 */
typedef const ach_type_plugin_info* (*ach_type_on_get_info)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ACHILLES_PLUGIN_ABI_H_ */
