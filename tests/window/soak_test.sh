#!/usr/bin/env bash
# Soak at CI size: N random edits rendered one per frame under X; the app itself fails on a GL
# error or > 10 % memory growth after the first 100 edits.
set -u
app="$1"; n="${2:-2000}"
source "$(dirname "$0")/xvfb_helper.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"; xvfb_cleanup' EXIT
private_display
"$app" --state-dir "$tmp/state" --soak "$n" --soak-seed "${SOAK_SEED:-7}" --width 1024 --height 640 > "$tmp/out" 2> "$tmp/err"; rc=$?
cat "$tmp/out"; head -20 "$tmp/err"
[ "$rc" -eq 0 ] || { echo "FAIL: soak exited $rc"; exit 1; }
grep -q "soak: $n steps" "$tmp/out" || { echo "FAIL: not all steps ran"; exit 1; }
echo ok
