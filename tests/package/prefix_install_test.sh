#!/usr/bin/env bash
# prefix_install_test.sh - `cmake --install` into a throwaway prefix: the layout, the unit's paths, the .pc
# file and CMake package, and that installed programs read the prefix's data, never the source tree.
# usage: prefix_install_test.sh BUILD_DIR SOURCE_DIR SANITIZE(ON|OFF)   (exit 0 pass, 1 fail)
set -euo pipefail
build=$1 src=$2 sanitize=$3
prefix=$(mktemp -d /tmp/avsink-prefix.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cflags=""
if [ "$sanitize" = ON ]; then cflags="-fsanitize=address,undefined"; fi

cmake --install "$build" --prefix "$prefix" >"$prefix/install.log" || { cat "$prefix/install.log"; fail "install"; }
for f in bin/avsink lib/libavsink.so.1 lib/libavsink.so include/avsink/avsink.h \
         lib/pkgconfig/avsink.pc lib/cmake/avsink/avsinkConfig.cmake \
         lib/cmake/avsink/avsinkConfigVersion.cmake lib/cmake/avsink/avsinkTargets.cmake \
         share/avsink/rules/attachments-modern.list share/avsink/signatures/avsink-test.ndb \
         etc/avsink/avsink.toml etc/logrotate.d/avsink share/man/man1/avsink.1 \
         share/man/man5/avsink.toml.5 share/man/man8/avsink-milter.8 share/doc/avsink/milter.md; do
  [ -e "$prefix/$f" ] || fail "missing $prefix/$f"
done
echo "ok: layout"

if [ -e "$build/plugins/milter/avsink-milter" ]; then
  unit="$prefix/lib/systemd/system/avsink-milter.service"
  [ -e "$prefix/sbin/avsink-milter" ] || fail "missing sbin/avsink-milter"
  grep -q "^ExecStart=$prefix/sbin/avsink-milter .*-c $prefix/etc/avsink/avsink.toml" "$unit" \
    || fail "unit ExecStart does not name the prefix: $(grep ExecStart= "$unit")"
  # Read whole first: `ldd | grep -q` under pipefail fails when grep quits before ldd has written
  # its last line (SIGPIPE), which a long library list made happen under ASan.
  libs=$(ldd "$prefix/sbin/avsink-milter")
  grep -q "$prefix/sbin/../lib/libavsink.so.1\|$prefix/lib/libavsink.so.1" <<<"$libs" \
    || fail "installed milter does not load the prefix's library: $libs"
  "$prefix/sbin/avsink-milter" --version >/dev/null || fail "installed milter does not run"
  echo "ok: milter and unit"
fi

# A second install keeps an edited configuration.
echo "# edited" >>"$prefix/etc/avsink/avsink.toml"
cmake --install "$build" --prefix "$prefix" >/dev/null
grep -q "^# edited" "$prefix/etc/avsink/avsink.toml" || fail "a reinstall overwrote the configuration"
"$prefix/bin/avsink" config check "$prefix/etc/avsink/avsink.toml" >/dev/null || fail "config check"
echo "ok: configuration kept and valid"

# The installed CLI reads the prefix's rule lists: without them it fails naming the prefix, even
# though the source tree still has them (it never falls back to $src/rules).
msg=$(printf 'From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nhello\r\n')
printf '%s' "$msg" | "$prefix/bin/avsink" scan --quiet - >/dev/null || fail "scan of a clean message"
mkdir "$prefix/lists-aside"
mv "$prefix"/share/avsink/rules/attachments-*.list "$prefix/lists-aside/"
set +e
out=$(printf '%s' "$msg" | "$prefix/bin/avsink" scan - 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "scan succeeded without the prefix's lists (read $src/rules?): $out"
grep -q "$prefix/share/avsink/rules" <<<"$out" || fail "error does not name the prefix: $out"
mv "$prefix"/lists-aside/* "$prefix/share/avsink/rules/"
echo "ok: data read from $prefix/share/avsink"

# Consumers: pkg-config and find_package(avsink) against the prefix.
cat >"$prefix/v.c" <<'C'
#include <avsink/avsink.h>
#include <stdio.h>
int main(void) { puts(avsink_version_string()); return 0; }
C
# shellcheck disable=SC2046
cc $cflags -o "$prefix/v-pc" "$prefix/v.c" $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs avsink)
LD_LIBRARY_PATH="$prefix/lib" "$prefix/v-pc" >/dev/null || fail "pkg-config consumer"
mkdir "$prefix/consumer"
cat >"$prefix/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(avsink 0.1 REQUIRED)
add_executable(v ../v.c)
target_link_libraries(v PRIVATE avsink::avsink)
CM
cmake -S "$prefix/consumer" -B "$prefix/consumer/b" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="$cflags" >"$prefix/consumer.log" 2>&1 || { cat "$prefix/consumer.log"; fail "find_package(avsink)"; }
cmake --build "$prefix/consumer/b" >>"$prefix/consumer.log" 2>&1 || { cat "$prefix/consumer.log"; fail "consumer build"; }
"$prefix/consumer/b/v" >/dev/null || fail "CMake consumer"
echo "ok: pkg-config and find_package(avsink) consumers"
echo "PASS"
