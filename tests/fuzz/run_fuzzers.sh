#!/usr/bin/env bash
# run_fuzzers.sh [SECONDS] [TARGET...] - builds the libFuzzer targets (clang) and runs each one.
# Invariant: exits non-zero if any target crashes, leaks or times out; crash inputs are kept.
#
# SECONDS defaults to 60 per target (CI). Run longer locally, e.g. `run_fuzzers.sh 3600 mime`.
# Env: BUILD_DIR (default build-fuzz), JOBS (build parallelism, default nproc), CORPUS_DIR (where the
# growing corpora live, default $BUILD_DIR/fuzz-corpus; seeds come from tests/data/fuzz/<target>),
# FUZZ_SEED (libFuzzer -seed; unset = random). CI fixes the seed so that a run is reproducible and
# gates on the change; runs without it explore (tests/fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(mime header_words decode config rule_file scan containers); fi
build=${BUILD_DIR:-build-fuzz}
corpus_root=${CORPUS_DIR:-$build/fuzz-corpus}

cmake -S . -B "$build" -DAVSINK_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAVSINK_BUILD_BENCH=OFF >/dev/null
built=()
for t in "${targets[@]}"; do
  if cmake --build "$build" -j"${JOBS:-$(nproc)}" --target "fuzz_$t" >/dev/null 2>"$build/fuzz_$t.build.log"; then
    built+=("$t")
  elif grep -q "No rule to make target\|unknown target" "$build/fuzz_$t.build.log"; then
    echo "== fuzz_$t: not configured (stage missing), skipped"
  else
    cat "$build/fuzz_$t.build.log"
    exit 1
  fi
done

failed=0
for t in "${built[@]}"; do
  corpus="$corpus_root/$t"
  artifacts="$build/fuzz-artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz_$t for ${secs}s"
  # Memory: -rss_limit_mb is the bound (what is touched). A single reservation may reach 8 GiB:
  # libarchive and liblzma reserve what an archive declares (an LZMA or PPMd dictionary, a
  # read-ahead) up to 4 GiB and touch only what the data fills (8 MB resident, measured);
  # allocator_may_return_null makes a reservation the machine refuses a NULL, as glibc's malloc
  # returns it, which libarchive reports as an error. Declared sizes that avsink itself must
  # bound are checked in src/containers/declared.h (tests/fuzz/README.md).
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=8192 \
    -timeout=30 \
    -max_len=1048576 -artifact_prefix="$artifacts" -print_final_stats=1 ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
    "$corpus" "tests/data/fuzz/$t" >"$build/fuzz_$t.log" 2>&1; then
    echo "!! fuzz_$t FAILED; inputs in $artifacts; log: $build/fuzz_$t.log"
    # What a CI log must carry to reproduce it: the failed check, the report, the top of each
    # stack, and the input itself (base64, when small).
    grep -a -E "FUZZ CHECK FAILED|ERROR|SUMMARY|==[0-9]+==|^ +#[0-9]+ " "$build/fuzz_$t.log" |
      cut -c1-200 | head -60 || true
    for f in "$artifacts"*; do
      [ -f "$f" ] || continue
      if [ "$(stat -c %s "$f")" -le 16384 ]; then
        echo "-- input $(basename "$f") (base64; decode with base64 -d):"
        base64 -w 100 "$f"
      else
        echo "-- input $(basename "$f"): $(stat -c %s "$f") bytes, not printed"
      fi
    done
    failed=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz_$t.log" | tail -2 || true
  fi
done
exit $failed
