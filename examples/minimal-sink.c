/* minimal-sink.c - a complete SMTP receiver on the avsink C ABI, as a home-grown engine would
 * embed it: every DATA is scanned, clean mail is stored as one file per message. Not a product.
 *
 * usage: minimal-sink [-c avsink.toml] [-p port] [-d maildir] [-n max_connections]
 *   Listens on 127.0.0.1:port (0 = any free port; the port is printed as "listening on PORT"),
 *   one connection at a time; stops after max_connections connections (0 = never).
 *   Accepted messages are written to maildir/<n>.eml with avsink's headers on top.
 * What it leaves out on purpose: TLS, AUTH, pipelining limits, timeouts per command, concurrency.
 */
#include <arpa/inet.h>
#include <avsink/avsink.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_RCPT 100
#define MAX_LINE 1000

struct session {
  FILE *in, *out;
  char helo[256], from[256], rcpt[MAX_RCPT][256];
  size_t nrcpt;
  char addr[64];
};

static void reply(struct session *s, const char *text) {
  fprintf(s->out, "%s\r\n", text);
  fflush(s->out);
}

/* Reads one line without its CRLF; returns its length, or -1 at EOF or on an over-long line. */
static int read_line(struct session *s, char *line, size_t size) {
  if (fgets(line, (int)size, s->in) == NULL) return -1;
  size_t n = strlen(line);
  if (n == 0 || line[n - 1] != '\n') return -1; /* longer than RFC 5321 allows: hang up */
  line[--n] = '\0';
  if (n > 0 && line[n - 1] == '\r') line[--n] = '\0';
  return (int)n;
}

/* Copies the address between < and > of "MAIL FROM:<x>" / "RCPT TO:<x>" into out. */
static int address_of(const char *arg, char *out, size_t size) {
  const char *lt = strchr(arg, '<'), *gt = lt ? strchr(lt, '>') : NULL;
  if (lt == NULL || gt == NULL || (size_t)(gt - lt - 1) >= size) return 0;
  memcpy(out, lt + 1, (size_t)(gt - lt - 1));
  out[gt - lt - 1] = '\0';
  return 1;
}

/* Stores an accepted message: avsink's headers, then the message as received. */
static int store(const char *dir, const avsink_verdict *v, const char *data, size_t len) {
  static unsigned long counter;
  char path[4096], tmp[4100];
  snprintf(path, sizeof path, "%s/%ld-%lu.eml", dir, (long)getpid(), ++counter);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (f == NULL) return 0;
  for (size_t i = 0; i < avsink_verdict_header_count(v); ++i) {
    const char *name, *value;
    if (avsink_verdict_header(&name, &value, v, i) == AVSINK_OK)
      fprintf(f, "%s: %s\r\n", name, value);
  }
  int ok = fwrite(data, 1, len, f) == len;
  ok = (fclose(f) == 0) && ok && rename(tmp, path) == 0;
  if (!ok) unlink(tmp);
  return ok;
}

/* Receives DATA into an avsink scan, line by line (dot-unstuffed), and answers with the verdict. */
static void data(struct session *s, avsink_engine *engine, const char *maildir) {
  const char *rcpts[MAX_RCPT];
  for (size_t i = 0; i < s->nrcpt; ++i) rcpts[i] = s->rcpt[i];
  avsink_envelope env = AVSINK_ENVELOPE_INIT;
  env.client_address = s->addr;
  env.helo = s->helo[0] ? s->helo : NULL;
  env.mail_from = s->from;
  env.rcpt_to = rcpts;
  env.rcpt_count = s->nrcpt;

  avsink_scan *scan = NULL;
  avsink_status st = avsink_scan_begin(&scan, engine, &env);
  reply(s, "354 End data with <CR><LF>.<CR><LF>");
  /* The message is also kept here, to store it if it is accepted. */
  char *copy = NULL;
  size_t len = 0, cap = 0;
  char line[MAX_LINE + 3];
  int n;
  while ((n = read_line(s, line, sizeof line)) >= 0) {
    if (strcmp(line, ".") == 0) break;
    const char *p = line[0] == '.' ? line + 1 : line;
    size_t plen = strlen(p);
    if (len + plen + 2 > cap) {
      cap = (len + plen + 2) * 2;
      char *q = realloc(copy, cap);
      if (q == NULL)
        st = AVSINK_ENOMEM;
      else
        copy = q;
    }
    if (st == AVSINK_OK) {
      memcpy(copy + len, p, plen);
      memcpy(copy + len + plen, "\r\n", 2);
      st = avsink_scan_write(scan, copy + len, plen + 2);
      len += plen + 2;
    }
  }
  if (n < 0) { /* the client left in the middle of DATA: nothing to answer */
    avsink_scan_free(scan);
    free(copy);
    return;
  }
  const avsink_verdict *v = NULL;
  if (st == AVSINK_OK) st = avsink_scan_end(&v, scan);
  char text[1024];
  if (st != AVSINK_OK) { /* no decision: fail closed */
    fprintf(stderr, "scan failed: %s %s\n", avsink_strerror(st),
            scan ? avsink_scan_errmsg(scan) : "");
    snprintf(text, sizeof text, "451 4.3.0 scan failed, try again later");
  } else {
    avsink_action a = avsink_verdict_action(v);
    fprintf(stderr, "%s: %s\n", avsink_action_name(a), avsink_verdict_reason(v));
    if (a == AVSINK_ACTION_ACCEPT || a == AVSINK_ACTION_REWRITE) {
      const void *out = copy;
      size_t out_len = len;
      if (a == AVSINK_ACTION_REWRITE && avsink_verdict_rewritten(&out, &out_len, v) != AVSINK_OK)
        out = NULL;
      if (out != NULL && store(maildir, v, out, out_len))
        snprintf(text, sizeof text, "250 2.0.0 Ok: stored");
      else
        snprintf(text, sizeof text, "451 4.3.0 could not store the message");
    } else if (a == AVSINK_ACTION_QUARANTINE || a == AVSINK_ACTION_DISCARD) {
      snprintf(text, sizeof text, "250 2.0.0 Ok: %s", avsink_action_name(a));
    } else { /* reject or tempfail: the verdict's own reply */
      snprintf(text, sizeof text, "%d %s %s", avsink_verdict_smtp_code(v),
               avsink_verdict_enhanced_status(v), avsink_verdict_text(v));
    }
  }
  reply(s, text);
  avsink_scan_free(scan);
  free(copy);
  s->from[0] = '\0';
  s->nrcpt = 0;
}

static void serve(int fd, const struct sockaddr_in *peer, avsink_engine *engine,
                  const char *maildir) {
  struct session s;
  memset(&s, 0, sizeof s);
  inet_ntop(AF_INET, &peer->sin_addr, s.addr, sizeof s.addr);
  s.in = fdopen(fd, "r");
  s.out = fdopen(dup(fd), "w");
  if (s.in == NULL || s.out == NULL) goto done;
  reply(&s, "220 minimal-sink ESMTP (avsink example)");
  char line[MAX_LINE + 3];
  int have_from = 0;
  while (read_line(&s, line, sizeof line) >= 0) {
    if (strncasecmp(line, "HELO ", 5) == 0 || strncasecmp(line, "EHLO ", 5) == 0) {
      snprintf(s.helo, sizeof s.helo, "%.255s", line + 5);
      reply(&s, strncasecmp(line, "EHLO", 4) == 0 ? "250-minimal-sink\r\n250 8BITMIME"
                                                  : "250 minimal-sink");
    } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
      have_from = address_of(line + 10, s.from, sizeof s.from);
      s.nrcpt = 0;
      reply(&s, have_from ? "250 2.1.0 Ok" : "501 5.1.7 Bad sender address");
    } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
      if (!have_from)
        reply(&s, "503 5.5.1 MAIL first");
      else if (s.nrcpt == MAX_RCPT)
        reply(&s, "452 4.5.3 Too many recipients");
      else if (!address_of(line + 8, s.rcpt[s.nrcpt], sizeof s.rcpt[0]))
        reply(&s, "501 5.1.3 Bad recipient address");
      else {
        ++s.nrcpt;
        reply(&s, "250 2.1.5 Ok");
      }
    } else if (strcasecmp(line, "DATA") == 0) {
      if (!have_from || s.nrcpt == 0)
        reply(&s, "503 5.5.1 MAIL and RCPT first");
      else {
        data(&s, engine, maildir);
        have_from = 0;
      }
    } else if (strcasecmp(line, "RSET") == 0) {
      have_from = 0;
      s.nrcpt = 0;
      reply(&s, "250 2.0.0 Ok");
    } else if (strcasecmp(line, "NOOP") == 0) {
      reply(&s, "250 2.0.0 Ok");
    } else if (strcasecmp(line, "QUIT") == 0) {
      reply(&s, "221 2.0.0 Bye");
      break;
    } else {
      reply(&s, "502 5.5.2 Command not implemented");
    }
  }
done:
  if (s.in)
    fclose(s.in);
  else
    close(fd);
  if (s.out) fclose(s.out);
}

int main(int argc, char **argv) {
  const char *config = NULL, *maildir = ".";
  int port = 2525, max_conn = 0, opt;
  while ((opt = getopt(argc, argv, "c:p:d:n:")) != -1) {
    if (opt == 'c')
      config = optarg;
    else if (opt == 'p')
      port = atoi(optarg);
    else if (opt == 'd')
      maildir = optarg;
    else if (opt == 'n')
      max_conn = atoi(optarg);
    else {
      fprintf(stderr, "usage: %s [-c avsink.toml] [-p port] [-d maildir] [-n max]\n", argv[0]);
      return 2;
    }
  }
  uint32_t abi = avsink_abi_version();
  if (!AVSINK_ABI_COMPATIBLE(abi)) {
    fprintf(stderr, "libavsink ABI %u.%u is not the %d.%d this was built for\n", abi >> 16,
            abi & 0xffff, AVSINK_ABI_MAJOR, AVSINK_ABI_MINOR);
    return 1;
  }
  avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
  o.config_path = config;
  avsink_error err = AVSINK_ERROR_INIT;
  avsink_engine *engine = NULL;
  avsink_status st = avsink_engine_open(&engine, &o, &err);
  if (st != AVSINK_OK) {
    fprintf(stderr, "engine: %s: %s\n", avsink_strerror(st), err.message);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t slen = sizeof sa;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 16) != 0 ||
      getsockname(ls, (struct sockaddr *)&sa, &slen) != 0) {
    perror("listen");
    avsink_engine_free(engine);
    return 1;
  }
  printf("listening on %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  for (int served = 0; max_conn == 0 || served < max_conn; ++served) {
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = accept(ls, (struct sockaddr *)&peer, &plen);
    if (fd < 0) continue;
    serve(fd, &peer, engine, maildir);
  }
  close(ls);
  avsink_engine_free(engine);
  return 0;
}
