/* abi_common.h - tiny helpers for the plain-C ABI tests: read a file, list a corpus, check macros.
 * C only; the tests report "got X, want Y" and exit non-zero on the first failure. */
#ifndef AVSINK_TESTS_ABI_COMMON_H
#define AVSINK_TESTS_ABI_COMMON_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* Reads a whole file into a malloc'd buffer (caller frees); exits on failure. */
static inline char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  CHECK(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  CHECK(buf != NULL, "out of memory");
  CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n, "short read on %s", path);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static inline int has_suffix(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static inline int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted list of "dir/name.eml" paths (caller frees each and the array). */
static inline char **list_eml(const char *dir, size_t *count) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char **out = NULL;
  size_t n = 0;
  CHECK(d != NULL, "cannot open directory %s", dir);
  while ((e = readdir(d)) != NULL) {
    char *p;
    if (!has_suffix(e->d_name, ".eml")) continue;
    out = realloc(out, (n + 1) * sizeof *out);
    p = malloc(strlen(dir) + strlen(e->d_name) + 2);
    CHECK(out != NULL && p != NULL, "out of memory");
    sprintf(p, "%s/%s", dir, e->d_name);
    out[n++] = p;
  }
  closedir(d);
  qsort(out, n, sizeof *out, cmp_str);
  *count = n;
  return out;
}

#endif
