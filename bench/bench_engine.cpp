// attnviz engine benchmarks (Google Benchmark). Each core path sits next to a GEMM-only baseline
// at the same shapes; the GFLOP counter (shown per second) counts the products' floating-point operations.
//
//   build/bench/attnviz_bench                                   everything (minutes)
//   build/bench/attnviz_bench --benchmark_filter=Forward         one group
//
// Sizes: d_model = 768, 12 heads of 64; the last argument is n. Argument 64 is the smoke-test size
// (ctest runs those once); the others are the targets.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engine.hpp"
#include "incremental.hpp"

using namespace attnviz;

namespace {

Scene bench_scene(int n, bool causal, int d_model = 768, int heads = 12) {
    std::vector<std::string> tokens;
    for (int i = 0; i < n; ++i) tokens.push_back("tok" + std::to_string(i % 5000));
    Scene s = make_scene(tokens, d_model, heads, d_model / heads, 1);
    set_positional(s, Positional::Sinusoidal);
    if (causal) set_mask(s, Mask::causal());
    return s;
}

void set_gflops(benchmark::State& state, double flops_per_iteration) {
    state.counters["GFLOP"] = benchmark::Counter(flops_per_iteration * 1e-9 * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}

// ---- full forward vs its products alone ------------------------------------------------------
void BM_Forward(benchmark::State& state) {
    const Scene s = bench_scene(static_cast<int>(state.range(1)), state.range(0) != 0);
    Forward f;
    forward(s, f);
    for (auto _ : state) forward(s, f);
    set_gflops(state, forward_gemm_flops(s));
}
void BM_ForwardGemmOnly(benchmark::State& state) {
    const Scene s = bench_scene(static_cast<int>(state.range(1)), state.range(0) != 0);
    GemmBaseline g(s);
    g.run();
    for (auto _ : state) g.run();
    set_gflops(state, g.flops());
}
// {causal?, n}
BENCHMARK(BM_Forward)->ArgNames({"causal", "n"})->Args({0, 64})->Args({0, 1024})->Args({1, 1024})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ForwardGemmOnly)->ArgNames({"causal", "n"})->Args({0, 64})->Args({0, 1024})->Args({1, 1024})->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- statistics for tiles (no n² storage) vs the same products ---------------------------------
void BM_TilesBuild(benchmark::State& state) {
    const Scene s = bench_scene(static_cast<int>(state.range(0)), true);
    PatternTiles t;
    for (auto _ : state) t.build(s);
    set_gflops(state, forward_gemm_flops(s) - 2.0 * s.n() * s.d_head * s.d_model * s.n_heads);  // no W_O product
}
BENCHMARK(BM_TilesBuild)->ArgName("n")->Arg(64)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- one-token edit vs a full forward at the same shapes ---------------------------------------
void BM_TokenEdit(benchmark::State& state) {
    const int n = static_cast<int>(state.range(1));
    const Scene s = bench_scene(n, state.range(0) != 0);
    Scene edited = s;
    const int t = n / 2;
    edited.input.tokens[static_cast<std::size_t>(t)].text = "edited";
    edited.input.embeddings.row(t) = token_embedding("edited", s.seed, s.d_model);
    PatternTiles tiles;
    tiles.build(s);
    int k = 0;
    for (auto _ : state) {
        tiles.update_token(k ? s : edited, t);
        k ^= 1;
    }
    // Products of one edit: 3 projections of a row, column t before/after, row t of scores and pattern·V.
    const double dh = s.d_head, H = s.n_heads;
    set_gflops(state, H * (3 * 2 * s.d_model * dh + 2 * 2 * n * dh + 2 * 2 * n * dh));
}
BENCHMARK(BM_TokenEdit)->ArgNames({"causal", "n"})->Args({0, 64})->Args({0, 4096})->Args({1, 4096})->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- a visible tile and a pooled overview vs their score products alone ------------------------
void BM_Tile(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0)), size = std::min(n, 512);
    const Scene s = bench_scene(n, true, 64, 1);
    PatternTiles t;
    t.build(s);
    for (auto _ : state) benchmark::DoNotOptimize(t.tile(0, n - size, 0, size, size));
    set_gflops(state, 2.0 * size * size * s.d_head);
}
void BM_TileGemmOnly(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0)), size = std::min(n, 512);
    const Scene s = bench_scene(n, true, 64, 1);
    PatternTiles t;
    t.build(s);
    const Mat Q = t.head(0).Q.bottomRows(size), K = t.head(0).K.topRows(size);
    Mat S(size, size);
    for (auto _ : state) {
        S.noalias() = Q * K.transpose();
        benchmark::DoNotOptimize(S.data());
    }
    set_gflops(state, 2.0 * size * size * s.d_head);
}
BENCHMARK(BM_Tile)->ArgName("n")->Arg(64)->Arg(16384)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TileGemmOnly)->ArgName("n")->Arg(64)->Arg(16384)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Overview(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const Scene s = bench_scene(n, true, 64, 1);
    PatternTiles t;
    t.build(s);
    Mat out;
    for (auto _ : state) t.overview(0, 512, 512, Pool::Max, out);
    set_gflops(state, 2.0 * static_cast<double>(s.mask.allowed_count(n, n)) * s.d_head);
}
BENCHMARK(BM_Overview)->ArgName("n")->Arg(64)->Arg(8192)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- classifying an edit (what the app does before every update) ------------------------------
// {given?, n}: a one-token edit of an n-token scene, d_model 768, 12 heads. given = 0: drawn
// embeddings (rows follow the texts, no row compared); 1: given embeddings (every row compared).
void BM_ClassifyChange(benchmark::State& state) {
    const int n = static_cast<int>(state.range(1));
    Scene before = bench_scene(n, true);
    if (state.range(0)) set_embedding(before, 0, 0, before.input.embeddings(0, 0));  // mark given
    Scene after = before;
    auto tokens = token_texts(before.input.tokens);
    tokens[static_cast<std::size_t>(n / 2)] = "edited";
    set_tokens(after, tokens);
    for (auto _ : state) benchmark::DoNotOptimize(classify_change(before, after));
}
BENCHMARK(BM_ClassifyChange)->ArgNames({"given", "n"})->Args({0, 64})->Args({1, 64})->Args({0, 32768})->Args({1, 32768})->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- set_text with one word changed (drawn rows of unchanged words are copied, not redrawn) -----
void BM_SetTextOneWord(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    std::string text;
    for (int i = 0; i < n; ++i) {
        int k = i % 3000;
        std::string w = "w";
        do {
            w += static_cast<char>('a' + k % 26);
            k /= 26;
        } while (k);
        text += (i ? " " : "") + w;
    }
    Scene s = make_scene({"a"}, 768, 12, 64, 1);
    set_text(s, text);
    std::string edited = text;
    edited[edited.find(' ', edited.size() / 2) + 1] = 'Z';  // the first letter of one word
    int k = 0;
    for (auto _ : state) set_text(s, (k ^= 1) ? edited : text);
}
BENCHMARK(BM_SetTextOneWord)->ArgName("n")->Arg(64)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
