# Shared by the long-mode window tests (long_window.sh, minimap_window.sh); source after
# xvfb_helper.sh and window_test_tmp, with $tmp set.
#   long_scene FILE TOKENS D_MODEL HEADS   a causal scene of TOKENS words (too long for every pattern)
#   start_app W H                          the app on that scene at W × H, dumping its state; $app_pid
#   state, has FRAGMENT, wait_for FRAGMENT SECONDS, rect NAME, shot NAME [SLEEP]
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && head -c 800 "$tmp/state.json" && echo; exit 1; }
ok() { echo "ok   $*"; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"

long_scene() {
  python3 - "$@" <<'PY'
import json, sys
out, n, d_model, heads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
words = "the a fluffy blue creature roamed verdant forest while wise old owls watched quietly".split()
text = " ".join(words[(i * 7 + i // 5) % len(words)] for i in range(n))
json.dump({"attnviz_scene": 1, "title": f"{n} tokens", "text": text, "d_model": d_model, "n_heads": heads,
           "mask": "causal", "seed": 4}, open(out, "w"))
PY
}
start_app() {
  "$app" --scene "$tmp/long.json" --width "$1" --height "$2" --dump-state "$tmp/state.json" > "$tmp/out" 2>&1 &
  app_pid=$!
}
state() { cat "$tmp/state.json" 2>/dev/null; }
has() { state | grep -qF "$1"; }
wait_for() {  # JSON fragment, seconds
  for _ in $(seq $(( $2 * 10 ))); do has "$1" && return 0; kill -0 "$app_pid" 2>/dev/null || fail "the app exited"; sleep 0.1; done
  fail "state never had $1"
}
rect() { state | sed -E "s/.*\"$1\":\[([^]]*)\].*/\1/" | tr ',' ' '; }
shot() { sleep "${2:-0.3}"; import -display "$DISPLAY" -window root "$tmp/$1.png" || fail "screenshot $1"; }
