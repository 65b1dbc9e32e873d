/* abi_rewrite_test.c - the 1.2 additions seen from C: header edits and the rewritten body, which
 * let an adapter deliver REWRITE (and drop forged avsink headers) without splitting the message. */
#define _GNU_SOURCE 1 /* mkstemp, memmem, strcasecmp */
#include <avsink/avsink.h>
#include <stdint.h>
#include <unistd.h>

#include "abi_common.h"
#include "abi_engine.h"

static const char kForged[] = "X-Virus-Scanned: forged by the sender\r\n";

/* Scans `forged header + file` for `rcpt`; the caller frees *scan_out. */
static const avsink_verdict *scan_file(avsink_scan **scan_out, avsink_engine *engine,
                                       const char *path, const char *rcpt) {
  const char *rcpts[1];
  avsink_envelope env = AVSINK_ENVELOPE_INIT;
  const avsink_verdict *v = NULL;
  size_t len, n = strlen(kForged);
  char *file = read_all(path, &len);
  char *msg = malloc(n + len);
  CHECK(msg != NULL, "out of memory");
  memcpy(msg, kForged, n);
  memcpy(msg + n, file, len);
  rcpts[0] = rcpt;
  env.client_address = "198.51.100.1";
  env.mail_from = "alice@example.org";
  env.rcpt_to = rcpts;
  env.rcpt_count = 1;
  CHECK(avsink_scan_buffer(&v, scan_out, engine, &env, msg, n + len) == AVSINK_OK, "scan: %s",
        avsink_scan_errmsg(*scan_out));
  free(file);
  free(msg);
  return v;
}

/* The edit of `kind` named `name` (case-insensitive), or NULL. */
static const avsink_header_edit *find_edit(const avsink_verdict *v, avsink_header_edit_kind kind,
                                           const char *name) {
  size_t i, n = avsink_verdict_header_edit_count(v);
  for (i = 0; i < n; ++i) {
    const avsink_header_edit *e = avsink_verdict_header_edit(v, i);
    CHECK(e != NULL && e->size >= sizeof(avsink_header_edit), "edit %zu", i);
    if (e->kind == kind && strcasecmp(e->name, name) == 0) return e;
  }
  return NULL;
}

int main(int argc, char **argv) {
  char path[4096];
  const char *toml =
      "[clamav]\nsystem_db = false\n"
      "[[policy]]\nname = \"strip\"\nrecipients = [\"strip@example.net\"]\nbanned = \"strip\"\n";
  avsink_engine *engine = NULL;
  avsink_scan *scan = NULL;
  const avsink_verdict *v;
  const avsink_header_edit *e;
  const void *all, *body;
  size_t all_len, body_len;
  CHECK(argc == 2, "usage: abi_rewrite_test TEST_DATA_DIR");
  CHECK((avsink_abi_version() & 0xffff) >= 2, "ABI minor %u, want >= 2",
        avsink_abi_version() & 0xffff);
  engine = open_engine_toml(toml);

  /* REWRITE: SETUP.EXE is cut out. The edits add X-Avsink-Stripped and delete the forged
   * X-Virus-Scanned; the new body is the rewritten message after its first empty line. */
  snprintf(path, sizeof path, "%s/attachments/trick-plain-exe-uppercase.eml", argv[1]);
  v = scan_file(&scan, engine, path, "strip@example.net");
  CHECK(avsink_verdict_action(v) == AVSINK_ACTION_REWRITE, "action %s, want rewrite",
        avsink_action_name(avsink_verdict_action(v)));
  e = find_edit(v, AVSINK_HEADER_ADD, "X-Avsink-Stripped");
  CHECK(e != NULL && strstr(e->value, "SETUP.EXE") != NULL && e->index == 0,
        "got no ADD X-Avsink-Stripped naming SETUP.EXE");
  e = find_edit(v, AVSINK_HEADER_DELETE, "X-Virus-Scanned");
  CHECK(e != NULL && e->index == 1 && strcmp(e->value, "") == 0,
        "got no DELETE of X-Virus-Scanned #1");
  CHECK(find_edit(v, AVSINK_HEADER_CHANGE, "Subject") == NULL, "an unchanged Subject was edited");
  CHECK(avsink_verdict_header_edit(v, avsink_verdict_header_edit_count(v)) == NULL,
        "an index past the end must give NULL");
  CHECK(avsink_verdict_rewritten(&all, &all_len, v) == AVSINK_OK, "rewritten");
  CHECK(avsink_verdict_rewritten_body(&body, &body_len, v) == AVSINK_OK, "rewritten_body");
  CHECK((const char *)body > (const char *)all &&
            (const char *)body + body_len == (const char *)all + all_len,
        "the body must be the end of the rewritten message");
  CHECK(memcmp((const char *)body - 4, "\r\n\r\n", 4) == 0, "the body must follow the empty line");
  CHECK(memmem(body, body_len, "Please see the attachment.", 26) != NULL, "text part kept");
  CHECK(memmem(body, body_len, "TVqQAAAA", 8) == NULL, "the executable must be gone");
  CHECK(avsink_verdict_rewritten_body(NULL, &body_len, v) == AVSINK_EINVAL, "NULL data_out");
  avsink_scan_free(scan);

  /* Not a REWRITE (banned attachment, default policy: reject): no body; the edits still delete
   * the forged header, and add nothing. */
  v = scan_file(&scan, engine, path, "bob@example.net");
  CHECK(avsink_verdict_action(v) == AVSINK_ACTION_REJECT, "action %s, want reject",
        avsink_action_name(avsink_verdict_action(v)));
  CHECK(avsink_verdict_rewritten_body(&body, &body_len, v) == AVSINK_EINVAL,
        "rewritten_body of a reject must be EINVAL");
  CHECK(avsink_verdict_header_edit_count(v) == 1 &&
            find_edit(v, AVSINK_HEADER_DELETE, "X-Virus-Scanned") != NULL,
        "got %zu edits, want the one delete", avsink_verdict_header_edit_count(v));
  avsink_scan_free(scan);

  CHECK(avsink_verdict_header_edit_count(NULL) == 0 && avsink_verdict_header_edit(NULL, 0) == NULL,
        "NULL verdict accessors");
  avsink_engine_free(engine);
  printf("abi rewrite ok\n");
  return 0;
}
