/* null_milter.c - a milter that takes every event the way avsink-milter negotiates them and
 * accepts: the floor cost of any milter behind Postfix, measured by bench/milter_bench.py
 * (--null-milter). */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The same protocol steps as avsink-milter's on_negotiate (plugins/milter/callbacks.cpp), so the
 * MTA sends the same events and waits for the same replies. */
static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3) {
  (void)ctx, (void)f0, (void)f2, (void)f3;
  const unsigned long want = SMFIP_HDR_LEADSPC | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
                             SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY |
                             SMFIP_NOUNKNOWN;
  *pf0 = 0;
  *pf1 = want & f1;
  *pf2 = 0;
  *pf3 = 0;
  return SMFIS_CONTINUE;
}

static sfsistat on_helo(SMFICTX *c, char *h) {
  (void)c, (void)h;
  return SMFIS_NOREPLY;
}
static sfsistat on_from(SMFICTX *c, char **a) {
  (void)c, (void)a;
  return SMFIS_NOREPLY;
}
static sfsistat on_rcpt(SMFICTX *c, char **a) {
  (void)c, (void)a;
  return SMFIS_NOREPLY;
}
static sfsistat on_data(SMFICTX *c) {
  (void)c;
  return SMFIS_NOREPLY;
}
static sfsistat on_eoh(SMFICTX *c) {
  (void)c;
  return SMFIS_NOREPLY;
}
static sfsistat on_header(SMFICTX *c, char *n, char *v) {
  (void)c, (void)n, (void)v;
  return SMFIS_NOREPLY;
}
static sfsistat on_body(SMFICTX *c, unsigned char *b, size_t n) {
  (void)c, (void)b, (void)n;
  return SMFIS_NOREPLY;
}
static sfsistat on_eom(SMFICTX *c) {
  (void)c;
  return SMFIS_ACCEPT;
}

/* usage: bench_null_milter -s unix:PATH [other avsink-milter options, ignored] */
int main(int argc, char **argv) {
  const char *conn = NULL;
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "-s") == 0) conn = argv[i + 1];
  if (conn == NULL || strncmp(conn, "unix:", 5) != 0) {
    fprintf(stderr, "usage: bench_null_milter -s unix:PATH\n");
    return 2;
  }
  struct smfiDesc desc = {"null",  SMFI_VERSION, 0,       NULL,        on_helo, on_from,
                          on_rcpt, on_header,    on_eoh,  on_body,     on_eom,  NULL,
                          NULL,    NULL,         on_data, on_negotiate};
  unlink(conn + 5);
  umask(0); /* the MTA connects as its own user; a bench tool, never deployed */
  if (smfi_setconn((char *)conn) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
      smfi_opensocket(1) != MI_SUCCESS) {
    fprintf(stderr, "bench_null_milter: cannot listen on %s\n", conn);
    return 1;
  }
  fprintf(stderr, "bench_null_milter listening on %s\n", conn);
  fflush(stderr);
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
