#!/usr/bin/env bash
# The analysis panels of a GPT-2 model in the real window, driven with xdotool (issue 12): open a
# tiny random checkpoint (tests/cli/make_tiny_gpt2.py) with --model, open Head labels,
# Interventions and Logit lens from the View menu, wait for their results (the state dump's
# "analysis" object), tick one head in the ablation grid: the KL divergence of the next-token
# distribution becomes > 0 and the dump names the ablated head; Reset: no head, KL exactly 0.
# A click on a head-label row opens that head (the document's layer/head).
#   model_analysis_window.sh ATTNVIZ SOURCE_DIR [MODEL_DIR]
# MODEL_DIR: a GPT-2 folder to open instead of the tiny one (docs screenshots). MODELAN_KEEP=DIR
# keeps the screenshots (head_labels.png, ablation.png, reset.png). MODELAN_DISPLAY=N uses Xvfb :N.
# MODELAN_TEXT: the text to open with; MODELAN_ABLATE: the layer-0 head to ablate (default L0H1).
set -u
app=$(realpath "$1")
src=$(realpath "$2")
model_dir="${3:-}"
here="$(cd "$(dirname "$0")" && pwd)"
command -v xdotool > /dev/null || { echo "SKIP: no xdotool (apt-get install xdotool)"; exit 77; }
command -v python3 > /dev/null || { echo "SKIP: no python3"; exit 77; }
source "$here/xvfb_helper.sh"
window_test_tmp MODELAN_KEEP
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && echo "state: $(head -c 3000 "$tmp/state.json")"; cat "$tmp/log" 2> /dev/null | tail -5; exit 1; }
ok() { echo "ok   $*"; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"
cd "$tmp"
if [ -z "$model_dir" ]; then
  python3 "$src/tests/cli/make_tiny_gpt2.py" "$tmp/tiny" || fail "make_tiny_gpt2.py"
  model_dir="$tmp/tiny"
fi
if [ -n "${MODELAN_DISPLAY:-}" ]; then  # a display number of your own (Xvfb :N) instead of a free one
  command -v Xvfb > /dev/null || { echo "SKIP: no Xvfb"; exit 77; }
  Xvfb ":$MODELAN_DISPLAY" -screen 0 1280x720x24 -nolisten tcp -noreset 2> /dev/null &
  xvfb_pid=$!
  export DISPLAY=":$MODELAN_DISPLAY"
  for _ in $(seq 50); do xdpyinfo -display "$DISPLAY" > /dev/null 2>&1 && break; sleep 0.1; done
else
  private_display 1280x720
fi

extra=()
[ -n "${MODELAN_TEXT:-}" ] && extra=(--model-text "$MODELAN_TEXT")  # (docs screenshots) the text to open with
"$app" --model "$model_dir" "${extra[@]}" --width 1280 --height 720 --dump-state "$tmp/state.json" > "$tmp/log" 2>&1 &
app_pid=$!

source "$here/model_helper.sh"
open_panel() {  # View menu → the panel's entry
  wait_until "'menu.view' in w"
  click menu.view
  wait_until "'view.$1' in w" 5
  click "view.$1"
}

wait_until "m.get('n_layers', 0) > 0" 30
ok "the model opened: $(q "str(m['n_layers']) + ' layers x ' + str(m['n_heads']) + ' heads'")"
L=$(q "m['n_layers']"); H=$(q "m['n_heads']")

open_panel head_labels
wait_until "a.get('labels', 0) == $L * $H and a.get('labels_current')" 60
ok "head labels: $(q "a['labels']") heads scored on the worker"
# a click on the map's last cell (just inside its bottom-right corner) opens that head
wait_until "'labels.map' in w" 5
read -r x1 y1 <<< "$(q "' '.join(str(int(v) - 6) for v in w['labels.map'][2:])")"
xdotool mousemove "$x1" "$y1"; sleep 0.15; xdotool mousedown 1; sleep 0.1; xdotool mouseup 1; sleep 0.25
wait_until "m['layer'] == $(( L - 1 )) and m['head'] == $(( H - 1 ))" 5
ok "a click on the map's cell of L$(( L - 1 ))H$(( H - 1 )) opened that head"
shot head_labels

open_panel interventions
wait_until "a.get('comparison_current') and a.get('kl') == 0" 30
ok "interventions: nothing ablated, KL 0"
ab="${MODELAN_ABLATE:-L0H1}"  # (docs screenshots) a layer-0 head to ablate
click "ablate.$ab"
wait_until "a.get('ablated') == ['$ab']" 5
wait_until "a.get('comparison_current') and a.get('kl_ablated') == ['$ab'] and a.get('kl', 0) > 0" 30
ok "ablating $ab by a click: KL = $(q "a['kl']") > 0, logit difference $(q "a['logit_diff']")"
[ "$(q "a['pattern_diff_layer'] == $(( L - 1 )) and a['pattern_diff_max'] > 0")" = "True" ] ||
  fail "no pattern difference in layer $(( L - 1 )) after ablating a head of layer 0"
ok "layer $(( L - 1 ))'s patterns change by up to $(q "a['pattern_diff_max']")"
shot ablation

click intervene.reset
wait_until "a.get('ablated') == [] and a.get('comparison_current') and a.get('kl') == 0" 30
[ "$(q "a['pattern_diff_max'] == 0")" = "True" ] || fail "a pattern difference is left after Reset"
ok "Reset: no head ablated, KL exactly 0, no pattern difference"

open_panel logit_lens
wait_until "a.get('lens_rows') == $L + 1 and a.get('lens_current')" 30
ok "logit lens: $(q "a['lens_rows']") rows (embeddings + $L layers)"
shot reset

# quit; the model document is not modified, so no question
quit_app
ok "quit (exit 0)"
