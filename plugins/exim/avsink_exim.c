/* avsink_exim.c - avsink inside Exim: a ${dlfunc} function for the DATA ACL that scans the
 * received message through the C ABI and returns the verdict as key="value" pairs for ${extract}.
 *
 * Called as (all arguments are expanded by Exim first; see docs/exim.md for the whole ACL):
 *   ${dlfunc{/usr/lib/avsink/avsink_exim.so}{avsink_exim_scan}{CONFIG}{SPOOL_D_FILE}{$message_headers_raw}
 *           {$sender_host_address}{$sender_helo_name}{$sender_address}{$recipients}
 *           {$authenticated_id}}
 *   CONFIG        avsink.toml ("" = the embedded defaults)
 *   SPOOL_D_FILE  $spool_directory/input/$message_exim_id-D: the body (its first line is the file's
 *                 own name, skipped); the header block comes from $message_headers_raw. The file's
 *                 name gives the queue id (Exim allows a dlfunc 8 arguments, so it is not passed).
 * Yield on success (return OK): action="accept|reject|tempfail|quarantine|discard"
 *   reply="554 5.7.1 text" (the SMTP reply for refusals) headers="Name: value\nName: value" (every
 *   header to add, one a line; "" when none) reason="..." (one line for logs). Values carry no CR
 *   or LF ("\n" in headers is the escape ${extract} turns into a newline); '"' and '\' are escaped
 *   with '\' as ${extract} expects.
 * Fail closed: if the message cannot be read or the engine cannot decide, the function returns
 * DEFER with the reason in the yield; Exim then fails the expansion and the ACL answers 451.
 * A REWRITE verdict cannot be applied from an ACL (it cannot replace the body): it is refused with
 * action="reject" and the verdict's text, never accepted unrewritten.
 *
 * Threads and processes: Exim runs each SMTP connection in its own process, single-threaded; the
 * engine is opened on the first call in a process (per configuration path) and kept for the
 * process's life, so later messages on the same connection reuse it. */
#include <avsink/avsink.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From Exim's local_scan.h: the return codes of a ${dlfunc} function. */
#define EXIM_OK 0
#define EXIM_DEFER 1
#define EXIM_FAIL 2
#define EXIM_ERROR 3

typedef unsigned char uschar;

AVSINK_EXIM_EXPORT int avsink_exim_scan(uschar **yield, int argc, uschar *argv[]);

static avsink_engine *g_engine = NULL;
static char *g_engine_config = NULL;
static char *g_yield = NULL;

/* A growable byte buffer. */
struct buf {
  char *p;
  size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *q = realloc(b->p, cap);
    if (q == NULL) return 0;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 1;
}

static int buf_str(struct buf *b, const char *s) {
  return buf_add(b, s, strlen(s));
}

/* Appends key="value" with CR/TAB (and LF unless keep_lf) as spaces, other control bytes dropped,
 * '"' and '\' escaped; with keep_lf an LF is written as the escape \n, which ${extract} turns back
 * into a newline (add_header then adds one header line per line). */
static int buf_pair(struct buf *b, const char *key, const char *value, int keep_lf) {
  if (b->len > 0 && !buf_str(b, " ")) return 0;
  if (!buf_str(b, key) || !buf_str(b, "=\"")) return 0;
  for (const unsigned char *s = (const unsigned char *)(value ? value : ""); *s; ++s) {
    char c = (char)*s;
    if (*s == '\n' && keep_lf) {
      if (!buf_str(b, "\\n")) return 0;
      continue;
    }
    if (*s == '\r' || *s == '\n' || *s == '\t') c = ' ';
    if ((unsigned char)c < 0x20 || c == 0x7f) continue;
    if ((c == '"' || c == '\\') && !buf_add(b, "\\", 1)) return 0;
    if (!buf_add(b, &c, 1)) return 0;
  }
  return buf_str(b, "\"");
}

/* Appends `n` bytes of LF-terminated text with every bare LF turned into CRLF. */
static int buf_crlf(struct buf *b, const char *s, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] != '\n') continue;
    size_t end = (i > start && s[i - 1] == '\r') ? i - 1 : i;
    if (!buf_add(b, s + start, end - start) || !buf_add(b, "\r\n", 2)) return 0;
    start = i + 1;
  }
  return buf_add(b, s + start, n - start);
}

/* Hands `text` to Exim as the yield (kept until the next call) and returns `rc`. */
static int give(uschar **yield, int rc, const char *text) {
  free(g_yield);
  g_yield = strdup(text ? text : "");
  *yield = (uschar *)(g_yield ? g_yield : "avsink: out of memory");
  return rc;
}

static const char *arg(int argc, uschar *argv[], int i) {
  return i < argc && argv[i] != NULL ? (const char *)argv[i] : "";
}

/* Opens (or reuses) the engine for `config`. Returns NULL and fills `why` on failure. */
static avsink_engine *engine_for(const char *config, char *why, size_t why_len) {
  if (g_engine != NULL && strcmp(g_engine_config, config) == 0) return g_engine;
  avsink_engine_free(g_engine);
  g_engine = NULL;
  free(g_engine_config);
  g_engine_config = NULL;
  uint32_t abi = avsink_abi_version();
  if (!AVSINK_ABI_COMPATIBLE(abi)) {
    snprintf(why, why_len, "avsink: libavsink ABI %u.%u, built for %u.%u", abi >> 16, abi & 0xffff,
             AVSINK_ABI_MAJOR, AVSINK_ABI_MINOR);
    return NULL;
  }
  avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
  o.config_path = config[0] ? config : NULL;
  avsink_error err = AVSINK_ERROR_INIT;
  avsink_engine *e = NULL;
  avsink_status st = avsink_engine_open(&e, &o, &err);
  if (st != AVSINK_OK) {
    snprintf(why, why_len, "avsink: engine: %s: %s", avsink_strerror(st), err.message);
    return NULL;
  }
  g_engine_config = strdup(config);
  if (g_engine_config == NULL) {
    avsink_engine_free(e);
    snprintf(why, why_len, "avsink: out of memory");
    return NULL;
  }
  g_engine = e;
  return e;
}

/* Reads the -D spool file into `b` as CRLF text, skipping its first line (the file's name). */
static int read_body(struct buf *b, const char *path, char *why, size_t why_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(why, why_len, "avsink: cannot open %s: %s", path, strerror(errno));
    return 0;
  }
  struct buf raw = {0};
  char chunk[65536];
  size_t n;
  int ok = 1;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (!buf_add(&raw, chunk, n)) ok = 0;
  if (ferror(f)) ok = 0;
  fclose(f);
  if (!ok) {
    snprintf(why, why_len, "avsink: cannot read %s", path);
    free(raw.p);
    return 0;
  }
  const char *nl = raw.p ? memchr(raw.p, '\n', raw.len) : NULL;
  if (nl == NULL) {
    snprintf(why, why_len, "avsink: %s is not an Exim -D spool file", path);
    free(raw.p);
    return 0;
  }
  size_t off = (size_t)(nl - raw.p) + 1;
  ok = buf_crlf(b, raw.p + off, raw.len - off);
  free(raw.p);
  if (!ok) snprintf(why, why_len, "avsink: out of memory");
  return ok;
}

/* Splits Exim's comma-separated $recipients into `out` (modified in place). Returns the count. */
static size_t split_rcpts(char *list, const char **out, size_t max) {
  size_t n = 0;
  for (char *s = list; *s && n < max;) {
    while (*s == ' ' || *s == ',') ++s;
    if (!*s) break;
    out[n++] = s;
    char *comma = strchr(s, ',');
    if (comma == NULL) break;
    *comma = '\0';
    s = comma + 1;
  }
  return n;
}

int avsink_exim_scan(uschar **yield, int argc, uschar *argv[]) {
  char why[768];
  if (argc < 3) return give(yield, EXIM_ERROR, "avsink: usage: {CONFIG}{D_FILE}{HEADERS}...");
  avsink_engine *engine = engine_for(arg(argc, argv, 0), why, sizeof why);
  if (engine == NULL) return give(yield, EXIM_DEFER, why);

  struct buf msg = {0};
  const char *headers = arg(argc, argv, 2);
  if (!buf_crlf(&msg, headers, strlen(headers)) ||
      (msg.len >= 2 && memcmp(msg.p + msg.len - 2, "\r\n", 2) != 0 && !buf_add(&msg, "\r\n", 2)) ||
      !buf_add(&msg, "\r\n", 2)) {
    free(msg.p);
    return give(yield, EXIM_DEFER, "avsink: out of memory");
  }
  if (!read_body(&msg, arg(argc, argv, 1), why, sizeof why)) {
    free(msg.p);
    return give(yield, EXIM_DEFER, why);
  }

  char *rcpt_list = strdup(arg(argc, argv, 6));
  size_t rcpt_max = 1;
  for (const char *s = rcpt_list ? rcpt_list : ""; *s; ++s) rcpt_max += *s == ',';
  const char **rcpts = calloc(rcpt_max, sizeof *rcpts);
  if (rcpt_list == NULL || rcpts == NULL) {
    free(msg.p);
    free(rcpt_list);
    free(rcpts);
    return give(yield, EXIM_DEFER, "avsink: out of memory");
  }
  avsink_envelope env = AVSINK_ENVELOPE_INIT;
  env.client_address = argc > 3 && argv[3][0] ? arg(argc, argv, 3) : NULL;
  env.helo = argc > 4 && argv[4][0] ? arg(argc, argv, 4) : NULL;
  env.mail_from = arg(argc, argv, 5);
  env.rcpt_to = rcpts;
  env.rcpt_count = split_rcpts(rcpt_list, rcpts, rcpt_max);
  env.auth_user = argc > 7 && argv[7][0] ? arg(argc, argv, 7) : NULL;
  /* The queue id: the -D file's base name without "-D". */
  char queue_id[64] = "";
  const char *base = strrchr(arg(argc, argv, 1), '/');
  base = base ? base + 1 : arg(argc, argv, 1);
  size_t blen = strlen(base);
  if (blen > 2 && blen - 2 < sizeof queue_id && strcmp(base + blen - 2, "-D") == 0) {
    memcpy(queue_id, base, blen - 2);
    queue_id[blen - 2] = '\0';
  }
  env.queue_id = queue_id[0] ? queue_id : NULL;

  const avsink_verdict *v = NULL;
  avsink_scan *scan = NULL;
  avsink_status st = avsink_scan_buffer(&v, &scan, engine, &env, msg.p, msg.len);
  free(msg.p);
  free(rcpt_list);
  free(rcpts);
  if (st != AVSINK_OK) {
    snprintf(why, sizeof why, "avsink: scan failed: %s: %s", avsink_strerror(st),
             scan ? avsink_scan_errmsg(scan) : "");
    avsink_scan_free(scan);
    return give(yield, EXIM_DEFER, why);
  }

  avsink_action action = avsink_verdict_action(v);
  const char *name = avsink_action_name(action);
  if (action == AVSINK_ACTION_REWRITE) name = "reject";
  char reply[1024];
  int code = avsink_verdict_smtp_code(v);
  if (action == AVSINK_ACTION_REWRITE) /* the verdict's own text is for the rewritten mail */
    snprintf(reply, sizeof reply, "554 5.7.1 Refused, it would have to be rewritten: %s",
             avsink_verdict_reason(v));
  else
    snprintf(reply, sizeof reply, "%d %s %s", code, avsink_verdict_enhanced_status(v),
             avsink_verdict_text(v));
  /* Every header the verdict adds, one "Name: value" per line (values are CR/LF-free). */
  struct buf header = {0};
  for (size_t i = 0, n = avsink_verdict_header_count(v); i < n; ++i) {
    const char *hn = NULL, *hv = NULL;
    if (avsink_verdict_header(&hn, &hv, v, i) != AVSINK_OK || (i > 0 && !buf_str(&header, "\n")) ||
        !buf_str(&header, hn) || !buf_str(&header, ": ") || !buf_str(&header, hv)) {
      free(header.p);
      avsink_scan_free(scan);
      return give(yield, EXIM_DEFER, "avsink: could not read the verdict's headers");
    }
  }
  struct buf out = {0};
  int ok = buf_pair(&out, "action", name, 0) && buf_pair(&out, "reply", reply, 0) &&
           buf_pair(&out, "headers", header.p ? header.p : "", 1) &&
           buf_pair(&out, "reason", avsink_verdict_reason(v), 0);
  free(header.p);
  avsink_scan_free(scan);
  int rc = give(yield, ok ? EXIM_OK : EXIM_DEFER, ok ? out.p : "avsink: out of memory");
  free(out.p);
  return rc;
}
