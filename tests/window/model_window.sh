#!/usr/bin/env bash
# A GPT-2 folder in the real window, driven with xdotool (issue 12, "In the window"):
#   `attnviz --model <malformed folder>` exits 2 naming the file and the tensor;
#   `attnviz --model <tiny folder>`: type a text → GPT-2 pieces (Ġ for a space, Ċ for a newline) and
#   the next-token top 10 in the state dump; a model-view cell click selects layer and head for
#   every view; the heatmap's title names them; Ctrl+Q quits (nothing unsaved).
# MODEL_KEEP=DIR keeps the screenshot (look at it). MODEL_WINDOW_DISPLAY=N uses Xvfb :N.
set -u
app=$(realpath "$1")
src="$(realpath "$2")"
here="$(cd "$(dirname "$0")" && pwd)"
command -v xdotool > /dev/null || { echo "SKIP: no xdotool (apt-get install xdotool)"; exit 77; }
command -v python3 > /dev/null || { echo "SKIP: no python3"; exit 77; }
source "$here/xvfb_helper.sh"
window_test_tmp MODEL_KEEP
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && echo "state: $(cat "$tmp/state.json")"; [ -f "$tmp/log" ] && cat "$tmp/log"; exit 1; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state" XDG_DOCUMENTS_DIR="$tmp/Documents"
cd "$tmp"
if [ -n "${MODEL_WINDOW_DISPLAY:-}" ]; then
  command -v Xvfb > /dev/null || { echo "SKIP: no Xvfb"; exit 77; }
  Xvfb ":$MODEL_WINDOW_DISPLAY" -screen 0 1280x720x24 -nolisten tcp -noreset 2> /dev/null &
  xvfb_pid=$!
  export DISPLAY=":$MODEL_WINDOW_DISPLAY"
  sleep 1
else
  private_display 1280x720
fi

python3 "$src/tests/cli/make_tiny_gpt2.py" "$tmp/tiny" || fail "make_tiny_gpt2.py"
python3 "$src/tests/cli/make_tiny_gpt2.py" "$tmp/bad" --drop h.1.attn.c_proj.weight || fail "make_tiny_gpt2.py --drop"

# 1. a malformed folder: exit 2, the message names the file and the tensor, no window
"$app" --model "$tmp/bad" --frames 2 > "$tmp/bad.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "--model <malformed folder> exited $rc, not 2: $(cat "$tmp/bad.log")"
grep -q "model.safetensors" "$tmp/bad.log" || fail "the error does not name model.safetensors: $(cat "$tmp/bad.log")"
grep -q "h.1.attn.c_proj.weight" "$tmp/bad.log" || fail "the error does not name the tensor: $(cat "$tmp/bad.log")"
echo "ok   --model <malformed folder>: exit 2, $(head -c 200 "$tmp/bad.log")"

# 2. the tiny folder
"$app" --model "$tmp/tiny" --width 1280 --height 720 --dump-state "$tmp/state.json" > "$tmp/log" 2>&1 &
app_pid=$!
state() { cat "$tmp/state.json" 2> /dev/null; }
wait_state() {  # JSON fragment, up to ~15 s
  for _ in $(seq 150); do state | grep -qF "$1" && return 0; sleep 0.1; done
  fail "state never had $1"
}
model_field() { state | python3 -c "import json,sys; m=json.load(sys.stdin)['model']; print(json.dumps(m['$1'], ensure_ascii=False))"; }
rect() { state | python3 -c "import json,sys; print(*json.load(sys.stdin)['widgets']['$1'])" 2> /dev/null; }
click() {  # the centre of a control named in the state dump
  read -r x0 y0 x1 y1 <<< "$(rect "$1")"
  [ -n "${y1:-}" ] || fail "no rectangle for $1"
  xdotool mousemove "$(( (${x0%.*} + ${x1%.*}) / 2 ))" "$(( (${y0%.*} + ${y1%.*}) / 2 ))"; sleep 0.15
  xdotool mousedown 1; sleep 0.1; xdotool mouseup 1; sleep 0.3
}
key() { xdotool keydown "$1"; sleep 0.1; xdotool keyup "$1"; sleep 0.15; }
ctrl() { xdotool keydown ctrl; sleep 0.08; key "$1"; xdotool keyup ctrl; sleep 0.1; }

wait_state '"model":{'
wait_state '"tokens.text"'
wait_state '"modelview.L1H3"'
[ "$(model_field n_layers)" = 2 ] || fail "n_layers $(model_field n_layers)"
[ "$(model_field n_heads)" = 4 ] || fail "n_heads $(model_field n_heads)"
echo "ok   the model opened: 2 layers, 4 heads, folder $(model_field folder)"

# 3. type: GPT-2 pieces (t|he Ġ|cat Ġthe …) and the next-token top 10
click tokens.text
ctrl a
xdotool type --delay 60 'the cat the cat'
wait_state '"text":"the cat the cat"'
want='["t", "he", "Ġ", "cat", "Ġthe", "Ġ", "cat"]'
for _ in $(seq 50); do [ "$(model_field pieces)" = "$want" ] && break; sleep 0.1; done
[ "$(model_field pieces)" = "$want" ] || fail "pieces $(model_field pieces), want $want"
for _ in $(seq 100); do [ "$(model_field result_n 2> /dev/null)" = 7 ] && [ "$(model_field up_to_date)" = true ] && break; sleep 0.1; done
[ "$(model_field result_n)" = 7 ] || fail "the forward pass of the 7 tokens never finished"
state | python3 -c "
import json, sys
m = json.load(sys.stdin)['model']
top = m['top_k']
assert len(top) == 10, top
p = [t['prob'] for t in top]
assert all(a >= b for a, b in zip(p, p[1:])), p
assert 0 < sum(p) <= 1.0 + 1e-6, p
assert all(0 <= t['id'] < 261 for t in top), top
print('ok   top 10 after the 7 tokens:', ', '.join('%s %.3f' % (t['piece'], t['prob']) for t in top[:3]), '...')
" || fail "top_k"
# a newline is Ċ
key Return
xdotool type --delay 60 'cat'
for _ in $(seq 50); do model_field pieces | grep -q 'Ċ' && break; sleep 0.1; done
model_field pieces | grep -q '"Ċ"' || fail "no Ċ piece after a newline: $(model_field pieces)"
echo "ok   a newline is the piece Ċ: $(model_field pieces)"

# 4. the model view: a click selects layer 1, head 3 for every view
xdotool mousemove 1200 10; sleep 0.2
click modelview.L1H3
for _ in $(seq 50); do [ "$(model_field layer)" = 1 ] && [ "$(model_field head)" = 3 ] && break; sleep 0.1; done
[ "$(model_field layer)" = 1 ] || fail "layer $(model_field layer) after clicking L1H3"
[ "$(model_field head)" = 3 ] || fail "head $(model_field head) after clicking L1H3"
state | grep -qF '"head":3,' || fail "the views' head is not 3"
state | grep -qF '"title:Attention heatmap"' || fail "the heatmap shows no layer title"
state | grep -qF '"heatmap.layer"' || fail "the heatmap has no layer selector"
echo "ok   model view click: layer 1, head 3 in every view"
sleep 0.8
import -display "$DISPLAY" -window root "$tmp/model_window.png" || fail "screenshot"

# 5. Ctrl+Q: nothing unsaved, the window quits with 0
click heatmap.plot  # (off the text box: keys go to the window)
xdotool mousemove 1200 10; sleep 0.1
ctrl q
for _ in $(seq 50); do kill -0 "$app_pid" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$app_pid" 2> /dev/null; then fail "Ctrl+Q did not quit"; fi
wait "$app_pid"
rc=$?
app_pid=""
[ "$rc" -eq 0 ] || fail "the window exited $rc"
echo "PASS model_window"
