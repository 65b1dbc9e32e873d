// fuzz_check.h - FUZZ_CHECK(cond): the property assertion shared by every fuzz target.
// Invariant: a failed check names file, line and condition on stderr, then aborts (libFuzzer keeps
// the input).
#pragma once

#include <cstdio>
#include <cstdlib>

[[noreturn]] inline void avsink_fuzz_check_failed(const char *file, int line, const char *what) {
  std::fprintf(stderr, "FUZZ CHECK FAILED: %s:%d: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(cond) ((cond) ? (void)0 : avsink_fuzz_check_failed(__FILE__, __LINE__, #cond))
