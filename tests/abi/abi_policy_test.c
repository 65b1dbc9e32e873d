/* abi_policy_test.c - the 1.1 additions seen from C: per-recipient verdicts, the policy a
 * recipient gets before the message is known, the policy flags. Links libavsink.so. */
#define _DEFAULT_SOURCE 1 /* mkstemp */
#include <avsink/avsink.h>
#include <stdint.h>
#include <unistd.h>

#include "abi_common.h"
#include "abi_engine.h"

int main(int argc, char **argv) {
  char path[4096];
  char name[64];
  const char *toml =
      "[clamav]\nsystem_db = false\n"
      "[[policy]]\nname = \"lab\"\nrecipients = [\"lab@example.net\"]\nvirus = \"accept\"\n"
      "allow_extensions = [\"com\"]\n";
  const char *rcpts[] = {"lab@example.net", "bob@example.net"};
  avsink_envelope env = AVSINK_ENVELOPE_INIT;
  avsink_engine *engine = NULL;
  avsink_scan *scan = NULL;
  const avsink_verdict *v = NULL;
  const avsink_recipient_verdict *r0, *r1;
  char *eml;
  size_t len;
  CHECK(argc == 2, "usage: abi_policy_test CORPUS_DIR");
  CHECK((avsink_abi_version() & 0xffff) >= 1, "ABI minor %u, want >= 1",
        avsink_abi_version() & 0xffff);

  engine = open_engine_toml(toml);
  CHECK(avsink_engine_policy_flags(engine) == AVSINK_POLICY_BY_RECIPIENT, "flags %u",
        avsink_engine_policy_flags(engine));
  CHECK(avsink_engine_policy_flags(NULL) == 0, "flags of NULL");

  env.client_address = "198.51.100.1";
  env.mail_from = "a@x.example";
  CHECK(avsink_engine_policy(name, sizeof name, engine, &env, "LAB@example.net") == AVSINK_OK &&
            strcmp(name, "lab") == 0,
        "got policy '%s', want lab", name);
  CHECK(avsink_engine_policy(name, sizeof name, engine, NULL, "bob@example.net") == AVSINK_OK &&
            strcmp(name, "default") == 0,
        "got policy '%s', want default", name);
  CHECK(avsink_engine_policy(name, 3, engine, &env, "lab@example.net") == AVSINK_EINVAL,
        "a buffer too small must be EINVAL");
  CHECK(avsink_engine_policy(NULL, 9, engine, &env, NULL) == AVSINK_EINVAL, "NULL out");

  env.rcpt_to = rcpts;
  env.rcpt_count = 2;
  snprintf(path, sizeof path, "%s/eicar-plain-attachment.eml", argv[1]);
  eml = read_all(path, &len);
  CHECK(avsink_scan_buffer(&v, &scan, engine, &env, eml, len) == AVSINK_OK, "scan: %s",
        avsink_scan_errmsg(scan));
  CHECK(avsink_verdict_action(v) == AVSINK_ACTION_REJECT, "message-level action %s, want reject",
        avsink_action_name(avsink_verdict_action(v)));
  CHECK(strcmp(avsink_verdict_policy(v), "default") == 0, "policy %s", avsink_verdict_policy(v));
  CHECK(avsink_verdict_recipient_count(v) == 2, "recipient count %zu",
        avsink_verdict_recipient_count(v));
  r0 = avsink_verdict_recipient(v, 0);
  r1 = avsink_verdict_recipient(v, 1);
  CHECK(r0 && r1 && avsink_verdict_recipient(v, 2) == NULL, "recipient pointers");
  CHECK(r0->size >= sizeof(avsink_recipient_verdict), "size %zu", r0->size);
  CHECK(strcmp(r0->address, "lab@example.net") == 0 && strcmp(r0->policy, "lab") == 0 &&
            r0->action == AVSINK_ACTION_ACCEPT && r0->smtp_code == 250,
        "rcpt 0: %s %s %s %d", r0->address, r0->policy, avsink_action_name(r0->action),
        r0->smtp_code);
  CHECK(strcmp(r1->address, "bob@example.net") == 0 && strcmp(r1->policy, "default") == 0 &&
            r1->action == AVSINK_ACTION_REJECT && r1->smtp_code == 554 &&
            strcmp(r1->enhanced_status, "5.7.1") == 0 && strstr(r1->text, "Eicar") != NULL,
        "rcpt 1: %s %s %s %d %s %s", r1->address, r1->policy, avsink_action_name(r1->action),
        r1->smtp_code, r1->enhanced_status, r1->text);
  CHECK(avsink_verdict_recipient_count(NULL) == 0 && avsink_verdict_recipient(NULL, 0) == NULL &&
            strcmp(avsink_verdict_policy(NULL), "default") == 0,
        "NULL verdict accessors");
  avsink_scan_free(scan);
  free(eml);
  avsink_engine_free(engine);
  printf("abi policy ok\n");
  return 0;
}
