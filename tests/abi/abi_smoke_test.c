/* abi_smoke_test.c - the C ABI end to end, from a plain C program linked to libavsink.so:
 * open with defaults, stream EICAR in 1-byte chunks, read the verdict, misuse, errors, free. */
#include <avsink/avsink.h>

#include "abi_common.h"

static const avsink_verdict *scan_chunked(avsink_engine *engine, const char *data, size_t len,
                                          size_t chunk, avsink_scan **scan_out) {
  avsink_scan *scan = NULL;
  const avsink_verdict *v = NULL;
  const char *rcpts[] = {"bob@example.net"};
  avsink_envelope env = AVSINK_ENVELOPE_INIT;
  size_t off;
  env.client_address = "192.0.2.7";
  env.helo = "mx.example.org";
  env.mail_from = "alice@example.org";
  env.rcpt_to = rcpts;
  env.rcpt_count = 1;
  env.queue_id = "ABC123";
  CHECK(avsink_scan_begin(&scan, engine, &env) == AVSINK_OK, "scan_begin");
  for (off = 0; off < len; off += chunk) {
    size_t n = len - off < chunk ? len - off : chunk;
    CHECK(avsink_scan_write(scan, data + off, n) == AVSINK_OK, "write at %zu", off);
  }
  CHECK(avsink_scan_end(&v, scan) == AVSINK_OK, "scan_end: %s", avsink_scan_errmsg(scan));
  *scan_out = scan;
  return v;
}

int main(int argc, char **argv) {
  char path[4096];
  avsink_engine *engine = NULL;
  avsink_error err = AVSINK_ERROR_INIT;
  avsink_scan *scan = NULL;
  const avsink_verdict *v = NULL;
  const avsink_finding *f;
  const char *name, *value, *info = NULL;
  char *eml;
  size_t len, i;
  int found_eicar = 0, found_header = 0;
  CHECK(argc == 2, "usage: abi_smoke_test CORPUS_DIR");

  CHECK((avsink_abi_version() >> 16) == AVSINK_ABI_MAJOR, "ABI major %u",
        avsink_abi_version() >> 16);
  CHECK((avsink_abi_version() & 0xffff) + 1 > AVSINK_ABI_MINOR, "ABI minor too old");
  CHECK(AVSINK_ABI_COMPATIBLE(avsink_abi_version()),
        "AVSINK_ABI_COMPATIBLE refuses its own library");
  CHECK(!AVSINK_ABI_COMPATIBLE(avsink_abi_version() + 0x10000u), "another major is compatible");
  CHECK(AVSINK_ABI_COMPATIBLE((uint32_t)AVSINK_ABI_MAJOR << 16 | (AVSINK_ABI_MINOR + 1u)),
        "a newer minor library is refused");
#if AVSINK_ABI_MINOR > 0
  CHECK(!AVSINK_ABI_COMPATIBLE((uint32_t)AVSINK_ABI_MAJOR << 16 | (AVSINK_ABI_MINOR - 1u)),
        "an older minor library (missing this header's functions) is accepted");
#endif
  {
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", AVSINK_VERSION_MAJOR, AVSINK_VERSION_MINOR,
             AVSINK_VERSION_PATCH);
    CHECK(strcmp(version, avsink_version_string()) == 0, "header release %s, library %s", version,
          avsink_version_string());
  }
  CHECK(strcmp(avsink_strerror(AVSINK_ECONFIG), "invalid configuration") == 0, "strerror");
  CHECK(avsink_strerror((avsink_status)999) != NULL, "strerror of unknown code is NULL");

  /* A configuration error names the file. */
  {
    avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
    o.config_path = "/nonexistent/avsink.toml";
    CHECK(avsink_engine_open(&engine, &o, &err) == AVSINK_EIO, "missing config must be EIO");
    CHECK(engine == NULL, "engine set on failure");
    CHECK(strcmp(err.file, "/nonexistent/avsink.toml") == 0, "got file '%s'", err.file);
  }

  CHECK(avsink_engine_open(&engine, NULL, &err) == AVSINK_OK, "engine_open: %s", err.message);
  CHECK(avsink_engine_info(&info, engine) == AVSINK_OK && strstr(info, "\"clamav\"") != NULL,
        "engine_info: %s", info ? info : "(null)");
  {
    /* The caller-owned copy: equal to the borrowed one, and still valid after further calls. */
    char *copy = NULL;
    const char *again = NULL;
    CHECK(avsink_engine_info_dup(&copy, engine) == AVSINK_OK && copy != NULL, "engine_info_dup");
    CHECK(strcmp(copy, info) == 0, "dup differs from engine_info");
    CHECK(avsink_engine_info(&again, engine) == AVSINK_OK, "engine_info again");
    CHECK(strstr(copy, "\"clamav\"") != NULL, "dup lost its text");
    avsink_string_free(copy);
    avsink_string_free(NULL);
    CHECK(avsink_engine_info_dup(NULL, engine) == AVSINK_EINVAL, "dup(NULL) not EINVAL");
    copy = (char *)1;
    CHECK(avsink_engine_info_dup(&copy, NULL) == AVSINK_EINVAL && copy == NULL, "dup no engine");
  }

  {
    /* Since 1.1: health (the embedded defaults run on the shipped test signatures: degraded),
     * metrics text and adapter-counted tempfails. */
    int healthy = -1;
    const char *reasons = NULL, *metrics = NULL;
    CHECK(avsink_engine_health(&healthy, &reasons, engine) == AVSINK_OK && healthy == 0 &&
              strstr(reasons, "test_signatures_only: ") != NULL,
          "engine_health: %d %s", healthy, reasons ? reasons : "(null)");
    CHECK(avsink_engine_count_tempfail(engine, "too_busy") == AVSINK_OK, "count_tempfail");
    CHECK(avsink_engine_count_tempfail(NULL, "too_busy") == AVSINK_EINVAL, "count_tempfail NULL");
    CHECK(avsink_engine_metrics(&metrics, engine) == AVSINK_OK &&
              strstr(metrics, "avsink_tempfails_total{cause=\"too_busy\"} 1\n") != NULL &&
              strstr(metrics, "avsink_healthy 0\n") != NULL,
          "engine_metrics: %.300s", metrics ? metrics : "(null)");
  }

  /* EICAR attachment, one byte at a time. */
  snprintf(path, sizeof path, "%s/eicar-plain-attachment.eml", argv[1]);
  eml = read_all(path, &len);
  v = scan_chunked(engine, eml, len, 1, &scan);
  CHECK(avsink_verdict_action(v) == AVSINK_ACTION_REJECT, "got action %s, want reject",
        avsink_action_name(avsink_verdict_action(v)));
  CHECK(avsink_verdict_smtp_code(v) == 554, "got code %d", avsink_verdict_smtp_code(v));
  CHECK(strcmp(avsink_verdict_enhanced_status(v), "5.7.1") == 0, "enhanced");
  CHECK(strstr(avsink_verdict_text(v), "Eicar-Test-Signature") != NULL, "text '%s'",
        avsink_verdict_text(v));
  for (i = 0; i < avsink_verdict_finding_count(v); ++i) {
    f = avsink_verdict_finding(v, i);
    CHECK(f != NULL && f->size >= sizeof(avsink_finding), "finding %zu", i);
    if (strcmp(f->kind, "virus") == 0 && strcmp(f->name, "Eicar-Test-Signature") == 0 &&
        strcmp(f->part_path, "1.2") == 0)
      found_eicar = 1;
  }
  CHECK(found_eicar, "no virus finding for Eicar-Test-Signature in part 1.2");
  CHECK(avsink_verdict_finding(v, 9999) == NULL, "out-of-range finding");
  CHECK(strstr(avsink_verdict_json(v), "\"queue_id\":\"ABC123\"") != NULL, "json: %s",
        avsink_verdict_json(v));
  /* Misuse: write or end after end. */
  CHECK(avsink_scan_write(scan, "x", 1) == AVSINK_ESTATE, "write after end");
  CHECK(avsink_scan_end(&v, scan) == AVSINK_ESTATE, "end twice");
  CHECK(strlen(avsink_scan_errmsg(scan)) > 0, "errmsg after misuse");
  avsink_scan_free(scan);
  free(eml);

  /* A clean message: accepted, with the scanned-by header, through the one-call helper. */
  snprintf(path, sizeof path, "%s/mixed-pdf-attachment.eml", argv[1]);
  eml = read_all(path, &len);
  CHECK(avsink_scan_buffer(&v, &scan, engine, NULL, eml, len) == AVSINK_OK, "scan_buffer");
  CHECK(avsink_verdict_action(v) == AVSINK_ACTION_ACCEPT, "got %s, want accept (%s)",
        avsink_action_name(avsink_verdict_action(v)), avsink_verdict_reason(v));
  for (i = 0; i < avsink_verdict_header_count(v); ++i) {
    CHECK(avsink_verdict_header(&name, &value, v, i) == AVSINK_OK, "header %zu", i);
    if (strcmp(name, "X-Virus-Scanned") == 0 && strncmp(value, "avsink ", 7) == 0) found_header = 1;
  }
  CHECK(found_header, "no X-Virus-Scanned header on a clean message");
  /* The scan it returns has ended: more bytes or a second end are refused, the verdict stays. */
  CHECK(avsink_scan_write(scan, "x", 1) == AVSINK_ESTATE, "write after scan_buffer");
  {
    const avsink_verdict *again = NULL;
    CHECK(avsink_scan_end(&again, scan) == AVSINK_ESTATE && again == NULL, "end after scan_buffer");
  }
  CHECK(avsink_verdict_action(v) == AVSINK_ACTION_ACCEPT, "verdict lost after a refused call");
  CHECK(avsink_verdict_header(&name, &value, v, 99) == AVSINK_EINVAL, "header out of range");
  {
    const void *data;
    size_t n;
    CHECK(avsink_verdict_rewritten(&data, &n, v) == AVSINK_EINVAL, "rewritten on accept");
  }
  avsink_scan_free(scan);
  free(eml);

  /* NULL arguments are errors, never crashes; frees accept NULL. */
  CHECK(avsink_scan_begin(NULL, engine, NULL) == AVSINK_EINVAL, "begin NULL out");
  CHECK(avsink_scan_begin(&scan, NULL, NULL) == AVSINK_EINVAL, "begin NULL engine");
  {
    /* Both out-parameters are set even when the arguments are refused. */
    const avsink_verdict *bv = NULL;
    avsink_scan *bs = (avsink_scan *)&bv; /* any non-NULL value the call must overwrite */
    CHECK(avsink_scan_buffer(&bv, &bs, engine, NULL, NULL, 5) == AVSINK_EINVAL, "buffer NULL data");
    CHECK(bs == NULL && bv == NULL, "buffer NULL data left an out-parameter unset");
    avsink_scan_free(bs);
  }
  CHECK(avsink_verdict_action(NULL) == AVSINK_ACTION_TEMPFAIL, "NULL verdict fails closed");
  avsink_scan_free(NULL);
  CHECK(avsink_engine_reload(engine, &err) == AVSINK_OK, "reload: %s", err.message);
  avsink_engine_free(engine);
  avsink_engine_free(NULL);
  printf("abi smoke: ok\n");
  return 0;
}
