/* avsink.h - the public C ABI of avsink, an anti-virus event sink for SMTP gateways.
 * An MTA adapter opens one engine, then hands it every message and acts on the verdict.
 *
 * If a function, type or constant is not declared in this file, it is not part of the API.
 *
 * RULES THAT HOLD FOR EVERY FUNCTION BELOW (each function's doc refers back to them)
 *
 * Ownership. Three phrases are used, and only these:
 *   "copied before return": avsink copies the input; the caller may free it once the call returns.
 *   "owned by H, valid until H is freed": avsink owns it; do not free it; it dies with handle H.
 *   "caller frees with avsink_X_free()": the caller owns the handle and must release it that way.
 *   avsink never returns memory for the caller to free() itself, and never keeps a caller's
 *   pointer.
 *
 * Threads. An avsink_engine may be used from any number of threads at once (scan_begin,
 *   scan_buffer, engine_reload, engine_info), except avsink_engine_free(), which must be the last
 *   call, after every avsink_scan of that engine is freed. An avsink_scan is used by one thread at
 *   a time; it may move between threads. A reload is atomic: scans already begun finish on the
 *   rules and signatures they started with. The log callback may run on any thread, concurrently,
 *   must not block, and may call only avsink_strerror().
 *
 * Errors. Every function that can fail returns avsink_status; avsink_strerror() names it. A
 *   verdict is not an error: a message with a virus returns AVSINK_OK and a verdict whose action
 *   is AVSINK_ACTION_REJECT. A status other than AVSINK_OK means avsink could not decide; the
 *   adapter must then fail closed (tempfail the message). Detail for engine-level calls goes into
 *   a caller-owned avsink_error (may be NULL); detail for a scan comes from avsink_scan_errmsg().
 *   There is no thread-local "last error". No function aborts or exits the process.
 *
 * Versions. AVSINK_ABI_MAJOR changes only on an incompatible change (and the SONAME with it);
 *   AVSINK_ABI_MINOR grows when functions or struct fields are added. Check at start-up that
 *   avsink_abi_version() has the same major and a minor >= the one you compiled against.
 *   Caller-filled structs begin with `size_t size`, set by their AVSINK_*_INIT macro; avsink reads
 *   only the fields that fit in `size` and defaults the rest, so old callers keep working.
 */
#ifndef AVSINK_AVSINK_H
#define AVSINK_AVSINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define AVSINK_API __attribute__((visibility("default")))
#else
#define AVSINK_API
#endif

/* The ABI version this header describes. The one place it is written: CMake reads AVSINK_ABI_MAJOR
 * from here for the SONAME, and a test checks the version script's node agrees. */
#define AVSINK_ABI_MAJOR 1
#define AVSINK_ABI_MINOR 2

/* The release this header ships with (CMake reads these too: project(VERSION)). */
#define AVSINK_VERSION_MAJOR 0
#define AVSINK_VERSION_MINOR 1
#define AVSINK_VERSION_PATCH 0
#define AVSINK_VERSION_NUMBER \
  ((AVSINK_VERSION_MAJOR * 10000) + (AVSINK_VERSION_MINOR * 100) + AVSINK_VERSION_PATCH)

/* True when an avsink_abi_version() value can run code compiled against this header: the same
 * major, and a minor at least this header's. Use: if (!AVSINK_ABI_COMPATIBLE(avsink_abi_version()))
 * refuse to start. */
#define AVSINK_ABI_COMPATIBLE(v) \
  ((((v) >> 16) == AVSINK_ABI_MAJOR) && (((v)&0xFFFFu) >= AVSINK_ABI_MINOR))

/* Status codes. Values are never renumbered or reused; new ones may be added, so a switch over
 * avsink_status must have a default. */
typedef enum avsink_status {
  AVSINK_OK = 0,
  AVSINK_EINVAL = 1,    /* a NULL or otherwise invalid argument */
  AVSINK_ENOMEM = 2,    /* out of memory */
  AVSINK_ECONFIG = 3,   /* the configuration file is invalid (file, line, reason in avsink_error) */
  AVSINK_ERULES = 4,    /* a rule or list file is invalid (file, line, reason in avsink_error) */
  AVSINK_EIO = 5,       /* a file or socket operation failed (spool, quarantine, database) */
  AVSINK_ETIMEOUT = 6,  /* a deadline passed */
  AVSINK_EENGINE = 7,   /* a scanning engine failed (database load, libclamav, clamd) */
  AVSINK_ELIMIT = 8,    /* a hard limit on the caller's input was exceeded (e.g. message size) */
  AVSINK_ESTATE = 9,    /* a call out of order (write after end, end twice, ...) */
  AVSINK_EINTERNAL = 10 /* an internal inconsistency; logged at panic severity */
} avsink_status;

/* What the MTA should do with the message. New actions may be added in a minor version, so a switch
 * over avsink_action must have a default that fails closed (tempfail). */
typedef enum avsink_action {
  AVSINK_ACTION_ACCEPT = 0,     /* deliver (headers to add may be present) */
  AVSINK_ACTION_REJECT = 1,     /* refuse with the 5xx reply in the verdict */
  AVSINK_ACTION_TEMPFAIL = 2,   /* refuse with the 4xx reply; the sender retries */
  AVSINK_ACTION_QUARANTINE = 3, /* stored in the avsink quarantine; accept and do not deliver */
  AVSINK_ACTION_DISCARD = 4,    /* accept and drop silently */
  AVSINK_ACTION_REWRITE = 5     /* deliver the rewritten message in the verdict instead */
} avsink_action;

/* Log severities passed to the log callback. */
typedef enum avsink_log_level {
  AVSINK_LOG_DEBUG = 0,
  AVSINK_LOG_INFO = 1,
  AVSINK_LOG_WARN = 2,
  AVSINK_LOG_ERROR = 3,
  AVSINK_LOG_PANIC = 4
} avsink_log_level;

typedef void (*avsink_log_fn)(void *payload, avsink_log_level level, const char *message);

/* Opaque handles, created and freed only by avsink. */
typedef struct avsink_engine avsink_engine;
typedef struct avsink_scan avsink_scan;
typedef struct avsink_verdict avsink_verdict;

/* Error detail for calls that have no scan handle. Caller-owned; initialise with AVSINK_ERROR_INIT.
 * On failure avsink fills message (always NUL-terminated), and file/line when a file is to blame
 * (line 0 = no line). On success it is left untouched. */
typedef struct avsink_error {
  size_t size;
  char message[512];
  char file[256];
  uint32_t line;
} avsink_error;
#define AVSINK_ERROR_INIT \
  { sizeof(avsink_error), {0}, {0}, 0 }

/* Flags for avsink_engine_options.flags. */
#define AVSINK_ENGINE_DRY_RUN 0x1u /* decide verdicts only: never write to the quarantine */

/* Options for avsink_engine_open(). Caller-filled; initialise with AVSINK_ENGINE_OPTIONS_INIT. */
typedef struct avsink_engine_options {
  size_t size;
  const char *config_path; /* avsink.toml; NULL = the embedded defaults */
  uint32_t flags;          /* AVSINK_ENGINE_* bits */
  avsink_log_fn log;       /* NULL = no log output */
  void *log_payload;
  avsink_log_level log_level; /* the least severe level passed to log */
} avsink_engine_options;
#define AVSINK_ENGINE_OPTIONS_INIT \
  { sizeof(avsink_engine_options), NULL, 0u, NULL, NULL, AVSINK_LOG_INFO }

/* The SMTP envelope. Caller-filled; initialise with AVSINK_ENVELOPE_INIT; NULL fields are unknown.
 */
typedef struct avsink_envelope {
  size_t size;
  const char *client_address; /* "192.0.2.1" or "2001:db8::1" */
  const char *client_name;
  const char *helo;
  const char *auth_user; /* non-NULL and non-empty = authenticated */
  const char *mail_from; /* without <>; "" = null sender */
  const char *const *rcpt_to;
  size_t rcpt_count;
  const char *queue_id;
} avsink_envelope;
#define AVSINK_ENVELOPE_INIT \
  { sizeof(avsink_envelope), NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL }

/* One finding of a verdict. Library-filled, read-only for the caller; grows only at the end. */
typedef struct avsink_finding {
  size_t size;           /* sizeof as avsink built it; fields past your sizeof are newer */
  const char *kind;      /* "virus", "unscannable", "banned-attachment", "rule", "malformed",
                            "engine-error" (new kinds may be added) */
  const char *inspector; /* "clamav", "mime", "attachments", "rules", ... */
  const char *name;      /* signature, limit or rule name */
  const char *part_path; /* "1.2"; "" = the whole message */
  const char *filename;  /* decoded filename or archive member path; "" = none */
  const char *detail;    /* one human-readable line */
} avsink_finding;

/* What one envelope recipient gets (since 1.1). When the recipients of a message fall under
 * different [[policy]] sections, their actions may differ; the message-level action is then the
 * strictest of them (what an adapter that reads only the message-level verdict applies to all).
 * Library-filled, read-only for the caller; grows only at the end. */
typedef struct avsink_recipient_verdict {
  size_t size;                 /* sizeof as avsink built it; fields past your sizeof are newer */
  const char *address;         /* the recipient as given in avsink_envelope.rcpt_to */
  const char *policy;          /* the [[policy]] name; "default" when none matched */
  avsink_action action;        /* what this recipient gets */
  int smtp_code;               /* as avsink_verdict_smtp_code(), for this recipient */
  const char *enhanced_status; /* e.g. "5.7.1" */
  const char *text;            /* reply text, CR/LF-free */
  const char *reason;          /* one line for logs */
} avsink_recipient_verdict;

/* What an avsink_header_edit does (since 1.2). New kinds may be added: skip an edit of a kind you
 * do not know only if you can deliver without it, else fail closed (tempfail). */
typedef enum avsink_header_edit_kind {
  AVSINK_HEADER_CHANGE = 0, /* replace the index-th occurrence of name with value */
  AVSINK_HEADER_ADD = 1,    /* append a field name: value to the top header block */
  AVSINK_HEADER_DELETE = 2  /* remove the index-th occurrence of name */
} avsink_header_edit_kind;

/* One edit of the message's top header block (since 1.2), in the terms of libmilter's
 * smfi_chgheader/smfi_addheader. Library-filled, read-only for the caller; grows only at the end.
 */
typedef struct avsink_header_edit {
  size_t size;                  /* sizeof as avsink built it; fields past your sizeof are newer */
  avsink_header_edit_kind kind; /* what to do */
  const char *name;             /* the field name, as spelled in the message */
  uint32_t index;    /* CHANGE/DELETE: 1-based occurrence of name (case-insensitive) among the
                        top header fields as scanned, before any edit; 0 for ADD */
  const char *value; /* CHANGE/ADD: the value as it follows the colon, leading whitespace kept,
                        folded lines joined by "\n" + whitespace, no CR; "" for DELETE */
} avsink_header_edit;

/* Bits of avsink_engine_policy_flags(). */
#define AVSINK_POLICY_BY_RECIPIENT 0x1u /* some [[policy]] selects by recipient */

/* ---- Versions and names ---- */

/* Returns (AVSINK_ABI_MAJOR << 16) | AVSINK_ABI_MINOR of the library actually loaded.
 * Ownership: none. Thread-safety: any thread. Errors: none. Since: 1.0 */
AVSINK_API uint32_t avsink_abi_version(void);

/* Returns the library's release version, e.g. "0.1.0".
 * Ownership: static string. Thread-safety: any thread. Errors: none. Since: 1.0 */
AVSINK_API const char *avsink_version_string(void);

/* Returns a short English name for a status; never NULL (unknown codes give "unknown status").
 * Ownership: static string. Thread-safety: any thread. Errors: none. Since: 1.0 */
AVSINK_API const char *avsink_strerror(avsink_status status);

/* Returns "accept", "reject", "tempfail", "quarantine", "discard" or "rewrite"; never NULL.
 * Ownership: static string. Thread-safety: any thread. Errors: none. Since: 1.0 */
AVSINK_API const char *avsink_action_name(avsink_action action);

/* ---- Engine ---- */

/* Opens an engine: reads the configuration, loads rules, lists and signatures, compiles them.
 * out: receives the engine (NULL on failure). opts: may be NULL (= AVSINK_ENGINE_OPTIONS_INIT).
 * err: may be NULL; receives the detail on failure.
 * Returns: AVSINK_OK, or the failure status.
 * Ownership: opts and its strings copied before return;
 *   caller frees *out with avsink_engine_free().
 * Thread-safety: any thread; engines are independent of each other.
 * Errors: AVSINK_EINVAL (out is NULL), AVSINK_ECONFIG (bad config: file, line, reason),
 *   AVSINK_ERULES (bad rule or list file), AVSINK_EENGINE (signatures failed to load),
 *   AVSINK_EIO (quarantine or audit log unusable), AVSINK_ENOMEM.
 * Since: 1.0 */
AVSINK_API avsink_status avsink_engine_open(avsink_engine **out, const avsink_engine_options *opts,
                                            avsink_error *err);

/* Reloads rule files, attachment lists and signature databases, each built aside and swapped in.
 * A part that fails keeps its last good generation (and is logged and audited); the others reload.
 * Returns: AVSINK_OK when everything reloaded, else the status of the first failure.
 * Ownership: none. Thread-safety: any thread, concurrently with scans.
 * Errors: AVSINK_EINVAL, AVSINK_ERULES, AVSINK_EENGINE (detail in err). Since: 1.0 */
AVSINK_API avsink_status avsink_engine_reload(avsink_engine *engine, avsink_error *err);

/* Summary of what the engine has loaded, as a JSON object (engines with signature counts, database
 * versions and ages, rule and list generations).
 * Returns: AVSINK_OK; *json_out points to a NUL-terminated string.
 * Ownership: owned by the library, valid until this thread's next avsink_engine_info() call on the
 *   same engine, until the thread exits, or until the engine is freed. Prefer
 * avsink_engine_info_dup where goroutines or pooled tasks may move between threads. Thread-safety:
 * any thread; each calling thread gets its own string. Errors: AVSINK_EINVAL. Since: 1.0 */
AVSINK_API avsink_status avsink_engine_info(const char **json_out, avsink_engine *engine);

/* As avsink_engine_info, but *json_out is the caller's own copy.
 * Returns: AVSINK_OK; *json_out points to a NUL-terminated string (NULL on failure).
 * Ownership: caller frees *json_out with avsink_string_free().
 * Thread-safety: any thread. Errors: AVSINK_EINVAL, AVSINK_ENOMEM. Since: 1.1 */
AVSINK_API avsink_status avsink_engine_info_dup(char **json_out, avsink_engine *engine);

/* Frees a string the library handed to the caller (avsink_engine_info_dup). NULL is a no-op.
 * Ownership: takes s. Thread-safety: any thread. Errors: none. Since: 1.1 */
AVSINK_API void avsink_string_free(char *s);

/* The engine's counters and gauges as Prometheus text exposition (format 0.0.4): messages by
 * action, findings by kind and inspector, a scan-latency histogram, bytes scanned, tempfails by
 * cause, scans in flight, engine generations, signature counts and ages, reloads by result, and
 * avsink_healthy / avsink_degraded{reason} (as avsink_engine_health()). For an adapter's
 * GET /metrics.
 * Returns: AVSINK_OK; *text_out points to a NUL-terminated string.
 * Ownership: as avsink_engine_info() (one string per calling thread, valid until that thread
 *   calls avsink_engine_metrics() again or the engine is freed).
 * Thread-safety: any thread, concurrently with scans; counting never takes a lock on the scan
 *   path. Errors: AVSINK_EINVAL. Since: 1.1 */
AVSINK_API avsink_status avsink_engine_metrics(const char **text_out, avsink_engine *engine);

/* Whether the engine is fit to run unattended: every engine loaded and able to scan, the ClamAV
 * database newer than [clamav] max_db_age_hours, not only avsink's shipped test signatures, every
 * database file readable by this process, and the last reload of every part succeeded.
 * healthy_out: 1 when healthy, else 0. reasons_out: may be NULL; receives one line per reason
 *   ("code: text", codes as in avsink_degraded), "" when healthy.
 * Ownership: *reasons_out as avsink_engine_info()'s string (one per calling thread).
 * Thread-safety: any thread, concurrently with scans. Errors: AVSINK_EINVAL. Since: 1.1 */
AVSINK_API avsink_status avsink_engine_health(int *healthy_out, const char **reasons_out,
                                              avsink_engine *engine);

/* Counts a message the adapter answered 4xx on its own (no verdict, or a verdict it could not
 * carry out) in avsink_tempfails_total{cause}. cause: "scan_begin", "scan_write",
 * "mta_refused", "too_busy" (others count as "other"); may be NULL ("other"). A failed
 * avsink_scan_end() is already counted (cause "scan_failed"). Ownership: none.
 * Thread-safety: any thread. Errors: AVSINK_EINVAL (engine NULL). Since: 1.1 */
AVSINK_API avsink_status avsink_engine_count_tempfail(avsink_engine *engine, const char *cause);

/* Frees an engine. NULL is a harmless no-op.
 * Ownership: releases everything the engine owns. Thread-safety: must be the last call on the
 * engine, after all its scans are freed. Errors: none. Since: 1.0 */
AVSINK_API void avsink_engine_free(avsink_engine *engine);

/* ---- One message ---- */

/* Begins a scan of one message.
 * out: receives the scan. env: may be NULL (nothing known about the envelope).
 * Ownership: env and its strings copied before return; caller frees *out with avsink_scan_free().
 * Thread-safety: any thread. Errors: AVSINK_EINVAL, AVSINK_ENOMEM, AVSINK_EIO (spool). Since: 1.0
 */
AVSINK_API avsink_status avsink_scan_begin(avsink_scan **out, avsink_engine *engine,
                                           const avsink_envelope *env);

/* Appends message bytes (RFC 5322: headers, blank line, body), in any chunking, NULs allowed.
 * Bytes past the configured message-size limit are counted but not kept; the verdict is then
 * REJECT 552 5.3.4 (never a prefix quarantined, discarded, or scanned and called clean).
 * Ownership: data copied before return. Thread-safety: one thread at a time per scan.
 * Errors: AVSINK_EINVAL, AVSINK_ESTATE (after end), AVSINK_EIO (spool file: disk full...).
 * Since: 1.0 */
AVSINK_API avsink_status avsink_scan_write(avsink_scan *scan, const void *data, size_t len);

/* Ends the message, scans it and returns the verdict.
 * Returns: AVSINK_OK with *out set; any other status means no decision (fail closed).
 * Ownership: *out owned by the scan, valid until the scan is freed.
 * Thread-safety: one thread at a time per scan.
 * Errors: AVSINK_EINVAL, AVSINK_ESTATE (end twice), AVSINK_EIO (spool or quarantine write failed),
 *   AVSINK_EINTERNAL. Detail: avsink_scan_errmsg(). Since: 1.0 */
AVSINK_API avsink_status avsink_scan_end(const avsink_verdict **out, avsink_scan *scan);

/* One call for a message the caller holds whole: the verdict avsink_scan_begin, _write and _end
 * would give, without copying the message (no spool: spool_dir is not used).
 * verdict_out: receives the verdict; scan_out: receives the scan that owns it (already ended:
 *   avsink_scan_write and avsink_scan_end on it give AVSINK_ESTATE).
 * Ownership: env copied; data read in place, during the call only, and must not change during it.
 *   The caller frees *scan_out with avsink_scan_free() (also on failure, when *scan_out is
 *   non-NULL, to read avsink_scan_errmsg()).
 * Thread-safety: any thread. Errors: AVSINK_EINVAL (NULL out-parameter, or NULL data with len > 0;
 *   *scan_out is then NULL), AVSINK_ENOMEM, AVSINK_EIO (quarantine write failed),
 *   AVSINK_EINTERNAL. Since: 1.0 */
AVSINK_API avsink_status avsink_scan_buffer(const avsink_verdict **verdict_out,
                                            avsink_scan **scan_out, avsink_engine *engine,
                                            const avsink_envelope *env, const void *data,
                                            size_t len);

/* The detail of the last failed call on this scan; "" when none. Never NULL for a non-NULL scan.
 * Ownership: owned by the scan, valid until the next call on that scan. Thread-safety: as the scan.
 * Errors: none. Since: 1.0 */
AVSINK_API const char *avsink_scan_errmsg(const avsink_scan *scan);

/* Frees a scan and its verdict. NULL is a harmless no-op. Removes any spool file.
 * Ownership: releases the scan and everything it owns. Thread-safety: as the scan. Errors: none.
 * Since: 1.0 */
AVSINK_API void avsink_scan_free(avsink_scan *scan);

/* ---- Verdict accessors (all: Ownership: strings owned by the scan, valid until the scan is freed;
 *      Thread-safety: as the scan; a NULL verdict gives 0 / "" / NULL as stated). ---- */

/* The action. NULL verdict: AVSINK_ACTION_TEMPFAIL (fail closed). Errors: none. Since: 1.0 */
AVSINK_API avsink_action avsink_verdict_action(const avsink_verdict *verdict);

/* SMTP reply code: 250 for accept/quarantine/discard/rewrite, 5xx for reject, 4xx for tempfail.
 * NULL verdict: 451. Errors: none. Since: 1.0 */
AVSINK_API int avsink_verdict_smtp_code(const avsink_verdict *verdict);

/* Enhanced status code, e.g. "5.7.1"; never NULL. Errors: none. Since: 1.0 */
AVSINK_API const char *avsink_verdict_enhanced_status(const avsink_verdict *verdict);

/* Reply text for the SMTP client, CR/LF-free; never NULL. Errors: none. Since: 1.0 */
AVSINK_API const char *avsink_verdict_text(const avsink_verdict *verdict);

/* One line for logs: the reasons, "clean" when none; never NULL. Errors: none. Since: 1.0 */
AVSINK_API const char *avsink_verdict_reason(const avsink_verdict *verdict);

/* Number of findings. Errors: none. Since: 1.0 */
AVSINK_API size_t avsink_verdict_finding_count(const avsink_verdict *verdict);

/* The index-th finding, or NULL when out of range. Errors: none. Since: 1.0 */
AVSINK_API const avsink_finding *avsink_verdict_finding(const avsink_verdict *verdict,
                                                        size_t index);

/* Number of header fields the MTA should add. Errors: none. Since: 1.0 */
AVSINK_API size_t avsink_verdict_header_count(const avsink_verdict *verdict);

/* The index-th header to add: *name_out and *value_out (CR/LF-free).
 * Errors: AVSINK_EINVAL when index is out of range or a pointer is NULL. Since: 1.0 */
AVSINK_API avsink_status avsink_verdict_header(const char **name_out, const char **value_out,
                                               const avsink_verdict *verdict, size_t index);

/* The quarantine id when the message was stored (QUARANTINE, REWRITE), else "". Never NULL.
 * Errors: none. Since: 1.0 */
AVSINK_API const char *avsink_verdict_quarantine_id(const avsink_verdict *verdict);

/* For REWRITE: the complete new message (headers and body).
 * Ownership: *data_out owned by the scan, valid until the scan is freed.
 * Errors: AVSINK_EINVAL for any other action or a NULL pointer. Since: 1.0 */
AVSINK_API avsink_status avsink_verdict_rewritten(const void **data_out, size_t *len_out,
                                                  const avsink_verdict *verdict);

/* ---- Header edits and the rewritten body (since 1.2) ---- */

/* Number of edits to the top header block of the message as scanned that deliver this verdict:
 * for REWRITE, the changes, additions and deletions that make it the rewritten message's block;
 * for every action, the deletion of inbound copies of the header fields avsink owns
 * (X-Virus-Scanned, X-Virus-Status, X-Avsink-*, the configured header names). The headers to add
 * (avsink_verdict_header) are not among them: add those after the edits. An adapter that applies
 * these edits and the rewritten body never splits or diffs the message itself.
 * Returns: 0 for a NULL verdict.
 * Ownership: none. Thread-safety: as the verdict's scan (one thread at a time).
 * Errors: none. Since: 1.2 */
AVSINK_API size_t avsink_verdict_header_edit_count(const avsink_verdict *verdict);

/* The index-th header edit. Apply them in index order: changes and additions come first, then
 * deletions from the highest occurrence of a name down, so every index stays valid.
 * Returns: the edit, or NULL when index is out of range or verdict is NULL.
 * Ownership: owned by the scan, valid until the scan is freed.
 * Thread-safety: as the verdict's scan (one thread at a time).
 * Errors: none. Since: 1.2 */
AVSINK_API const avsink_header_edit *avsink_verdict_header_edit(const avsink_verdict *verdict,
                                                                size_t index);

/* For REWRITE: the new body, i.e. the rewritten message after its first empty line (len 0 when
 * the rewritten message has no body). With the header edits it makes avsink_verdict_rewritten().
 * Returns: AVSINK_OK and sets *data_out, *len_out.
 * Ownership: *data_out owned by the scan, valid until the scan is freed.
 * Thread-safety: as the verdict's scan (one thread at a time).
 * Errors: AVSINK_EINVAL for any action other than REWRITE or a NULL pointer. Since: 1.2 */
AVSINK_API avsink_status avsink_verdict_rewritten_body(const void **data_out, size_t *len_out,
                                                       const avsink_verdict *verdict);

/* The structured record of this message as one line of JSON (queue id, envelope, findings, limits
 * hit, action, quarantine id, time taken), for logs and SIEMs; never NULL. Errors: none. Since: 1.0
 */
AVSINK_API const char *avsink_verdict_json(const avsink_verdict *verdict);

/* The [[policy]] that decided the message ("default" when none matched); never NULL.
 * Errors: none. Since: 1.1 */
AVSINK_API const char *avsink_verdict_policy(const avsink_verdict *verdict);

/* Number of per-recipient verdicts: one per envelope recipient (0 when the envelope named none,
 * or for a NULL verdict). Errors: none. Since: 1.1 */
AVSINK_API size_t avsink_verdict_recipient_count(const avsink_verdict *verdict);

/* The index-th recipient's verdict (envelope order), or NULL when out of range.
 * Errors: none. Since: 1.1 */
AVSINK_API const avsink_recipient_verdict *avsink_verdict_recipient(const avsink_verdict *verdict,
                                                                    size_t index);

/* ---- Policies (since 1.1) ---- */

/* Which [[policy]] applies to `rcpt` of the envelope `env`, before any message bytes are known: an
 * adapter can keep recipients of different policies out of one transaction (plugins/milter does,
 * at RCPT time).
 * name_out: receives the NUL-terminated name ("default" when none matches), at most name_len
 *   bytes with the NUL. env: may be NULL. rcpt: may be NULL (no recipient).
 * Returns: AVSINK_OK.
 * Ownership: env, rcpt copied before return; name_out is the caller's buffer.
 * Thread-safety: any thread, concurrently with scans and reloads.
 * Errors: AVSINK_EINVAL (NULL engine or name_out, name_len too small for the name).
 * Since: 1.1 */
AVSINK_API avsink_status avsink_engine_policy(char *name_out, size_t name_len,
                                              avsink_engine *engine, const avsink_envelope *env,
                                              const char *rcpt);

/* AVSINK_POLICY_* bits describing the engine's policies; 0 for a NULL engine.
 * Ownership: none. Thread-safety: any thread. Errors: none. Since: 1.1 */
AVSINK_API uint32_t avsink_engine_policy_flags(avsink_engine *engine);

#ifdef __cplusplus
}
#endif

#endif /* AVSINK_AVSINK_H */
