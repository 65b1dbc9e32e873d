#!/bin/sh
# exports_test.sh - every dynamic symbol libavsink exports starts with avsink_ and is declared in
# avsink.h, and every function declared there is exported (curl test1167 idea).
set -eu
lib=$1
header=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBR]$/ {print $3}' | sed 's/@.*//' | sort -u)
declared=$(grep -oE 'avsink_[a-z_]+\(' "$header" | tr -d '(' | sort -u)
status=0
for s in $exported; do
  case "$s" in
    avsink_*) ;;
    *) echo "exported symbol without avsink_ prefix: $s"; status=1 ;;
  esac
  echo "$declared" | grep -qx "$s" || { echo "exported but not declared in avsink.h: $s"; status=1; }
done
for s in $declared; do
  echo "$exported" | grep -qx "$s" || { echo "declared in avsink.h but not exported: $s"; status=1; }
done
[ "$status" -eq 0 ] && echo "exports ok: $(echo "$exported" | wc -l) symbols"
exit $status
