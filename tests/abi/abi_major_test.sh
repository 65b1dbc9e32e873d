#!/bin/sh
# abi_major_test.sh - the ABI major and release version are written once, in avsink.h: the
# library's SONAME, the version script's node and CMake's project version must all agree with it.
set -eu
lib=$1
header=$2
map=$3
project_version=$4
def() { sed -n "s/^#define $1 \([0-9][0-9]*\)\$/\1/p" "$header"; }
major=$(def AVSINK_ABI_MAJOR)
minor=$(def AVSINK_ABI_MINOR)
release="$(def AVSINK_VERSION_MAJOR).$(def AVSINK_VERSION_MINOR).$(def AVSINK_VERSION_PATCH)"
status=0
[ -n "$major" ] && [ -n "$minor" ] || { echo "avsink.h: no AVSINK_ABI_MAJOR/MINOR"; exit 1; }
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libavsink.so.$major" ] || { echo "SONAME $soname, header says ABI $major"; status=1; }
nodes=$(grep -oE '^AVSINK_[0-9]+\.[0-9]+' "$map" | sed 's/AVSINK_//')
[ -n "$nodes" ] || { echo "$map: no AVSINK_<major>.<minor> node"; status=1; }
for n in $nodes; do
  [ "${n%%.*}" = "$major" ] || { echo "$map: node AVSINK_$n, header says ABI $major"; status=1; }
done
[ "$project_version" = "$release" ] || { echo "CMake version $project_version, header $release"; status=1; }
[ "$status" -eq 0 ] && echo "ABI $major.$minor, release $release, soname $soname: agree"
exit $status
