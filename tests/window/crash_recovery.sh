#!/usr/bin/env bash
# Crash recovery as a user meets it: start, edit, wait for autosave, kill -9, start again: the
# app says the last session crashed and (with --restore) brings the edit back. A clean exit is
# not offered for restore. Two instances on one state folder keep separate session files; a
# crash is seen through the session file's lock (which the kernel drops at death), so a killed
# instance that is still a zombie, or whose pid is reused, is still offered. Needs an X display.
set -u
app="$1"
tmp=$(mktemp -d)
pid=""; pid2=""; holder=""
source "$(dirname "$0")/xvfb_helper.sh"
cleanup() { for p in $pid $pid2 $holder; do kill -9 "$p" 2> /dev/null; done; xvfb_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT
private_display
export HOME="$tmp/home" XDG_STATE_HOME="$tmp/state"
mkdir -p "$HOME"
state="$XDG_STATE_HOME/attnviz"
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
autosave_of() { echo "$state/autosave-$1-"*.json; }  # autosave-<pid>-<start ms>.json
wait_autosave() {  # PID TEXT
  for _ in $(seq 80); do f=$(autosave_of "$1"); [ -s "$f" ] && grep -q "$2" "$f" && return 0; sleep 0.1; done
  return 1
}

# 1. Start and edit (the text, as typing it would), leave it running. Its parent is a `sleep`
# that never reaps it, so once killed it stays a zombie (bash would reap its own child at once).
( "$app" --test-edit "the lecturer's edited sentence" > "$tmp/run1.out" 2>&1 & echo $! > "$tmp/pid1"; exec sleep 300 ) &
holder=$!
for _ in $(seq 50); do [ -s "$tmp/pid1" ] && break; sleep 0.1; done
pid=$(cat "$tmp/pid1")
check "autosave written within a few seconds" "wait_autosave $pid lecturer"
check "the session file is named by the pid" "ls '$state'/session-$pid-*.lock > /dev/null"
# 2. A second instance on the same folder: its own files, the first not offered (it is alive).
"$app" --test-edit "a second window's words" > "$tmp/run2.out" 2>&1 &
pid2=$!
check "the second instance autosaves to its own file" "wait_autosave $pid2 'second window'"
check "the first instance's autosave is untouched" "grep -q lecturer $(autosave_of $pid)"
check "the second instance saw no crash (the first is alive)" "! grep -q 'did not end normally' '$tmp/run2.out'"
# 3. Kill both; the first stays a zombie (not reaped) while the next start looks.
kill -9 "$pid" "$pid2"
sleep 0.3
check "the first instance is a zombie now" "[ \"\$(ps -o stat= -p $pid | cut -c1)\" = Z ]"
check "no temporary files left" "[ -z \"\$(ls '$state' | grep tmp)\" ]"

# 4. Start again: both crashes are noticed, the newest restored.
"$app" --restore --frames 5 > "$tmp/run3.out" 2>&1; rc=$?
cat "$tmp/run3.out"
check "restart exits 0" "[ $rc -eq 0 ]"
check "restart offers both crashed sessions" "[ \$(grep -c 'did not end normally' '$tmp/run3.out') -eq 2 ]"
check "restart restores the newest crashed session's text" "grep -q \"restored the autosaved scene (4 tokens: a second window's words)\" '$tmp/run3.out'"
kill "$holder" 2> /dev/null; wait "$holder" 2> /dev/null; wait "$pid2" 2> /dev/null; pid=""; pid2=""; holder=""; holder=""
check "the restored session's files are gone, the other crash still kept" "[ \$(ls '$state'/autosave-*.json | wc -l) -eq 1 ] && grep -q lecturer '$state'/autosave-*.json"

# 5. The other crash is offered again; restore it too; then a clean exit leaves nothing.
"$app" --restore --frames 5 > "$tmp/run4.out" 2>&1; rc=$?
check "the remaining crash is restored next time" "[ $rc -eq 0 ] && grep -q \"restored the autosaved scene (4 tokens: the lecturer's edited sentence)\" '$tmp/run4.out'"
"$app" --frames 3 > "$tmp/run5.out" 2>&1; rc=$?
check "after clean exits: nothing offered" "[ $rc -eq 0 ] && ! grep -q 'did not end normally' '$tmp/run5.out'"
check "a clean exit leaves no session files" "[ -z \"\$(ls '$state' | grep -E 'session-|autosave-')\" ]"

# 6. Without --restore the popup asks; the screenshot shows it (checked by eye once, here by size).
"$app" --test-edit "popup words here" > "$tmp/run6.out" 2>&1 &
pid=$!
check "autosaved before the kill" "wait_autosave $pid popup"
kill -9 "$pid"; wait "$pid" 2> /dev/null; pid=""
"$app" --frames 4 --screenshot "$tmp/popup.png" > "$tmp/run7.out" 2>&1; rc=$?
check "crash without --restore: offered, not restored" "[ $rc -eq 0 ] && grep -q 'did not end normally' '$tmp/run7.out' && ! grep -q 'restored the' '$tmp/run7.out'"
check "the offer leaves the crashed autosave untouched" "grep -q popup '$state'/autosave-*.json"
[ -n "${KEEP_SHOT:-}" ] && cp "$tmp/popup.png" "$KEEP_SHOT"
exit $fail
