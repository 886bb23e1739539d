#!/usr/bin/env bash
# Frame-time and start-up measurements of the real window (issue 5, targets 4 and 5). Prints one
# JSON line. Needs an X display; starts a virtual one (Xvfb, 1600x900) when there is none.
#
#   bash bench/frame_bench.sh [ATTNVIZ] [--frames F] [--startup-runs R] [--n N]
#
#   ATTNVIZ          the executable (default build/attnviz)
#   --frames F       frames per frame-time run (default 300; the first 3 are not counted)
#   --startup-runs R launches of the default scene for the start-up time (default 5; medians)
#   --n N            tokens of the generated pan/zoom scene: 1 head, d_model 64 (default 4096)
#
# What it runs (window 1600x900, a throw-away HOME, no autosave):
#   start-up   R × `attnviz --frames 5 --frame-stats` on the default scene: `first_frame_ms` is
#              measured inside the app from the kernel's start time of the process (10 ms ticks);
#              `launch_to_first_frame_line_ms` from outside, from just before the launch to the
#              moment the app prints that line (it prints it right after its first buffer swap).
#   default    `attnviz --frames F --frame-stats` on the default scene.
#   pan/zoom   `attnviz --scene big.json --frames F --frame-stats --animate-view` on a generated
#              N-token scene: the main heatmap zooms from the whole N × N pattern to 64 × 64 cells
#              and back while panning, every frame; the data never changes, so the pattern
#              texture must not be uploaded again (`animate_texture_uploads` 0) while the colour
#              pass runs every frame (`animate_colour_passes` = `animate_measured_frames`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
app="$here/../build/attnviz"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then app="$1"; shift; fi
frames=300 runs=5 n=4096
while [ $# -gt 0 ]; do
  case "$1" in
    --frames) frames="$2"; shift 2 ;;
    --startup-runs) runs="$2"; shift 2 ;;
    --n) n="$2"; shift 2 ;;
    *) echo "frame_bench: unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
[ -x "$app" ] || { echo "frame_bench: $app is not an executable (build first: bash scripts/setup.sh build)" >&2; exit 2; }
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1600x900x24 -noreset" bash "$0" "$app" --frames "$frames" --startup-runs "$runs" --n "$n"
fi

exec python3 - "$app" "$frames" "$runs" "$n" <<'PY'
import json, os, re, statistics, subprocess, sys, tempfile, time

app, frames, runs, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
tmp = tempfile.mkdtemp(prefix="attnviz_frame_bench_")
env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=os.path.join(tmp, "config"), XDG_STATE_HOME=os.path.join(tmp, "state"))
common = ["--frame-stats", "--no-autosave", "--width", "1600", "--height", "900"]

def fail(msg):
    print("frame_bench: " + msg, file=sys.stderr)
    sys.exit(1)

STATS = re.compile(r"^frames (\d+)  median ([0-9.]+) ms  p95 ([0-9.]+) ms  max ([0-9.]+) ms .*fps ([0-9.]+)  first_frame_ms ([0-9.-]+)"
                   r"  cpu_ms_per_frame ([0-9.]+)")
ANIM = re.compile(r"heatmap (\d+)x(\d+)  texture_version (\d+) -> (\d+)  colour_passes (\d+)")

def run(args):
    """Runs the app; returns (launch-to-first-frame-line ms, first_frame_ms, stats match, anim match)."""
    t0 = time.perf_counter()
    errf = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen([app] + args, stdout=subprocess.PIPE, stderr=errf, text=True, env=env)
    external, first, stats, anim, lines = None, None, None, None, []
    for line in p.stdout:
        lines.append(line)
        if external is None and line.startswith("first_frame_ms "):
            external = (time.perf_counter() - t0) * 1000.0
            first = float(line.split()[1])
        m = STATS.match(line)
        if m:
            stats, anim = m, ANIM.search(line)
    rc = p.wait(timeout=600)
    errf.seek(0)
    err = errf.read()
    if rc != 0:
        fail("%s exited %d: %s%s" % (" ".join([app] + args), p.returncode, err, "".join(lines)))
    if external is None or stats is None:
        fail("no frame statistics from %s:\n%s%s" % (" ".join([app] + args), "".join(lines), err))
    return external, first, stats, anim

out = {"cores": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2), "window": "1600x900",
       "display": os.environ.get("DISPLAY", "")}

# start-up on the default scene
ext, inner = [], []
for _ in range(runs):
    e, f, _, _ = run(["--frames", "5"] + common)
    ext.append(e)
    inner.append(f)
out.update({"startup_runs": runs, "first_frame_ms_median": round(statistics.median(inner), 1),
            "first_frame_ms_max": round(max(inner), 1),
            "launch_to_first_frame_line_ms_median": round(statistics.median(ext), 1),
            "launch_to_first_frame_line_ms_max": round(max(ext), 1)})

# frame time on the default scene
_, _, st, _ = run(["--frames", str(frames)] + common)
out.update({"default_frames": int(st.group(1)), "default_frame_median_ms": float(st.group(2)),
            "default_frame_p95_ms": float(st.group(3)), "default_fps": float(st.group(5)),
            "default_cpu_ms_per_frame": float(st.group(7))})

# pan/zoom over an n × n pattern (1 head, d_model 64: the whole pattern is one texture)
scene = os.path.join(tmp, "big.json")
with open(scene, "w") as fh:
    json.dump({"attnviz_scene": 1, "title": "%d tokens, one head (frame_bench)" % n,
               "tokens": ["w%d" % i for i in range(n)], "d_model": 64, "n_heads": 1, "mask": "none",
               "temperature": 0.1, "seed": 7}, fh)
_, first_big, st, anim = run(["--scene", scene, "--frames", str(frames), "--animate-view"] + common)
if anim is None:
    fail("--animate-view printed no texture_version / colour_passes")
out.update({"animate_n": n, "animate_heatmap": "%sx%s" % (anim.group(1), anim.group(2)),
            "animate_measured_frames": int(st.group(1)), "animate_frame_median_ms": float(st.group(2)),
            "animate_frame_p95_ms": float(st.group(3)), "animate_frame_max_ms": float(st.group(4)),
            "animate_fps": float(st.group(5)), "animate_cpu_ms_per_frame": float(st.group(7)),
            "animate_texture_uploads": int(anim.group(4)) - int(anim.group(3)),
            "animate_texture_version": int(anim.group(4)), "animate_colour_passes": int(anim.group(5)),
            "animate_scene_first_frame_ms": first_big})
print(json.dumps(out))
subprocess.run(["rm", "-rf", tmp])
PY
