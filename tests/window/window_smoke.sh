#!/usr/bin/env bash
# The real window under X (Xvfb in CI): opens the default scene, draws frames, saves a screenshot
# that is not blank.
set -u
app="$1"
source "$(dirname "$0")/xvfb_helper.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"; xvfb_cleanup' EXIT
any_display
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config"  # imgui.ini and recent files go here, not to the user's
"$app" --frames 5 --screenshot "$tmp/shot.png" || { echo "FAIL: app exited $?"; exit 1; }
[ -s "$tmp/shot.png" ] || { echo "FAIL: no screenshot"; exit 1; }
colors=$(convert "$tmp/shot.png" -format '%k' info:)
echo "screenshot has $colors colours"
[ "$colors" -gt 20 ] || { echo "FAIL: screenshot looks blank"; exit 1; }
echo ok
