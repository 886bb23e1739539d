# Shared by the window tests that drive a GPT-2 model's panels (model_analysis_window.sh,
# model_layout_window.sh); source after $tmp, $app_pid and fail() exist.
#   state                 the last state dump
#   q EXPR                a Python expression over the state s (a = s['analysis'], w = s['widgets'],
#                         m = s['model']); prints its value
#   wait_until COND [S]   waits up to S seconds (default 20) for a Python condition over the state
#   click NAME            the centre of a control named in the state dump
#   shot NAME             a screenshot of the whole display into $tmp/NAME.png
#   quit_app [WHAT]       Ctrl+Q (Discard if asked); fails unless the app exits 0
state() { cat "$tmp/state.json" 2> /dev/null; }
q() { state | python3 -c "import json,sys
try: s = json.load(sys.stdin)
except Exception: s = {}
a = s.get('analysis', {}); w = s.get('widgets', {}); m = s.get('model', {})
print($1)" 2> /dev/null; }
wait_until() {
  for _ in $(seq $(( ${2:-20} * 10 ))); do
    [ "$(q "bool($1)")" = "True" ] && return 0
    kill -0 "$app_pid" 2> /dev/null || fail "the app exited"
    sleep 0.1
  done
  fail "never: $1"
}
click() {
  local r
  r=$(q "' '.join(str(int(v)) for v in w['$1'])")
  read -r x0 y0 x1 y1 <<< "$r"
  [ -n "${y1:-}" ] || fail "no rectangle for $1"
  xdotool mousemove "$(( (x0 + x1) / 2 ))" "$(( (y0 + y1) / 2 ))"; sleep 0.15
  xdotool mousedown 1; sleep 0.1; xdotool mouseup 1; sleep 0.3
}
shot() { sleep 0.5; import -display "$DISPLAY" -window root "$tmp/$1.png" || fail "screenshot $1"; }
quit_app() {
  xdotool keydown ctrl; sleep 0.08; xdotool keydown q; sleep 0.1; xdotool keyup q; xdotool keyup ctrl
  for _ in $(seq 50); do kill -0 "$app_pid" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$app_pid" 2> /dev/null; then
    wait_until "'unsaved.discard' in w" 5
    click unsaved.discard
  fi
  for _ in $(seq 50); do kill -0 "$app_pid" 2> /dev/null || break; sleep 0.1; done
  wait "$app_pid"; local rc=$?; app_pid=""
  [ "$rc" -eq 0 ] || fail "${1:+$1: }exit $rc"
}
