// attnviz bench — times the engine on a drawn scene (see bench.hpp).
//
// full forward:   forward() keeping every intermediate (scores, pattern, ΔE per head)
// GEMMs alone:    GemmBaseline — the same matrix products by Eigen, nothing else
// GEMM rate:      one large square product, timed right before each forward (interleaved: the
//                 machine's speed drifts); the forward's GFLOP/s is reported as the median of its
//                 shares of the rate measured next to it
// one-token edit: PatternTiles::update_token on a token in the middle of the sequence, after which
//                 every statistic equals a full recompute (tests/core/test_incremental.cpp); patterns,
//                 tiles and ΔE rows are then computed on demand. The text output also times
//                 update_token on a full Forward (all n² scores and patterns kept).
// app edit:       (--tiles-only text output) AppState::edit of one changed word end to end, and
//                 its undo, as the window does them.
#include "bench.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "app_state.hpp"
#include "engine.hpp"
#include "gemm.hpp"
#include "incremental.hpp"
#include "long_state.hpp"
#include "parallel.hpp"

namespace attnviz::app {
namespace {

// The scene after replacing token t's text (its embedding redrawn; positional stays).
Scene with_token(const Scene& s, int t, const std::string& text) {
    Scene c = s;
    c.input.tokens[static_cast<std::size_t>(t)].text = text;
    c.input.embeddings.row(t) = token_embedding(text, c.seed, c.d_model);
    return c;
}

// What a user typing one word waits for: AppState::edit of one changed word end to end (set_tokens
// in place, classify_change, the undo step, the forward pass or the statistics updated), on the
// app's own state — in long mode once its statistics are built (on the worker, waited for here).
// Edits 30 ms apart, as typing is: a loop with no pause would hide costs of waking up.
void run_app_edit_bench(const BenchArgs& a, const Scene& s) {
    AppState app;
    app.set_scene(s, "");
    if (app.long_view) app.long_view->jobs.wait_idle();
    std::vector<std::string> words = token_texts(app.scene.input.tokens);
    const std::size_t t = words.size() / 2;
    const std::string original = words[t];
    int k = 0;
    bool ok = true;
    std::vector<double> ms, undo_ms;
    for (int r = 0; r < std::max(a.repeat, 15); ++r) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        words[t] = (k++ % 2) ? original : "edited";
        const auto t0 = std::chrono::steady_clock::now();
        ok = app.edit([&](Scene& x) { set_tokens(x, words); }) && ok;
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    const double step_kb = static_cast<double>(app.history.last_step_bytes()) / 1e3;
    const double history_mb = static_cast<double>(app.history.bytes()) / 1e6;
    const std::size_t steps = app.history.undo_size();
    for (int r = 0; r < std::max(a.repeat, 15) && app.can_undo(); ++r) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        const auto t0 = std::chrono::steady_clock::now();
        app.undo();
        undo_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::sort(undo_ms.begin(), undo_ms.end());
    std::printf("  app edit (one word, AppState::edit) %6.2f ms  (median of %zu, max %.2f; %s mode; undo step %.1f kB, "
                "%zu steps %.1f MB; peak RSS %.0f MB)\n",
                ms[ms.size() / 2], ms.size(), ms.back(), app.long_mode ? "long" : "full forward", step_kb, steps,
                history_mb, peak_rss_mb());
    if (!undo_ms.empty())
        std::printf("  app undo (one word)                 %6.2f ms  (median of %zu)\n", undo_ms[undo_ms.size() / 2],
                    undo_ms.size());
    if (!ok) std::printf("  (an edit was refused: %s)\n", app.status.c_str());
}

// Long sequences: statistics, a screenful tile, a hovered cell, a pooled overview, a token edit.
int run_tiles_bench(const BenchArgs& a, const Scene& s, int threads) {
    std::printf("attnviz bench --tiles-only: n=%d d_model=%d heads=%d mask=%s threads=%d (scene: %.0f MB RSS)\n", a.n,
                a.d_model, a.heads, a.mask.c_str(), threads, peak_rss_mb());
    PatternTiles tiles;
    Progress progress;
    const double build_ms = median_ms(1, [&] { tiles.build(s, &progress, a.threads); });
    std::printf("  build statistics  %9.1f ms  (%.0f MB held; peak RSS %.0f MB)\n", build_ms, tiles.bytes() / 1e6,
                peak_rss_mb());
    const int size = std::min(a.n, 512);
    const double tile_ms = median_ms(a.repeat, [&] { (void)tiles.tile(0, a.n - size, a.n - size, size, size); });
    std::printf("  %dx%d tile        %9.2f ms\n", size, size, tile_ms);
    const double cell_us = median_ms(a.repeat, [&] { (void)tiles.cell(0, a.n - 1, a.n / 2); }) * 1e3;
    std::printf("  one cell          %9.2f µs\n", cell_us);
    Mat out;
    const double overview_ms = median_ms(1, [&] { tiles.overview(0, 512, 512, Pool::Max, out, nullptr, a.threads); });
    std::printf("  512x512 max-pooled overview of one head %9.1f ms\n", overview_ms);
    const int t = a.n / 2;
    const Scene edited[2] = {with_token(s, t, "edited"), s};
    int k = 0;
    const double edit_ms = median_ms(std::max(a.repeat, 9), [&] {
        tiles.update_token(edited[k], t, a.threads);
        k ^= 1;
    });
    std::printf("  one-token edit    %9.2f ms  (token %d)\n", edit_ms, t);
    std::printf("  peak RSS          %9.0f MB\n", peak_rss_mb());
    return 0;
}

int run_tiles_and_app_bench(const BenchArgs& a, const Scene& s, int threads) {
    const int rc = run_tiles_bench(a, s, threads);  // its statistics and edited copies freed here
    run_app_edit_bench(a, s);
    return rc;
}

}  // namespace

GemmRate::GemmRate(int size, int threads)
    : size_(size), threads_(threads), A_(Mat::Random(size, size)), B_(Mat::Random(size, size)), C_(size, size) {
    run();  // warm
}

void GemmRate::run() { gemm_rows(A_, B_, nullptr, C_, threads_); }

double GemmRate::gflops_of(double ms) const { return 2.0 * size_ * size_ * double(size_) / (ms * 1e6); }

double peak_rss_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

int run_bench(const BenchArgs& a) {
    if (a.heads < 1 || a.d_model < a.heads || a.d_model % a.heads != 0) {
        std::cerr << "attnviz bench: --d-model " << a.d_model << " must be a positive multiple of --heads " << a.heads
                  << "\n";
        return 2;
    }
    if (a.n < 2 || a.repeat < 1) {
        std::cerr << "attnviz bench: --n must be at least 2 and --repeat at least 1\n";
        return 2;
    }
    Mask mask;
    if (a.mask == "causal") mask = Mask::causal();
    else if (a.mask.rfind("sliding_window:", 0) == 0) {
        // The width: a whole number 1..kMaxTokens and nothing else ("abc", "", "0", "1e99" refused).
        const char* w = a.mask.c_str() + 15;
        const char* end = a.mask.c_str() + a.mask.size();
        int width = 0;
        const auto [ptr, ec] = std::from_chars(w, end, width);
        if (w == end || ec != std::errc() || ptr != end || width < 1 || width > Limits::kMaxTokens) {
            std::cerr << "attnviz bench: --mask sliding_window:W needs a width W of 1.." << Limits::kMaxTokens << ", got \""
                      << a.mask << "\"\n";
            return 2;
        }
        mask = Mask::sliding_window(width);
    } else if (a.mask != "none") {
        std::cerr << "attnviz bench: --mask must be none, causal or sliding_window:W\n";
        return 2;
    }
    Scene s;
    std::vector<std::string> tokens;
    for (int i = 0; i < a.n; ++i) tokens.push_back("tok" + std::to_string(i % 5000));
    if (a.tiles_only) {
        // The scene checks (check_sizes) assume a full Forward of every n² pattern, which the
        // tiles path never allocates: draw the scene directly for long sequences.
        s.input.tokens = tokens_from_strings(tokens);
        s.d_model = a.d_model;
        s.n_heads = a.heads;
        s.d_head = a.d_model / a.heads;
        s.seed = 1;
        s.positional = Positional::Sinusoidal;
        s.mask = mask;
        s.input.embeddings.resize(a.n, a.d_model);
        for (int i = 0; i < std::min(a.n, 5000); ++i) s.input.embeddings.row(i) = token_embedding(tokens[i], 1, a.d_model);
        for (int i = 5000; i < a.n; ++i) s.input.embeddings.row(i) = s.input.embeddings.row(i % 5000);
        s.heads.resize(static_cast<std::size_t>(a.heads));
        for (int h = 0; h < a.heads; ++h)
            for (auto p : {kQuery, kKey, kValue})
                s.heads[static_cast<std::size_t>(h)].W[p] = drawn_projection(1, h, p, a.d_model, s.d_head);
        s.W_O = drawn_output(1, a.heads * s.d_head, a.d_model);
    } else {
        try {
            s = make_scene(tokens, a.d_model, a.heads, a.d_model / a.heads, 1);
            set_positional(s, Positional::Sinusoidal);
            set_mask(s, mask);
        } catch (const SceneError& e) {
            std::cerr << "attnviz bench: " << e.what() << " (--tiles-only measures long sequences)\n";
            return 2;
        }
    }
    ForwardOptions opt;
    opt.threads = a.threads;
    const int threads = resolve_threads(a.threads);
    if (a.tiles_only) return run_tiles_and_app_bench(a, s, threads);

    // The machine's GEMM rate in this run, as --gpt2-shape measures it (256² for forwards under a
    // GFLOP, as for --gpt2-shape tiny: the smoke tests stay quick).
    const double gflop = forward_gemm_flops(s, opt) * 1e-9;
    const int rate_size = gflop < 1.0 ? 256 : 2048;
    // GEMMs alone, the full forward and the GEMM rate, interleaved so that all three see the same
    // machine: this VM's speed drifts by ±30 % over seconds, and a rate taken once before the
    // forwards made the share swing with it. The share is the median over the repetitions of
    // (forward's GFLOP/s) / (the rate measured right next to it).
    GemmRate rate(rate_size, threads);
    GemmBaseline gemm(s, opt);
    gemm.run();  // warm-up (allocations, caches)
    // full forward: into a kept Forward (as an app recomputing after an edit does); the fresh
    // variant also pays for allocating and zero-filling ~110 MB (n = 1024) of new pages.
    Forward kept;
    forward(s, kept, opt);
    double gemm_ms = 0, fwd_ms = 0, fresh_ms = 0, rate_gflops = 0, share = 0, share_lo = 0, share_hi = 0;
    {
        std::vector<double> g, f, fr, rt, sh;
        for (int r = 0; r < a.repeat; ++r) {
            const double rate_ms = median_ms(1, [&] { rate.run(); });
            g.push_back(median_ms(1, [&] { gemm.run(); }));
            f.push_back(median_ms(1, [&] { forward(s, kept, opt); }));
            fr.push_back(median_ms(1, [&] { Forward fw = forward(s, opt); }));
            rt.push_back(rate.gflops_of(rate_ms));
            sh.push_back(gflop / f.back() * 1e3 / rt.back());
        }
        for (auto* v : {&g, &f, &fr, &rt, &sh}) std::sort(v->begin(), v->end());
        gemm_ms = g[g.size() / 2];
        fwd_ms = f[f.size() / 2];
        fresh_ms = fr[fr.size() / 2];
        rate_gflops = rt[rt.size() / 2];
        share = sh[sh.size() / 2];
        share_lo = sh.front();  // the spread of the pairs: this VM's speed drifts between them
        share_hi = sh.back();
    }
    // The same one-token edit applied to the full Forward (every score and pattern kept).
    const int t = a.n / 2;
    const Scene edited[2] = {with_token(s, t, "edited"), s};
    int k = 0;
    const double fwd_edit_ms = median_ms(std::max(a.repeat, 5), [&] {
        update_token(edited[k], kept, t, a.threads);
        k ^= 1;
    });
    kept = Forward();  // give the memory back before the tiles
    // One-token edit in the middle of the sequence, alternating between two texts.
    PatternTiles tiles;
    const double build_ms = median_ms(1, [&] { tiles.build(s, nullptr, a.threads); });
    k = 0;
    const double edit_ms = median_ms(std::max(a.repeat, 9), [&] {
        tiles.update_token(edited[k], t, a.threads);
        k ^= 1;
    });
    const double delta_rows_ms = median_ms(std::max(a.repeat, 9), [&] {  // ΔE of a screenful of rows
        (void)tiles.delta_rows(t, std::min(a.n - t, 64));
    });

    const double fwd_gflops = gflop / fwd_ms * 1e3;
    if (a.json) {
        std::printf("{\"n\": %d, \"d_model\": %d, \"heads\": %d, \"mask\": \"%s\", \"full_forward_ms\": %.3f, "
                    "\"token_edit_ms\": %.3f, \"gemm_only_ms\": %.3f, \"gemm_gflops\": %.1f, "
                    "\"forward_share_of_gemm\": %.3f}\n",
                    a.n, a.d_model, a.heads, a.mask.c_str(), fwd_ms, edit_ms, gemm_ms, rate_gflops, share);
        return 0;
    }
    std::printf("attnviz bench: n=%d d_model=%d heads=%d (d_head=%d) mask=%s threads=%d, median of %d\n", a.n,
                a.d_model, a.heads, a.d_model / a.heads, a.mask.c_str(), threads, a.repeat);
    std::printf("  GEMM rate         %9.1f GFLOP/s  (one %dx%d·%dx%d product, rows over %d threads, before each forward)\n",
                rate_gflops, rate_size, rate_size, rate_size, rate_size, threads);
    std::printf("  full forward      %9.2f ms  (%.1f GFLOP of products, %.0f GFLOP/s = %.0f %% of the GEMM rate)"
                "  pairs %.0f-%.0f %%\n",
                fwd_ms, gflop, fwd_gflops, 100.0 * share, 100.0 * share_lo, 100.0 * share_hi);
    std::printf("  full forward, new %9.2f ms  (a fresh Forward each time)\n", fresh_ms);
    std::printf("  GEMMs alone       %9.2f ms  (%.0f GFLOP/s); forward / GEMMs = %.2f\n", gemm_ms,
                gflop / gemm_ms * 1e3, fwd_ms / gemm_ms);
    std::printf("  one-token edit    %9.2f ms  (token %d; %.0fx faster than the full forward)\n", edit_ms, t,
                fwd_ms / edit_ms);
    std::printf("  same edit, full Forward %6.2f ms  (every score/pattern row that sees the token rescaled)\n",
                fwd_edit_ms);
    std::printf("  ΔE of 64 rows     %9.2f ms  (on demand after an edit)\n", delta_rows_ms);
    std::printf("  tiles build       %9.2f ms  (statistics only, %.1f MB; a full forward holds %.1f MB)\n", build_ms,
                tiles.bytes() / 1e6,
                estimate_forward_bytes(a.n, a.n, a.d_model, a.heads, a.d_model / a.heads) / 1e6);
    return 0;
}

}  // namespace attnviz::app
