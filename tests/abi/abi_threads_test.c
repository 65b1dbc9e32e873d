/* abi_threads_test.c - 4 threads share one engine and scan the whole corpus 3 times each; every
 * verdict must equal the single-threaded verdict for that message (and EICAR files are rejected).
 */
#include <avsink/avsink.h>
#include <pthread.h>

#include "abi_common.h"

#define THREADS 4
#define ROUNDS 3

static avsink_engine *engine;
static char **files;
static size_t nfiles;
static char **data;
static size_t *lens;
static avsink_action *expected;
static int failures;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static avsink_action scan_once(size_t i) {
  avsink_scan *scan = NULL;
  const avsink_verdict *v = NULL;
  avsink_action a;
  avsink_status st = avsink_scan_buffer(&v, &scan, engine, NULL, data[i], lens[i]);
  a = st == AVSINK_OK ? avsink_verdict_action(v) : (avsink_action)-1;
  avsink_scan_free(scan);
  return a;
}

static void *worker(void *arg) {
  size_t t = (size_t)arg, r, k;
  for (r = 0; r < ROUNDS; ++r)
    for (k = 0; k < nfiles; ++k) {
      size_t i = (k + t * 7 + r) % nfiles; /* different order per thread */
      avsink_action got = scan_once(i);
      if (got != expected[i]) {
        pthread_mutex_lock(&mu);
        ++failures;
        fprintf(stderr, "thread %zu: %s: got %d, want %d\n", t, files[i], (int)got,
                (int)expected[i]);
        pthread_mutex_unlock(&mu);
      }
    }
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t th[THREADS];
  avsink_error err = AVSINK_ERROR_INIT;
  size_t i, eicars = 0;
  CHECK(argc == 2, "usage: abi_threads_test CORPUS_DIR");
  CHECK(avsink_engine_open(&engine, NULL, &err) == AVSINK_OK, "open: %s", err.message);
  files = list_eml(argv[1], &nfiles);
  CHECK(nfiles >= 40, "corpus has only %zu messages", nfiles);
  data = calloc(nfiles, sizeof *data);
  lens = calloc(nfiles, sizeof *lens);
  expected = calloc(nfiles, sizeof *expected);
  for (i = 0; i < nfiles; ++i) {
    data[i] = read_all(files[i], &lens[i]);
    expected[i] = scan_once(i);
    CHECK((int)expected[i] >= 0, "single-threaded scan of %s failed", files[i]);
    if (strstr(files[i], "/eicar-") != NULL) {
      CHECK(expected[i] == AVSINK_ACTION_REJECT, "%s: got %s, want reject", files[i],
            avsink_action_name(expected[i]));
      ++eicars;
    }
  }
  CHECK(eicars >= 4, "only %zu EICAR messages in the corpus", eicars);
  for (i = 0; i < THREADS; ++i) pthread_create(&th[i], NULL, worker, (void *)i);
  for (i = 0; i < THREADS; ++i) pthread_join(th[i], NULL);
  CHECK(failures == 0, "%d verdicts differed from the single-threaded ones", failures);
  printf("threads: %d x %d rounds x %zu messages, all verdicts consistent\n", THREADS, ROUNDS,
         nfiles);
  for (i = 0; i < nfiles; ++i) {
    free(files[i]);
    free(data[i]);
  }
  free(files);
  free(data);
  free(lens);
  free(expected);
  avsink_engine_free(engine);
  return 0;
}
