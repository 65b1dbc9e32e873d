/* abi_engine.h - for the plain-C ABI tests: open a dry-run engine from a TOML text (written to a
 * temp file that is removed again). Include after <avsink/avsink.h>, <unistd.h> and abi_common.h.
 */
#ifndef AVSINK_TESTS_ABI_ENGINE_H
#define AVSINK_TESTS_ABI_ENGINE_H

/* An engine opened with AVSINK_ENGINE_DRY_RUN from `toml`; exits on failure. Caller frees. */
static inline avsink_engine *open_engine_toml(const char *toml) {
  char conf[] = "/tmp/avsink-abi-XXXXXX";
  avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
  avsink_error err = AVSINK_ERROR_INIT;
  avsink_engine *engine = NULL;
  int fd = mkstemp(conf);
  CHECK(fd >= 0, "mkstemp");
  CHECK(write(fd, toml, strlen(toml)) == (ssize_t)strlen(toml), "write config");
  close(fd);
  o.config_path = conf;
  o.flags = AVSINK_ENGINE_DRY_RUN;
  CHECK(avsink_engine_open(&engine, &o, &err) == AVSINK_OK, "engine_open: %s", err.message);
  unlink(conf);
  return engine;
}

#endif
