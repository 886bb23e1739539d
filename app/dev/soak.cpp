#include "soak.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gl.hpp"
#include "scene_io.hpp"
#include "paths.hpp"

namespace attnviz::app {

namespace {
const std::vector<std::string> kWords = {"the", "fluffy", "blue", "creature", "roamed", "a", "verdant", "forest", ",",
                                         "Eiffel", "Tower", "attention", "注意", "мир", "café", "👍🏽", "3.14", "don't",
                                         "\xff", "Q·Kᵀ", "", "x"};

int uniform(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
float normal(std::mt19937& rng) { return std::normal_distribution<float>(0.0f, 1.0f)(rng); }

std::vector<std::string> random_words(std::mt19937& rng, int lo, int hi) {
    std::vector<std::string> w(static_cast<std::size_t>(uniform(rng, lo, hi)));
    for (auto& x : w) x = kWords[static_cast<std::size_t>(uniform(rng, 0, static_cast<int>(kWords.size()) - 1))];
    return w;
}
std::string join(const std::vector<std::string>& w) {
    std::string t;
    for (const auto& x : w) t += x + " ";
    return t;
}

std::vector<std::string> scene_files() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(asset_path("assets/scenes"), ec))
        if (e.path().extension() == ".json") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

Mask random_mask(std::mt19937& rng, int n, int m) {
    switch (uniform(rng, 0, 5)) {
        case 0: return Mask::none();
        case 1: return Mask::causal();
        case 2: return Mask::sliding_window(uniform(rng, 1, 6));
        case 3: return Mask::strided(uniform(rng, 1, 4));
        case 4: return Mask::fixed(uniform(rng, 1, 4));
        default: {
            std::vector<std::uint8_t> a(static_cast<std::size_t>(n) * static_cast<std::size_t>(m));
            for (auto& v : a) v = static_cast<std::uint8_t>(uniform(rng, 0, 1));
            return Mask::matrix(n, m, std::move(a));
        }
    }
}
}  // namespace

long ResidentKiB() {
    // Hand freed heap memory back to the system first, so what is left is what is still in use
    // (glibc keeps freed blocks of varying sizes otherwise, which reads as growth but is no leak).
    ::malloc_trim(0);
    std::ifstream in("/proc/self/statm");
    long size = 0, resident = 0;
    if (!(in >> size >> resident)) return -1;
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

bool SoakStep(AppState& s, std::mt19937& rng) {
    const Scene& sc = s.scene;
    const int kind = uniform(rng, 0, 19);
    auto head = [&] { return uniform(rng, 0, sc.n_heads - 1); };
    switch (kind) {
        case 0: { const auto w = random_words(rng, 0, 40); return s.edit([&](Scene& x) { set_text(x, join(w)); }); }
        case 1: { const auto w = random_words(rng, 1, 24); return s.edit([&](Scene& x) { set_tokens(x, w); }); }
        case 2:
        case 3: {  // a weight slider dragged: same key, coalesced into one undo step
            const int h = head(), p = uniform(rng, 0, 2), r = uniform(rng, 0, sc.d_model - 1), c = uniform(rng, 0, sc.d_head - 1);
            const float v = normal(rng);
            const std::string key = "heads[" + std::to_string(h) + "]." + projection_name(static_cast<Projection>(p)) + "[" +
                                    std::to_string(r) + "][" + std::to_string(c) + "]";
            return s.edit(key, [&](Scene& x) { set_weight(x, h, static_cast<Projection>(p), r, c, v); });
        }
        case 4: {
            if (sc.n() == 0) return false;
            const int t = uniform(rng, 0, sc.n() - 1), d = uniform(rng, 0, sc.d_model - 1);
            const float v = normal(rng);
            return s.edit([&](Scene& x) { set_embedding(x, t, d, v); });
        }
        case 5: {
            const int r = uniform(rng, 0, sc.n_heads * sc.d_head - 1), c = uniform(rng, 0, sc.d_model - 1);
            const float v = normal(rng);
            return s.edit([&](Scene& x) { set_output_weight(x, r, c, v); });
        }
        case 6: { const int v = uniform(rng, 1, 6); return s.edit([&](Scene& x) { set_n_heads(x, v); }); }
        case 7: { const int v = uniform(rng, 2, 48); return s.edit([&](Scene& x) { set_d_model(x, v); }); }
        case 8: { const int v = uniform(rng, 1, 24); return s.edit([&](Scene& x) { set_d_head(x, v); }); }
        case 9: { const Mask m = random_mask(rng, sc.n(), sc.m()); return s.edit([&](Scene& x) { set_mask(x, m); }); }
        case 10: {
            const int what = uniform(rng, 0, 2);
            const float t = std::exp(std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng));
            const auto pos = static_cast<Positional>(uniform(rng, 0, 2));
            const bool scale = uniform(rng, 0, 1) == 1;
            const char* keys[3] = {"temperature", "positional", "scale"};
            return s.edit(keys[what], [&](Scene& x) {
                if (what == 0) set_temperature(x, t);
                else if (what == 1) set_positional(x, pos);
                else set_scale(x, scale);
            });
        }
        case 11: {
            const auto seed = static_cast<std::uint64_t>(rng());
            const bool all = uniform(rng, 0, 3) == 0;
            return s.edit([&](Scene& x) { all ? rerandomize(x, seed) : set_seed(x, seed); });
        }
        case 12: {
            if (uniform(rng, 0, 2) == 0) return s.edit([&](Scene& x) { clear_source(x); });
            const auto w = random_words(rng, 1, 16);
            return s.edit([&](Scene& x) { set_source_tokens(x, w); });
        }
        case 13: {  // scene switch (as opening a file)
            const std::vector<std::string> files = scene_files();
            if (files.empty()) return false;
            const std::string f = files[static_cast<std::size_t>(uniform(rng, 0, static_cast<int>(files.size()) - 1))];
            Scene loaded;
            try {
                loaded = load_scene(f);
            } catch (const SceneError& e) {
                s.set_error(e.what());
                return false;
            }
            // Keep the soak's frames quick: scenes past 256 tokens are trimmed to their first 64.
            if (loaded.n() > 256) {
                auto words = token_texts(loaded.input.tokens);
                words.resize(64);
                set_tokens(loaded, words);
            }
            return s.edit([&](Scene& x) { x = std::move(loaded); });
        }
        case 14:
        case 15: return s.undo();
        case 16: return s.redo();
        case 17: {  // invalid edits a user can attempt: must be refused, scene unchanged
            const int which = uniform(rng, 0, 3);
            const bool applied = s.edit([&](Scene& x) {
                if (which == 0) set_weight(x, 0, kQuery, 0, 0, std::nanf(""));
                else if (which == 1) set_weight(x, x.n_heads, kKey, 0, 0, 1.0f);
                else if (which == 2) set_temperature(x, -1.0f);
                else set_d_model(x, 1 << 20);
            });
            if (applied) std::fprintf(stderr, "attnviz: soak: an invalid edit (%d) was accepted\n", which);
            return applied;
        }
        default: {  // selection, as clicking cells
            s.sel.head = uniform(rng, 0, sc.n_heads);
            s.sel.query = uniform(rng, -1, sc.n());
            s.sel.key = uniform(rng, -1, sc.m());
            s.clamp_selection();
            return false;
        }
    }
}

void SoakBegin(AppState& s, SoakRun& run, int edits, unsigned seed) {
    History::Options o;
    o.max_steps = 100;
    s.history = History(o);
    run.target = edits;
    run.rng.seed(seed);
    run.baseline = s.scene;
}

bool SoakFrame(AppState& s, SoakRun& run) {
    for (const unsigned e : gl::take_errors()) {
        if (run.gl_errors < 10) std::fprintf(stderr, "attnviz: soak: GL error 0x%x after step %d\n", e, run.done);
        ++run.gl_errors;
    }
    // Checkpoints after 100 edits and at the end: show the starting scene again for a few frames
    // (views re-size their textures), then measure.
    const bool checkpoint = (run.done == 100 && run.rss_after_100 < 0) || (run.done >= run.target && run.rss_end < 0);
    if (checkpoint) {
        if (run.settle == 0) {
            s.history.clear();
            s.scene = run.baseline;
            s.sel = Selection{};
            s.recompute();
            run.settle = 3;
            return true;
        }
        if (--run.settle > 0) return true;
        (run.done >= run.target ? run.rss_end : run.rss_after_100) = ResidentKiB();
    }
    if (run.done >= run.target) return false;
    s.status_is_error = false;
    if (SoakStep(s, run.rng)) ++run.applied;
    if (s.status_is_error) ++run.refused;
    ++run.done;
    return true;
}

int SoakFinish(const SoakRun& run) {
    const double growth = run.rss_after_100 > 0 ? 100.0 * static_cast<double>(run.rss_end - run.rss_after_100) / static_cast<double>(run.rss_after_100) : 0.0;
    std::printf("soak: %d steps, %d edits applied, %d refused as invalid, %ld GL errors\n", run.done, run.applied, run.refused,
                run.gl_errors);
    std::printf("soak: resident memory %ld KiB after 100 edits, %ld KiB at the end (%+.1f %%)\n", run.rss_after_100,
                run.rss_end, growth);
    std::fflush(stdout);
    int rc = 0;
    if (run.gl_errors > 0) { std::fprintf(stderr, "soak: FAIL: GL errors\n"); rc = 1; }
    if (run.target > 100 && growth > 10.0) { std::fprintf(stderr, "soak: FAIL: memory grew by more than 10 %%\n"); rc = 1; }
    return rc;
}

}  // namespace attnviz::app
