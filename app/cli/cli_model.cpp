// attnviz app — the command line for real models: export, tokenize, bench --gpt2-shape (cli_model.hpp).
#include "cli_model.hpp"

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench.hpp"  // GemmRate, median_ms, peak_rss_mb
#include "cli.hpp"    // write_output
#include "gpt2_export.hpp"
#include "gpt2_io.hpp"
#include "gpt2_model.hpp"
#include "parallel.hpp"
#include "scene_io.hpp"

namespace attnviz::app {
namespace {

// The text of --text or --text-file (exactly one).
bool read_text(const std::string& text, const std::string& file, std::string& out) {
    if (!file.empty()) {
        std::ifstream f(file, std::ios::binary);
        if (!f) {
            std::cerr << "attnviz: cannot read --text-file " << file << "\n";
            return false;
        }
        std::ostringstream ss;
        ss << f.rdbuf();
        out = ss.str();
        return true;
    }
    out = text;
    return true;
}

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] export --model
// ---------------------------------------------------------------------------------------------
void add_model_export_options(CLI::App& exp, ModelExportArgs& a) {
    exp.add_option("--model", a.model, "GPT-2 folder (config.json, vocab.json, merges.txt, model.safetensors) instead of --scene");
    exp.add_option("--text", a.text, "With --model: the text to run");
    exp.add_option("--text-file", a.text_file, "With --model: read the text from this file");
    exp.add_option("--layer", a.layer, "With --model: json: only this layer; csv/npy: the matrix's layer (0-based)");
    exp.add_option("--top-k", a.top_k, "With --model: next-token predictions to list (default 10)")->check(CLI::Range(0, 1000));
}

int run_model_export(const ModelExportArgs& a) {
    std::string text;
    if (!a.text.empty() && !a.text_file.empty()) {
        std::cerr << "attnviz: give --text or --text-file, not both\n";
        return 2;
    }
    if (!read_text(a.text, a.text_file, text)) return 2;
    Model model;
    Gpt2Tokenizer tok;
    std::vector<int> ids;
    try {
        model = load_gpt2_folder(a.model, &tok);
        ids = tok.encode(text);
    } catch (const ModelError& e) {
        std::cerr << "attnviz: " << e.what() << "\n";
        return 2;
    }
    if (ids.empty()) {
        std::cerr << "attnviz: the text has no tokens (give --text)\n";
        return 2;
    }
    if (static_cast<int>(ids.size()) > model.cfg.n_ctx) {
        std::cerr << "attnviz: the text is " << ids.size() << " tokens, more than the model's " << model.cfg.n_ctx << " positions\n";
        return 2;
    }
    const int L = model.cfg.n_layers, H = model.cfg.n_heads;
    if (a.layer < -1 || a.layer >= L) {
        std::cerr << "attnviz: --layer " << a.layer << " is out of range 0.." << L - 1 << "\n";
        return 2;
    }
    Gpt2Options opt;
    opt.pattern_budget_bytes = 0;  // each pattern is written once: compute it when written
    const Gpt2Forward f(model, ids, opt);
    std::vector<std::string> pieces;
    for (int id : ids) pieces.push_back(tok.piece(id));

    if (a.format != "json") {
        const int l = a.layer < 0 ? 0 : a.layer;
        if (a.head < 0 || a.head >= H) {
            std::cerr << "attnviz: --head " << a.head << " is out of range 0.." << H - 1 << "\n";
            return 2;
        }
        Mat m;
        const std::string& w = a.matrix;
        if (w == "pattern") m = f.pattern(l, a.head);
        else if (w == "scores") m = f.scores(l, a.head);
        else if (w == "Q") m = f.Q(l, a.head);
        else if (w == "K") m = f.K(l, a.head);
        else if (w == "V") m = f.V(l, a.head);
        else if (w == "delta") m = f.delta(l, a.head);
        else if (w == "output") m = f.resid(l + 1);
        else if (w == "embeddings") m = f.resid(l);
        else {
            std::cerr << "attnviz: --matrix must be pattern, scores, Q, K, V, delta, output or embeddings\n";
            return 2;
        }
        if (a.format == "csv") {
            const bool square = w == "pattern" || w == "scores";
            const auto labels = indexed_labels(pieces);  // "3:cat": unique in long texts, as for scenes
            return write_output(a.out, matrix_csv(m, &labels, square ? &labels : nullptr, square ? "query\\key" : "token\\dimension", w));
        }
        if (a.out.empty() || a.out == "-") {
            std::cerr << "attnviz: --format npy needs --out FILE\n";
            return 2;
        }
        return write_output(a.out, matrix_npy(m));
    }

    return write_output(a.out, model_export_json(model, tok, f, a.model, a.layer, a.top_k));
}

// ---------------------------------------------------------------------------------------------
// [SECTION] tokenize
// ---------------------------------------------------------------------------------------------
int run_model_tokenize(const std::string& model, const std::string& text, bool json) {
    namespace fs = std::filesystem;
    std::vector<int> ids;
    Gpt2Tokenizer tok;
    try {
        std::error_code ec;
        if (!fs::is_directory(model, ec)) throw ModelError(model, "", "not a folder (expected vocab.json and merges.txt)");
        const std::string vp = (fs::path(model) / "vocab.json").string(), mp = (fs::path(model) / "merges.txt").string();
        for (const auto& p : {vp, mp})
            if (!fs::is_regular_file(p, ec)) throw ModelError(p, "", "missing");
        tok = Gpt2Tokenizer::from_files(vp, mp);
        ids = tok.encode(text);
    } catch (const ModelError& e) {
        std::cerr << "attnviz: " << e.what() << "\n";
        return 2;
    }
    std::string o;
    if (json) {
        o = "{\"token_ids\": [";
        for (std::size_t i = 0; i < ids.size(); ++i) o += (i ? ", " : "") + std::to_string(ids[i]);
        o += "], \"tokens\": [";
        for (std::size_t i = 0; i < ids.size(); ++i) o += (i ? ", " : "") + json_string(tok.piece(ids[i]));
        o += "]}\n";
    } else {
        o = "ids:";
        for (int id : ids) o += " " + std::to_string(id);
        o += "\n";
        for (int id : ids) o += std::to_string(id) + "\t" + tok.piece(id) + "\n";
    }
    return write_output("", o);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] bench --gpt2-shape
// ---------------------------------------------------------------------------------------------
namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// FLOPs of the products a forward pass does (projections, the attention blocks it computes,
// output projection, MLP, the last position's logits).
double forward_flops(const ModelConfig& c, int n) {
    const double d = c.d_model, dh = c.d_head();
    double attn_cells = 0;  // score cells computed per head: blocks of 64 rows × keys [0, block end)
    for (int i0 = 0; i0 < n; i0 += 64) attn_cells += double(std::min(n, i0 + 64) - i0) * std::min(n, i0 + 64);
    double per_layer = 2.0 * n * d * 3 * d + 2.0 * 2.0 * attn_cells * dh * c.n_heads + 2.0 * n * d * d;
    if (c.mlp) per_layer += 2.0 * 2.0 * n * d * 4 * d;
    return per_layer * c.n_layers + 2.0 * d * c.vocab_size;
}
}  // namespace

void add_gpt2_bench_options(CLI::App& bch, Gpt2BenchArgs& a) {
    bch.add_option("--gpt2-shape", a.shape, "Time a random GPT-2 of these shapes: small (124M), medium (355M), tiny")
        ->check(CLI::IsMember({"small", "medium", "tiny"}));
}

int run_gpt2_bench(const Gpt2BenchArgs& a) {
    ModelConfig c;
    if (a.shape == "small") {
        c.d_model = 768, c.n_layers = 12, c.n_heads = 12;
    } else if (a.shape == "medium") {
        c.d_model = 1024, c.n_layers = 24, c.n_heads = 16;
    } else {  // tiny: a smoke test
        c.d_model = 64, c.n_layers = 2, c.n_heads = 4, c.vocab_size = 1000, c.n_ctx = 256;
    }
    const int N = std::clamp(a.n, 2, c.n_ctx);
    const int threads = resolve_threads(a.threads);
    auto t0 = std::chrono::steady_clock::now();
    const Model m = random_gpt2_model(c, 1);
    const double build_ms = ms_since(t0);
    const double model_mb = peak_rss_mb();

    // The machine's GEMM rate: one square product (rows split over the same threads), timed right
    // before each forward; each forward's share is of the rate measured next to it (the median).
    const int S = a.shape == "tiny" ? 256 : 2048;
    GemmRate rate(S, threads);

    std::vector<int> ids(static_cast<std::size_t>(N));
    for (int i = 0; i < N; ++i) ids[static_cast<std::size_t>(i)] = static_cast<int>((std::uint64_t(i) * 2654435761u) % static_cast<std::uint64_t>(c.vocab_size));
    Gpt2Options opt;
    opt.threads = a.threads;
    struct Row {
        int n;
        double ms, gflops, share, share_lo, share_hi;  // share: median of the pairs; lo/hi their spread
    };
    std::vector<double> rates;  // GFLOP/s of every rate measurement
    std::vector<Row> rows;
    for (int n : {128, N}) {
        if (n > N || (!rows.empty() && rows.back().n == n)) continue;
        const std::vector<int> sub(ids.begin(), ids.begin() + n);
        { Gpt2Forward warm(m, sub, opt); }
        std::vector<double> times, shares;
        for (int r = 0; r < a.repeat; ++r) {
            rates.push_back(rate.gflops_of(median_ms(1, [&] { rate.run(); })));
            times.push_back(median_ms(1, [&] { Gpt2Forward f(m, sub, opt); }));
            shares.push_back(forward_flops(c, n) / (times.back() * 1e6) / rates.back());
        }
        std::sort(times.begin(), times.end());
        std::sort(shares.begin(), shares.end());
        const double ms = times[times.size() / 2];
        rows.push_back({n, ms, forward_flops(c, n) / (ms * 1e6), shares[shares.size() / 2], shares.front(), shares.back()});
    }
    // One-token appends at the end of an N-token text (cached keys and values; spare rows reserved).
    const int appends = std::min(5, N - 1);
    Gpt2Options app = opt;
    app.reserve = N;
    std::vector<double> append_ms;
    {
        Gpt2Forward f(m, std::vector<int>(ids.begin(), ids.end() - appends), app);
        for (int k = appends; k > 0; --k) {
            t0 = std::chrono::steady_clock::now();
            f.append(ids[static_cast<std::size_t>(N - k)]);
            append_ms.push_back(ms_since(t0));
        }
    }
    std::sort(append_ms.begin(), append_ms.end());
    const double append_med = append_ms.empty() ? 0 : append_ms[append_ms.size() / 2];
    // A forward at N with the default pattern budget, as the window keeps it: its memory.
    const Gpt2Forward kept(m, ids, opt);
    const double kept_mb = static_cast<double>(kept.kept_bytes()) / 1e6;
    const double peak = peak_rss_mb();
    const Row& big = rows.back();
    std::sort(rates.begin(), rates.end());
    const double gemm_gflops = rates.empty() ? 0 : rates[rates.size() / 2];
    if (a.json) {
        std::printf("{\"shape\": \"%s\", \"threads\": %d, \"gemm_gflops\": %.1f", a.shape.c_str(), threads, gemm_gflops);
        for (const auto& r : rows) std::printf(", \"forward_%d_ms\": %.2f, \"forward_%d_gflops\": %.1f", r.n, r.ms, r.n, r.gflops);
        std::printf(", \"forward_share_of_gemm\": %.3f, \"append_ms\": %.2f, \"kept_mb\": %.1f, \"peak_rss_mb\": %.0f}\n",
                    big.share, append_med, kept_mb, peak);
        return 0;
    }
    std::printf("attnviz bench --gpt2-shape %s: d_model=%d layers=%d heads=%d vocab=%d, threads=%d, median of %d\n", a.shape.c_str(),
                c.d_model, c.n_layers, c.n_heads, c.vocab_size, threads, a.repeat);
    std::printf("  random model      %9.0f ms  (%.0f MB RSS)\n", build_ms, model_mb);
    std::printf("  GEMM rate         %9.1f GFLOP/s  (one %dx%d·%dx%d product, rows over %d threads, before each forward)\n", gemm_gflops, S, S, S, S, threads);
    for (const auto& r : rows)
        std::printf("  forward n=%-5d   %9.1f ms  (%.1f GFLOP, %.1f GFLOP/s = %.0f %% of the GEMM rate)  pairs %.0f-%.0f %%\n", r.n,
                    r.ms, forward_flops(c, r.n) / 1e9, r.gflops, 100.0 * r.share, 100.0 * r.share_lo, 100.0 * r.share_hi);
    std::printf("  append one token  %9.2f ms  (at n=%d, cached K/V; median of %zu, max %.2f)\n", append_med, N, append_ms.size(),
                append_ms.empty() ? 0.0 : append_ms.back());
    std::printf("  kept at n=%-5d   %9.1f MB  (residuals, Q/K/V, mixed, writes, %d of %d patterns kept)\n", N, kept_mb,
                [&] {
                    int k = 0;
                    for (int l = 0; l < c.n_layers; ++l)
                        for (int h = 0; h < c.n_heads; ++h) k += kept.pattern_kept(l, h);
                    return k;
                }(),
                c.n_layers * c.n_heads);
    std::printf("  peak RSS          %9.0f MB\n", peak);
    return 0;
}

}  // namespace attnviz::app
