#!/usr/bin/env bash
# A GPT-2 model's default layout and its exports in the real window (issue 12), on a tiny random
# checkpoint (tests/cli/make_tiny_gpt2.py), at 1280×720 and at 1600×900:
#  - the "Attention patterns" workspace with the model (tokens, model, next token, heatmap, model
#    view, masked vs unmasked) and the "Model analysis" workspace (the same left column, head
#    labels, logit lens, interventions): no two panels over each other, every panel inside the
#    window, below the menu bar and above the status line (the state dump's panel rectangles);
#  - after one head is ablated, the interventions panel's pattern difference (after − before) is
#    drawn across the panel's width with square cells;
#  - (1280×720) Export → "The model's data, every layer (JSON)" writes the JSON that
#    `attnviz export --model DIR --text TEXT` writes for the same text (not the stand-in scene's
#    export), and the scene's figures are not offered.
#   model_layout_window.sh ATTNVIZ SOURCE_DIR
# MODEL_LAYOUT_KEEP=DIR keeps the screenshots (attention_WxH.png, analysis_WxH.png, export_menu.png; look at them).
# XVFB_DISPLAY_NUM=N uses Xvfb :N (xvfb_helper.sh).
set -u
app=$(realpath "$1")
src=$(realpath "$2")
here="$(cd "$(dirname "$0")" && pwd)"
command -v xdotool > /dev/null || { echo "SKIP: no xdotool (apt-get install xdotool)"; exit 77; }
command -v python3 > /dev/null || { echo "SKIP: no python3"; exit 77; }
source "$here/xvfb_helper.sh"
window_test_tmp MODEL_LAYOUT_KEEP
fail() { echo "FAIL: $*"; [ -f "$tmp/state.json" ] && echo "state: $(head -c 4000 "$tmp/state.json")"; tail -5 "$tmp/log" 2> /dev/null; exit 1; }
ok() { echo "ok   $*"; }
export HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"
cd "$tmp"
python3 "$src/tests/cli/make_tiny_gpt2.py" "$tmp/tiny" || fail "make_tiny_gpt2.py"

source "$(dirname "$0")/model_helper.sh"
# The panels the state dump reports (drawn last frame): none over another, each inside the display,
# below the menu bar and above the status line. Prints the panels; fails naming the first problem.
check_layout() {  # WHAT EXPECTED_PANELS...
  local what="$1"; shift
  state | python3 -c "
import json, sys
w = json.load(sys.stdin)['widgets']
want = sys.argv[1:]
p = {k[6:]: v for k, v in w.items() if k.startswith('panel:')}
missing = [n for n in want if n not in p]
if missing: sys.exit('missing panels: %s (shown: %s)' % (missing, sorted(p)))
W, H = w['display'][2], w['display'][3]
menu_y1, status_y0 = w['menu_bar'][3], w['status_line'][1]
for n in sorted(p): print('  %-20s' % n, [round(x) for x in p[n]])
for n, (x0, y0, x1, y1) in p.items():
    if x0 < -0.5 or x1 > W + 0.5 or y0 < menu_y1 - 0.5 or y1 > status_y0 + 0.5:
        sys.exit('%s %s is not inside the window between the menu bar (y %g) and the status line (y %g), %gx%g' %
                 (n, [round(x) for x in (x0, y0, x1, y1)], menu_y1, status_y0, W, H))
    if x1 - x0 < 100 or y1 - y0 < 80: sys.exit('%s is too small: %s' % (n, [x0, y0, x1, y1]))
names = sorted(p)
for i, a in enumerate(names):
    for b in names[i + 1:]:
        A, B = p[a], p[b]
        ow, oh = min(A[2], B[2]) - max(A[0], B[0]), min(A[3], B[3]) - max(A[1], B[1])
        if ow > 0.5 and oh > 0.5: sys.exit('%s %s and %s %s overlap (%gx%g px)' % (a, [round(x) for x in A], b, [round(x) for x in B], ow, oh))
" "$@" || fail "$what: the layout"
  ok "$what: ${#@} panels, none over another, all inside the window"
}
left=("Tokens" "Model" "Next token")

for size in 1280x720 1600x900; do
  W=${size%x*}; H=${size#*x}
  # an X screen of the window's size (the window at 0,0: the dump's coordinates are the screen's)
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2> /dev/null; wait "$xvfb_pid" 2> /dev/null; xvfb_pid=""; fi
  xvfb_cleanup
  private_display "$size"
  rm -f "$tmp/state.json"; rm -rf "$tmp/config" "$tmp/state"  # a first launch: the default layout
  "$app" --model "$tmp/tiny" --width "$W" --height "$H" --dump-state "$tmp/state.json" > "$tmp/log" 2>&1 &
  app_pid=$!
  wait_until "m.get('n_layers', 0) > 0 and m.get('top_k')" 30
  L=$(q "m['n_layers']"); H_=$(q "m['n_heads']")
  wait_until "w.get('display', [0, 0, 0, 0])[2:] == [$W, $H]" 10
  wait_until "'panel:Model view' in w and 'panel:Next token' in w" 10
  sleep 0.5
  check_layout "$size attention workspace" "${left[@]}" "Attention heatmap" "Model view" "Masked vs unmasked"
  shot "attention_$size"

  # the Model analysis workspace: its tab shows head labels, interventions and the logit lens
  click workspace.analysis
  wait_until "s.get('workspace') == 4" 5
  wait_until "'panel:Head labels' in w and 'panel:Interventions' in w and 'panel:Logit lens' in w" 10
  wait_until "a.get('labels', 0) == $L * $H_ and a.get('labels_current') and a.get('lens_current')" 60
  sleep 0.3
  check_layout "$size analysis workspace" "${left[@]}" "Head labels" "Interventions" "Logit lens"
  [ "$(q "'panel:Attention heatmap' in w or 'panel:Model view' in w")" = "False" ] ||
    fail "$size: the attention workspace's views are drawn in the analysis workspace"

  # the last layer's last head (a click on the head-label map's last cell opens it), then one head
  # of layer 0 ablated: the last layer's pattern difference spans the interventions panel with
  # square cells
  wait_until "'labels.map' in w" 5
  read -r x1 y1 <<< "$(q "' '.join(str(int(v) - 6) for v in w['labels.map'][2:])")"
  xdotool mousemove "$x1" "$y1"; sleep 0.15; xdotool mousedown 1; sleep 0.1; xdotool mouseup 1; sleep 0.25
  wait_until "m['layer'] == $(( L - 1 )) and m['head'] == $(( H_ - 1 ))" 5
  wait_until "'ablate.L0H1' in w" 10
  click ablate.L0H1
  wait_until "a.get('comparison_current') and a.get('kl_ablated') == ['L0H1'] and a.get('pattern_diff_max', 0) > 0" 30
  wait_until "'intervene.diff' in w" 5
  read -r pw dw dh py1 dy1 <<< "$(q "'%d %d %d %d %d' % (w['panel:Interventions'][2] - w['panel:Interventions'][0], w['intervene.diff'][2] - w['intervene.diff'][0], w['intervene.diff'][3] - w['intervene.diff'][1], w['panel:Interventions'][3], w['intervene.diff'][3])")"
  n=$(q "len(m['ids'])")
  echo "     $size: interventions panel ${pw} px wide, pattern difference ${dw}x${dh} px for $n tokens"
  python3 -c "import sys; sys.exit(0 if $dw >= 0.5 * $pw and abs($dw - $dh) <= 2 else 1)" ||
    fail "$size: the pattern difference is ${dw}x${dh} px in a panel ${pw} px wide (want >= half the width, square)"
  [ "$dy1" -le "$py1" ] || fail "$size: the pattern difference ends at y $dy1, below its panel (y $py1): hidden"
  ok "$size: the pattern difference is ${dw}x${dh} px (panel ${pw} px wide), $(( dw / n )) px a cell"
  shot "analysis_$size"

  if [ "$size" = 1280x720 ]; then
    # Export with the model open: the model's data, as the command line writes it
    click menu.export
    wait_until "'export.model_json' in w" 5
    [ "$(q "'export.model_layer_json' in w and 'export.model_pattern_npy' in w")" = "True" ] || fail "the model's exports are not offered"
    shot export_menu
    click export.model_json
    wait_until "s.get('status', '').startswith('wrote ') and s['status'].endswith('_data.json')" 10
    out=$(q "s['status'][len('wrote '):]")
    [ -f "$out" ] || fail "the Export menu said \"$(q "s['status']")\" but there is no $out"
    text=$(q "m['text']")
    "$app" export --model "$tmp/tiny" --text "$text" --out "$tmp/cli.json" || fail "attnviz export --model"
    python3 - "$out" "$tmp/cli.json" "$L" "$H_" << 'EOF' || fail "the window's export is not the model's data"
import json, sys
win, cli = (json.load(open(p)) for p in sys.argv[1:3])
L, H = int(sys.argv[3]), int(sys.argv[4])
assert win['tokens'] == cli['tokens'] and win['token_ids'] == cli['token_ids'], (win.get('tokens'), cli['tokens'])
assert len(win['layers']) == L and all(len(l['heads']) == H for l in win['layers']), 'not every layer and head'
worst = (0.0, '')
for lw, lc in zip(win['layers'], cli['layers']):
    for hw, hc in zip(lw['heads'], lc['heads']):
        for key in ('Q', 'K', 'V', 'scores', 'pattern', 'delta'):
            for rw, rc in zip(hw[key], hc[key]):
                assert len(rw) == len(rc)
                for a, b in zip(rw, rc):
                    d = abs(a - b) / max(1.0, abs(b))
                    if d > worst[0]: worst = (d, 'layer %d head %d %s' % (lw['layer'], hw['head'], key))
assert worst[0] < 1e-4, 'largest difference %g at %s' % worst
assert [t['id'] for t in win['next_token']] == [t['id'] for t in cli['next_token']], 'next tokens differ'
print('     window export = attnviz export --model (largest relative difference %g %s)' % worst)
EOF
    ok "Export -> the model's data (JSON) = \`attnviz export --model DIR --text TEXT\`"
  fi

  # quit (nothing modified: no question)
  quit_app "$size"
done
ok "quit (exit 0) at both sizes"
