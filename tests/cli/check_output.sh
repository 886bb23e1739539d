#!/usr/bin/env bash
# Runs a command and checks both its exit code (must be 0) and its output (must match the
# extended regular expression, grep -E, over the whole output; with --lines N also: exactly N lines).
#   check_output.sh REGEX [--lines N] -- COMMAND ARGS...
set -u
regex="$1"; shift
lines=""
if [ "${1:-}" = "--lines" ]; then lines="$2"; shift 2; fi
[ "${1:-}" = "--" ] && shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ]; then echo "FAIL: exit code $rc (expected 0): $*"; exit 1; fi
if ! printf '%s' "$out" | tr '\n' '\r' | grep -qE -- "$regex"; then
  echo "FAIL: the output does not match: $regex"
  exit 1
fi
if [ -n "$lines" ] && [ "$(printf '%s\n' "$out" | wc -l)" -ne "$lines" ]; then
  echo "FAIL: expected $lines line(s) of output"
  exit 1
fi
echo ok
