#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <new>

#include "bench.hpp"
#include "cli_model.hpp"  // export --model, bench --gpt2-shape
#include "cli_train.hpp"
#include "engine.hpp"
#include "file_io.hpp"
#include "figures.hpp"
#include "scene_io.hpp"
#include "paths.hpp"
#include "tokenize.hpp"
#include "window_options.hpp"

namespace attnviz::app {

int write_output(const std::string& out, const std::string& data) {
    if (out.empty() || out == "-") {
        try {
            write_stdout(data);  // checked writes: `> /dev/full` is exit 1, not a silent 0
        } catch (const FileError& e) {
            std::cerr << "attnviz: " << e.what() << "\n";
            return 1;
        }
        return 0;
    }
    try {
        write_file_atomic(out, data);
    } catch (const SceneError& e) {
        std::cerr << "attnviz: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

namespace {

struct ExportArgs {
    std::string scene, out, format = "json";
    int head = 0;
    std::string what = "pattern";
};

int run_export(const ExportArgs& a) {
    if (!a.out.empty() && a.out != "-" && same_file(a.scene, a.out)) {
        std::cerr << "attnviz: --out " << a.out << " is the scene file itself (the output is the input); not overwriting it\n";
        return 2;
    }
    Scene s;
    try {
        s = load_scene(a.scene);
    } catch (const SceneError& e) {
        std::cerr << "attnviz: " << a.scene << ": " << e.what() << "\n";
        return 2;
    }
    Forward f;
    try {
        f = forward(s);  // refuses (SceneError) a scene whose full forward pass would not fit
    } catch (const SceneError& e) {
        std::cerr << "attnviz: " << a.scene << ": " << e.what() << "\n";
        return 2;
    }
    // A number that is not finite is never written (exit 1 naming the matrix and cell).
    auto produce = [&](auto&& make) -> int {
        std::string data;
        try {
            data = make();
        } catch (const SceneError& e) {
            std::cerr << "attnviz: " << a.scene << ": " << e.what() << "\n";
            return 1;
        }
        return write_output(a.out, data);
    };
    if (a.format == "json") return produce([&] { return export_json(s, f); });
    if (a.head < 0 || a.head >= s.n_heads) {
        std::cerr << "attnviz: --head " << a.head << " is out of range 0.." << s.n_heads - 1 << "\n";
        return 2;
    }
    const HeadResult& h = f.heads[static_cast<std::size_t>(a.head)];
    const Mat* m = nullptr;
    if (a.what == "pattern") m = &h.pattern;
    else if (a.what == "scores") m = &h.scores;
    else if (a.what == "Q") m = &h.Q;
    else if (a.what == "K") m = &h.K;
    else if (a.what == "V") m = &h.V;
    else if (a.what == "delta") m = &h.delta;
    else if (a.what == "output") m = &f.output;
    else if (a.what == "embeddings") m = &f.E;
    if (!m) {
        std::cerr << "attnviz: --matrix must be pattern, scores, Q, K, V, delta, output or embeddings\n";
        return 2;
    }
    if (a.format == "csv") {
        // every CSV: a header row and row labels; tokens carry their index ("3:the")
        const auto queries = indexed_labels(token_texts(s.input.tokens));
        const auto keys = indexed_labels(token_texts(s.source ? s.source->tokens : s.input.tokens));
        const bool square = a.what == "pattern" || a.what == "scores";
        const bool by_key = a.what == "K" || a.what == "V";  // rows are the keys' (source) tokens
        const auto& rows = by_key ? keys : queries;
        return produce([&] { return matrix_csv(*m, &rows, square ? &keys : nullptr, square ? "query\\key" : "token\\dimension", a.what); });
    }
    if (a.out.empty() || a.out == "-") {
        std::cerr << "attnviz: --format npy needs --out FILE\n";
        return 2;
    }
    return produce([&] { return matrix_npy(*m, a.what); });
}

// A number in [lo, hi]; NaN is refused too (CLI::Range compares with < and >, which NaN passes).
CLI::Validator finite_range(double lo, double hi) {
    return CLI::Validator(
        [lo, hi](std::string& text) -> std::string {
            double v = 0;
            const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !(v >= lo && v <= hi)) {
                char range[64];
                std::snprintf(range, sizeof range, "%g..%g", lo, hi);
                return "expected a number in " + std::string(range) + ", got " + text;
            }
            return std::string();
        },
        "", "FINITE_RANGE");
}

int run_commands(int argc, char** argv, const WindowEntry& window) {
    CLI::App cli{"attnviz — see and edit transformer attention.\n"
                 "With no command: opens the window on a scene (the default lecture scene unless --scene)."};
    cli.set_version_flag("--version", "attnviz 0.1.0");
    cli.require_subcommand(0, 1);

    WindowOptions win;
    cli.add_option("--scene", win.scene_path, "Scene file (JSON) to open")->check(CLI::ExistingFile);
    cli.add_option("--model", win.model_dir, "A GPT-2 folder to open (config.json, vocab.json, merges.txt, model.safetensors)");
    cli.add_option("--model-text", win.model_text, "With --model: the text to start with");
    cli.add_option("--frames", win.frames, "Quit after this many frames (for tests and measurements)")->check(CLI::NonNegativeNumber);
    cli.add_option("--screenshot", win.screenshot, "With --frames: save the last frame as PNG");
    cli.add_option("--width", win.width, "Window width")->check(CLI::Range(320, 16384));
    cli.add_option("--height", win.height, "Window height")->check(CLI::Range(240, 16384));
    cli.add_flag("--presentation", win.presentation, "Start in the presentation view (F5 toggles it)");  // [lecture]
    cli.add_option("--math-step", win.math_step, "Start the step-by-step math (and the presentation) at this step")->check(CLI::Range(1, 8));

    cli.add_flag("--frame-stats", win.frame_stats, "With --frames: print the median and 95th-percentile frame time, and the time from launch to the first frame");
    cli.add_flag("--animate-view", win.animate_view,
                 "Move the main heatmap's view along a fixed pan/zoom path every frame (with --frames --frame-stats: pan/zoom frame time)");
    cli.add_option("--dump-state", win.dump_state, "Write the app state (JSON) to this file whenever it changes (for scripts and tests)");

    cli.add_option("--ui-scale", win.ui_scale, "Scale fonts and sizes (e.g. 2 for a projector); default: the monitor's DPI scale")
        ->check(finite_range(0.5, 4.0));

    RenderOptions rnd;
    std::string render_size = "1600x900";
    auto* ren = cli.add_subcommand("render", "Draw what the window draws, off-screen, into a PNG (needs an X display; Xvfb works)");
    ren->add_option("--scene", rnd.scene_path, "Scene file (JSON); default: the default lecture scene")->check(CLI::ExistingFile);
    ren->add_option("--out", rnd.out, "PNG file to write")->required();
    ren->add_option("--view", rnd.view, "window, heatmap, grid, compare, shift (embedding shift) or qk (query-key plot)")
        ->check(CLI::IsMember({"window", "heatmap", "grid", "compare", "shift", "qk"}));
    ren->add_option("--head", rnd.head, "Selected head (0-based)");
    ren->add_option("--stage", rnd.stage, "Heatmap stage: raw, scaled, masked or pattern")
        ->check(CLI::IsMember({"raw", "scaled", "masked", "pattern"}));
    ren->add_option("--size", render_size, "Image size WxH (default 1600x900)");
    ren->add_flag("--transpose", rnd.transpose, "Queries as columns, keys as rows");
    ren->add_option("--ui-scale", rnd.ui_scale, "Scale fonts and sizes (default 1)")->check(finite_range(0.5, 4.0));
    // Reliability: autosave, crash recovery, soak (app/session/recovery.hpp, app/dev/soak.hpp).
    auto& rel = win.reliability;
    cli.add_option("--state-dir", rel.state_dir, "Where autosave keeps the last state (default $XDG_STATE_HOME/attnviz or ~/.local/state/attnviz)");
    cli.add_flag("--restore", rel.restore, "If the last session crashed, restore its autosaved scene without asking");
    cli.add_flag("!--no-autosave", rel.autosave, "Do not autosave (and do not offer to restore)");
    cli.add_option("--test-edit", rel.test_edit, "Set the text at start, as an edit (for tests)");
    cli.add_option("--soak", rel.soak, "Soak test: apply N random edits, one per rendered frame, then report and exit")
        ->check(CLI::NonNegativeNumber);
    cli.add_option("--soak-seed", rel.soak_seed, "Random seed for --soak");

    ExportArgs ex;
    auto* exp = cli.add_subcommand("export", "Compute a scene and write every intermediate (JSON), or one matrix (CSV, NumPy)");
    exp->add_option("--scene", ex.scene, "Scene file (JSON)");
    ModelExportArgs mx;                                                    // [gpt2]
    add_model_export_options(*exp, mx);                                    // [gpt2]
    exp->add_option("--out", ex.out, "Output file (default: standard output)");
    exp->add_option("--format", ex.format, "json (everything), csv or npy (one matrix)")
        ->check(CLI::IsMember({"json", "csv", "npy"}));
    exp->add_option("--head", ex.head, "Head for csv/npy (0-based)");
    exp->add_option("--matrix", ex.what, "Matrix for csv/npy: pattern, scores, Q, K, V, delta, output, embeddings");

    FiguresArgs figures_args;                                              // [lecture] attnviz figures
    CLI::App* figures_cmd = add_figures_command(cli, figures_args);        // [lecture]
    TokenizeArgs tokenize_args;
    CLI::App* tokenize_cmd = add_tokenize_command(cli, tokenize_args);
    BenchArgs bench;
    auto* bch = cli.add_subcommand("bench", "Time the engine: full forward, one-token edit, GEMMs alone (median ms)");
    bch->add_option("--n", bench.n, "Tokens")->check(CLI::Range(2, Limits::kMaxTokens));
    bch->add_option("--d-model", bench.d_model, "Model width")->check(CLI::Range(1, Limits::kMaxDModel));
    bch->add_option("--heads", bench.heads, "Heads (d_head = d_model / heads)")->check(CLI::Range(1, Limits::kMaxHeads));
    bch->add_option("--mask", bench.mask, "none, causal or sliding_window:W");
    bch->add_option("--repeat", bench.repeat, "Runs per measurement (the median is printed)")->check(CLI::Range(1, 1000));
    bch->add_option("--threads", bench.threads, "Threads (0 = every core)")->check(CLI::Range(0, 64));
    bch->add_flag("--json", bench.json, "Print one JSON object");
    bch->add_flag("--tiles-only", bench.tiles_only, "Long sequences: time only the on-demand tiles path");
    Gpt2BenchArgs gb;                                                      // [gpt2]
    add_gpt2_bench_options(*bch, gb);                                      // [gpt2]

    TrainArgs train_args;                                                  // attnviz train
    CLI::App* train_cmd = add_train_command(cli, train_args);

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e) == 0 ? 0 : 2;
    }
    if (*exp && !mx.model.empty()) {                                       // [gpt2]
        mx.out = ex.out, mx.format = ex.format, mx.head = ex.head, mx.matrix = ex.what;
        return run_model_export(mx);
    }
    if (*exp && ex.scene.empty()) {
        std::cerr << "attnviz: export needs --scene FILE or --model DIR\n";
        return 2;
    }
    if (*exp) return run_export(ex);
    if (*train_cmd) return run_train(train_args);
    if (*figures_cmd) return run_figures(figures_args);                   // [lecture]
    if (*tokenize_cmd) return run_tokenize(tokenize_args);
    if (*ren) {
        int w = 0, h = 0;
        char x = 0, extra = 0;
        if (std::sscanf(render_size.c_str(), "%d%c%d%c", &w, &x, &h, &extra) != 3 || (x != 'x' && x != 'X') || w < 16 || h < 16 ||
            w > 16384 || h > 16384) {
            std::cerr << "attnviz: --size must look like 1600x900 (16..16384 each), got \"" << render_size << "\"\n";
            return 2;
        }
        rnd.width = w;
        rnd.height = h;
        if (!rnd.scene_path.empty() && same_file(rnd.scene_path, rnd.out)) {
            std::cerr << "attnviz: --out " << rnd.out << " is the scene file itself (the output is the input); not overwriting it\n";
            return 2;
        }
        if (!window.run_render) {
            std::cerr << "attnviz: render needs the window, and this attnviz was built without it (ATTNVIZ_BUILD_APP=OFF)\n";
            return 1;
        }
        return window.run_render(rnd);
    }
    if (*bch && !gb.shape.empty()) {                                       // [gpt2]
        gb.n = bench.n, gb.repeat = bench.repeat, gb.threads = bench.threads, gb.json = bench.json;
        return run_gpt2_bench(gb);
    }
    if (*bch) return run_bench(bench);
    if (!window.run_window) {
        std::cerr << "attnviz: this attnviz was built without the window (ATTNVIZ_BUILD_APP=OFF); the commands export, "
                     "figures, tokenize and bench work (attnviz --help)\n";
        return 1;
    }
    return window.run_window(win);
}

}  // namespace

int run_cli(int argc, char** argv, const WindowEntry& window) {
    try {
        return run_commands(argc, argv, window);
    } catch (const std::bad_alloc&) {
        // Anything that ran out of memory outside the loaders (which report it themselves).
        std::fputs("attnviz: out of memory (a scene or an export larger than this machine can hold)\n", stderr);
        return 2;
    }
}

}  // namespace attnviz::app
