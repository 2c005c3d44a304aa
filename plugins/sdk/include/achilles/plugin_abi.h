/*
 * achilles-cds protocol plugin ABI. This pure-C header is the whole contract
 * between the server (the host) and a protocol plugin shared object.
 *
 * A plugin exports one symbol, ACH_ENTRY_SYMBOL ("ach_on_get_info"), that
 * returns a pointer to a static ach_type_plugin_info. The host reads it once
 * after dlopen, checks struct_size and the ABI version, calls on_init when
 * the plugin has one, then on_evaluate (or on_evaluate_with_context) for
 * each evaluation, and on_shutdown before it unloads the library.
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
 * Compatibility rule (since 1.1): a minor version only appends fields to
 * the structs here. The host accepts any struct_size of at least
 * ACH_INFO_SIZE_1_0, reads only the fields that fit in the plugin's
 * struct_size and treats the rest as absent (NULL), so a plugin built
 * against 1.0 loads unchanged in a 1.1 host. `reserved` must be zero.
 *
 * Lifecycle (optional, since 1.1; a plugin without on_init gets none):
 *  1. dlopen, ach_on_get_info, the checks above.
 *  2. on_init(host callbacks, &context, error buffer): once, before any
 *     evaluation. A non-OK result refuses the plugin; the error text is
 *     the reason ListPlugins shows. The plugin may start threads here.
 *  3. on_evaluate_with_context(context, ...) (or on_evaluate), from any
 *     number of threads at once.
 *  4. on_shutdown(context): once, after the last evaluation has returned
 *     and before dlclose. The plugin must stop and join every thread it
 *     started and free the context: nothing of the plugin may run after
 *     on_shutdown returns, because its code is unmapped next. The host
 *     never calls the plugin after on_shutdown, and the host callbacks are
 *     invalid from then on.
 * Threads: in the server (--plugin_isolation=inprocess, and the harness)
 * on_init and on_shutdown run on the host's one loader thread, the thread
 * that runs the library's constructors and destructors, with the same
 * deadline as loading; evaluations run on other threads. In an isolated
 * worker process (--plugin_isolation=process) each worker calls on_init on
 * its main thread after loading the plugin and on_shutdown when the server
 * closes it; several workers of one plugin each have their own context.
 * A worker killed for a crash, a deadline or its CPU limit gets no
 * on_shutdown: the process ends with it.
 *
 * Rules for plugin authors:
 *  - Never let a C++ exception escape an exported function (the C++ SDK's
 *    ACH_EXPORT_PLUGIN macro catches everything for you).
 *  - on_evaluate may be called from several threads at once; keep no mutable
 *    global state, or guard it.
 *  - Memory the plugin returns is freed by the host calling on_free, never
 *    by the host's allocator.
 *  - Never log patient identifiers or names. The host prefixes every line
 *    a plugin logs with "plugin <id>: ", replaces control characters, cuts
 *    it to ACH_MAX_LOG_LEN bytes and drops lines past a rate limit, but it
 *    cannot tell an identifier from other text.
 */
#ifndef ACHILLES_PLUGIN_ABI_H_
#define ACHILLES_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACH_ABI_VERSION_MAJOR 1
#define ACH_ABI_VERSION_MINOR 1
#define ACH_ABI_VERSION_PATCH 0

/* Name of the one exported entry symbol. */
#define ACH_ENTRY_SYMBOL "ach_on_get_info"

/* Bytes of error text the host provides for on_evaluate and on_init;
 * longer text is cut. */
#define ACH_MAX_ERROR_LEN 512

/* Bytes of one log message the host keeps; longer messages are cut. */
#define ACH_MAX_LOG_LEN 512

/* Result of on_evaluate and on_init: a fixed-width int32_t since 1.1 (1.0
 * declared an enum with the same values, passed the same way). */
typedef int32_t ach_type_rc;
/* Success. */
#define ACH_RC_OK 0
/* The request could not be parsed or lacked something required: the host
 * sent something the plugin cannot use. Reported as "rejected the request". */
#define ACH_RC_BAD_REQUEST 1
/* The plugin failed; error_host_ptr says why. Reported as "failed". */
#define ACH_RC_PLUGIN_ERROR 2

/* Log levels for ach_type_callback_log. */
#define ACH_LOG_DEBUG 0
#define ACH_LOG_INFO 1
#define ACH_LOG_WARNING 2
#define ACH_LOG_ERROR 3

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
 * on_evaluate with the context on_init returned (since 1.1). When set, the
 * host calls it instead of on_evaluate, which may then be NULL.
 * @param context_plugin_ptr what on_init stored (NULL without on_init).
 *        OWNERSHIP: plugin.
 * The other parameters and the result are on_evaluate's.
 */
typedef ach_type_rc (*ach_type_on_evaluate_with_context)(
    void* context_plugin_ptr, const uint8_t* request_host_ptr,
    size_t request_size, uint8_t** response_plugin_ptr, size_t* response_size,
    char* error_host_ptr, size_t error_capacity);

/*
 * Frees a buffer returned by on_evaluate.
 * @param buffer_plugin_ptr OWNERSHIP: plugin; NULL is allowed and ignored.
 */
typedef void (*ach_type_on_free)(uint8_t* buffer_plugin_ptr);

/*
 * Writes one line to the server's log (since 1.1), as
 * "<time> <LEVEL> plugin <id>: <message>". In an isolated worker the line
 * goes to the worker's stderr, which is the server's. Lines below the
 * server's log level are dropped, and so are lines past the rate limit
 * (the next line kept says how many). Safe from any thread between on_init
 * and the return of on_shutdown.
 * @param host_ptr the host_ptr of the callbacks on_init received.
 *        OWNERSHIP: host.
 * @param level ACH_LOG_DEBUG..ACH_LOG_ERROR; others count as ERROR.
 * @param message_host_ptr text, not necessarily NUL-terminated; never a
 *        patient identifier or name. OWNERSHIP: caller; read during the
 *        call only.
 * @param message_size its length in bytes; cut to ACH_MAX_LOG_LEN.
 */
typedef void (*ach_type_callback_log)(void* host_ptr, int32_t level,
                                      const char* message_host_ptr,
                                      size_t message_size);

/*
 * What the host offers a plugin, passed to on_init (since 1.1). Grows like
 * ach_type_plugin_info: a plugin reads only fields within struct_size.
 * OWNERSHIP: host; the struct and host_ptr stay valid until on_shutdown
 * returns.
 */
typedef struct ach_type_host_callbacks {
  /* sizeof(ach_type_host_callbacks) as the host was compiled. */
  uint32_t struct_size;
  uint32_t reserved; /* Zero. */
  /* Opaque; pass it back to every callback. */
  void* host_ptr;
  ach_type_callback_log log;
} ach_type_host_callbacks;

/*
 * Prepares the plugin (since 1.1, optional). Called once before any
 * evaluation, see "Lifecycle" above.
 * @param host_callbacks_host_ptr the host's callbacks. OWNERSHIP: host.
 * @param context_plugin_ptr out: the plugin's own state, handed to
 *        on_evaluate_with_context and on_shutdown. OWNERSHIP: plugin (freed
 *        in on_shutdown). Starts NULL; may stay NULL.
 * @param error_host_ptr out: NUL-terminated reason when the result is not
 *        ACH_RC_OK. OWNERSHIP: host; a buffer of error_capacity bytes.
 * @param error_capacity size of error_host_ptr (ACH_MAX_ERROR_LEN).
 * @return ACH_RC_OK, or ACH_RC_PLUGIN_ERROR to refuse loading (the host
 *         then calls nothing else, on_shutdown included, and unloads).
 */
typedef ach_type_rc (*ach_type_on_init)(
    const ach_type_host_callbacks* host_callbacks_host_ptr,
    void** context_plugin_ptr, char* error_host_ptr, size_t error_capacity);

/*
 * Releases the plugin (since 1.1, optional; called only after an on_init
 * that returned ACH_RC_OK). Join every thread the plugin started and free
 * the context before returning.
 * @param context_plugin_ptr what on_init stored. OWNERSHIP: plugin.
 */
typedef void (*ach_type_on_shutdown)(void* context_plugin_ptr);

/*
 * Static description of the plugin. All strings are NUL-terminated, static,
 * and OWNERSHIP: plugin (valid for as long as the library stays loaded).
 */
typedef struct ach_type_plugin_info {
  /* sizeof(ach_type_plugin_info) as the plugin was compiled: at least
   * ACH_INFO_SIZE_1_0. */
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
  /* Comma-separated event kinds the plugin reads, e.g. "run_session": field
   * names of achilles.v1.Event's `kind` oneof. Since ABI 1.1 the request's
   * timeline holds only events of these kinds, and the host refuses a
   * plugin naming anything else; NULL, "" or "*" receives every event. A
   * plugin built against ABI 1.0 receives every event whatever it lists. */
  const char* event_kinds;
  /* Required in 1.0; since 1.1 may be NULL when on_evaluate_with_context
   * is set. */
  ach_type_on_evaluate on_evaluate;
  ach_type_on_free on_free; /* Required. */
  /* ---- ABI 1.0 ends here (ACH_INFO_SIZE_1_0). Since 1.1, all optional: --- */
  /* Both or neither: a plugin with only one of them is refused. */
  ach_type_on_init on_init;
  ach_type_on_shutdown on_shutdown;
  ach_type_on_evaluate_with_context on_evaluate_with_context;
} ach_type_plugin_info;

/* struct_size of an ABI 1.0 plugin: the smallest the host accepts. */
#define ACH_INFO_SIZE_1_0 offsetof(ach_type_plugin_info, on_init)

/*
 * The entry point every plugin exports under ACH_ENTRY_SYMBOL.
 * @return pointer to a static info struct. OWNERSHIP: plugin. Never NULL.
 */
typedef const ach_type_plugin_info* (*ach_type_on_get_info)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ACHILLES_PLUGIN_ABI_H_ */
