#!/usr/bin/env bash
# Files on the command line (issue 9, docs/reliability.md "Files"): --out never replaces a device,
# a FIFO or a symlink; a failed write exits 1 and leaves the old file; the output may not be the
# input; a scene that is a FIFO is refused at once. Run as root, /dev/full is the real test: the
# old code replaced the device node with a regular file.
set -u
app="$1"; src="$2"
tmp=$(mktemp -d)
xvfb_pid=""; mnt=""
cleanup() {
  [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
scene="$src/data/two_tokens.json"
cp "$scene" "$tmp/scene.json"

# --- /dev/full: exit 1 naming the reason, and it is still the character device 1,7 ---------------
"$app" export --scene "$scene" --out /dev/full 2> "$tmp/err"; rc=$?
check "export --out /dev/full exits 1" "[ $rc -eq 1 ]"
check "… says why" "grep -q 'cannot write /dev/full: No space left on device' $tmp/err"
check "… /dev/full is still a character device" "[ -c /dev/full ] && [ \"\$(stat -c %t,%T /dev/full)\" = 1,7 ]"
"$app" export --scene "$scene" --out /dev/null; rc=$?
check "export --out /dev/null exits 0, still a device" "[ $rc -eq 0 ] && [ -c /dev/null ]"

# --- stdout that fails --------------------------------------------------------------------------
"$app" export --scene "$scene" > /dev/full 2> "$tmp/err"; rc=$?
check "export > /dev/full exits 1 with a message" "[ $rc -eq 1 ] && grep -q 'standard output: No space left on device' $tmp/err"
"$app" export --scene "$scene" --format csv --out - > /dev/full 2> /dev/null; rc=$?
check "export --out - > /dev/full (csv) exits 1" "[ $rc -eq 1 ]"

# --- a symlink: the target gets the export, the link stays a link --------------------------------
mkdir "$tmp/real"
echo old > "$tmp/real/p.csv"
ln -s real/p.csv "$tmp/link.csv"
"$app" export --scene "$scene" --format csv --out "$tmp/link.csv"; rc=$?
check "export --out at a symlink exits 0" "[ $rc -eq 0 ]"
check "… the link is still a link to real/p.csv" "[ -L $tmp/link.csv ] && [ \"\$(readlink $tmp/link.csv)\" = real/p.csv ]"
check "… the target holds the CSV" "grep -q '^[0-9]*:red,0.75[0-9]*,0.25' $tmp/real/p.csv"
check "… no temporary left next to the target" "[ \"\$(ls -A $tmp/real)\" = p.csv ]"

# --- permissions: a 0600 file stays 0600 ---------------------------------------------------------
echo old > "$tmp/private.json"; chmod 600 "$tmp/private.json"
"$app" export --scene "$scene" --out "$tmp/private.json"; rc=$?
check "overwrite of a 0600 file exits 0 and it stays 0600" "[ $rc -eq 0 ] && [ \$(stat -c %a $tmp/private.json) = 600 ]"
check "… with the export in it" "grep -q '\"pattern\"' $tmp/private.json"

# --- a FIFO: written directly when a process reads it, refused at once when none does -----------
mkfifo "$tmp/fifo"
timeout 10 "$app" export --scene "$scene" --format csv --out "$tmp/fifo" 2> "$tmp/err"; rc=$?
check "export --out a FIFO with no reader: exit 1 at once" "[ $rc -eq 1 ] && grep -q 'no process is reading it' $tmp/err"
check "… the FIFO is still a FIFO" "[ -p $tmp/fifo ]"
exec 7<> "$tmp/fifo"          # a reader (read-write open does not block), as `>(cmd)` would be
timeout 10 "$app" export --scene "$scene" --format csv --out "$tmp/fifo"; rc=$?
timeout 5 head -n 2 <&7 > "$tmp/from_fifo"
exec 7<&-
check "export --out a FIFO with a reader: exit 0, the CSV comes through" "[ $rc -eq 0 ] && grep -q '^[0-9]*:red,0.75[0-9]*,0.25' $tmp/from_fifo"
check "… still a FIFO" "[ -p $tmp/fifo ]"
"$app" export --scene "$scene" --out "$tmp/real" 2> "$tmp/err"; rc=$?
check "export --out a directory: exit 1, says so" "[ $rc -eq 1 ] && grep -q 'is a directory' $tmp/err && [ -d $tmp/real ]"

# --- the output is the input --------------------------------------------------------------------
cp "$tmp/scene.json" "$tmp/scene.orig"
ln -s scene.json "$tmp/scene_link.json"
"$app" export --scene "$tmp/scene.json" --out "$tmp/scene.json" 2> "$tmp/err"; rc=$?
check "export --scene X --out X: exit 2, 'the output is the input'" "[ $rc -eq 2 ] && grep -q 'the output is the input' $tmp/err"
check "… X unchanged" "cmp -s $tmp/scene.json $tmp/scene.orig"
"$app" export --scene "$tmp/scene.json" --out "$tmp/scene_link.json" --format csv 2> /dev/null; rc=$?
check "… also through a symlink to X" "[ $rc -eq 2 ] && cmp -s $tmp/scene.json $tmp/scene.orig"

"$app" render --scene "$tmp/scene.json" --out "$tmp/scene_link.json" 2> "$tmp/err"; rc=$?
check "render --scene X --out X: exit 2 before any window, X unchanged" "[ $rc -eq 2 ] && grep -q 'the output is the input' $tmp/err && cmp -s $tmp/scene.json $tmp/scene.orig"

# --- a scene that is a FIFO with no writer: refused at once, not a hang -------------------------
mkfifo "$tmp/scene_fifo.json"
start=$(date +%s)
timeout 10 "$app" export --scene "$tmp/scene_fifo.json" > /dev/null 2> "$tmp/err"; rc=$?
check "export --scene a FIFO: exit 2 within a few seconds" "[ $rc -eq 2 ] && [ \$(( \$(date +%s) - start )) -lt 5 ]"
check "… says it is a FIFO" "grep -q 'is a FIFO, not a regular file' $tmp/err"
timeout 10 "$app" export --scene /dev/zero > /dev/null 2> "$tmp/err"; rc=$?
check "export --scene /dev/zero: exit 2 (not a regular file)" "[ $rc -eq 2 ] && grep -q 'is a character device, not a regular file' $tmp/err"

# --- figures --out DIR: a figure that is a symlink keeps the link; one that leads to /dev/full fails
mkdir -p "$tmp/scenes" "$tmp/figs"
cp "$scene" "$tmp/scenes/two.json"
ln -s ../real/fig.svg "$tmp/figs/two_head0_pattern.svg"
"$app" figures --scenes "$tmp/scenes" --out "$tmp/figs" > /dev/null 2> "$tmp/err"; rc=$?
check "figures --out DIR exits 0" "[ $rc -eq 0 ] && [ -s $tmp/figs/two_shift.svg ]"
check "… a figure at a symlink: the link stays, the target is the SVG" "[ -L $tmp/figs/two_head0_pattern.svg ] && grep -q '<svg' $tmp/real/fig.svg"
rm "$tmp/figs/two_shift.svg"; ln -s /dev/full "$tmp/figs/two_shift.svg"
"$app" figures --scenes "$tmp/scenes" --out "$tmp/figs" > /dev/null 2> "$tmp/err"; rc=$?
check "figures with a figure linked to /dev/full: exit 1, says why, still a device" \
  "[ $rc -eq 1 ] && grep -q 'No space left on device' $tmp/err && [ -c /dev/full ] && [ -L $tmp/figs/two_shift.svg ]"

# --- render --out on a full file system: exit 1, the old PNG intact ------------------------------
if command -v Xvfb > /dev/null; then
  Xvfb -displayfd 3 -screen 0 1280x720x24 -nolisten tcp -noreset 3> "$tmp/display" 2> /dev/null &
  xvfb_pid=$!
  for _ in $(seq 50); do [ -s "$tmp/display" ] && break; sleep 0.1; done
  export DISPLAY=":$(head -n1 "$tmp/display")"
  # render opens a GL context: Mesa's and the X libraries' own allocations are not ours, so the
  # leak check (on in CI's sanitizer run) is off for these calls; ASan's other checks stay on.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0"
  mkdir "$tmp/small"
  if mount -t tmpfs -o size=64k tmpfs "$tmp/small" 2> /dev/null; then
    mnt="$tmp/small"
    "$app" render --view heatmap --size 64x64 --out "$tmp/good.png" || { echo "FAIL render a small PNG"; fail=1; }
    cp "$tmp/good.png" "$tmp/small/old.png"
    dd if=/dev/zero of="$tmp/small/fill" bs=4k 2> /dev/null   # fills the 64 KiB file system
    "$app" render --view heatmap --size 400x400 --out "$tmp/small/old.png" 2> "$tmp/err"; rc=$?
    check "render --out on a full disk: exit 1, says why" "[ $rc -eq 1 ] && grep -q 'No space left on device' $tmp/err"
    check "… the old PNG is intact" "cmp -s $tmp/good.png $tmp/small/old.png"
    check "… no temporary left" "[ \"\$(ls -A $tmp/small | sort | tr '\n' ' ')\" = 'fill old.png ' ]"
  else
    # Not root (no mount): a file-size limit fails the write just the same (SIGXFSZ ignored → EFBIG).
    "$app" render --view heatmap --size 64x64 --out "$tmp/old.png" || { echo "FAIL render a small PNG"; fail=1; }
    cp "$tmp/old.png" "$tmp/good.png"
    (trap '' XFSZ; ulimit -f 4; "$app" render --view heatmap --size 400x400 --out "$tmp/old.png") 2> "$tmp/err"; rc=$?
    check "render --out past a file-size limit: exit 1, says why" "[ $rc -eq 1 ] && grep -q 'File too large' $tmp/err"
    check "… the old PNG is intact" "cmp -s $tmp/good.png $tmp/old.png"
  fi
  "$app" render --view heatmap --size 64x64 --out /dev/full 2> "$tmp/err"; rc=$?
  check "render --out /dev/full: exit 1, still a device" "[ $rc -eq 1 ] && [ -c /dev/full ]"
else
  echo "skip render checks (no Xvfb)"
fi

exit $fail
