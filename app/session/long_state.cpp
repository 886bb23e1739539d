// attnviz session — long sequences: the statistics, built and updated on the worker (see
// long_state.hpp).
#include "long_state.hpp"

#include <algorithm>
#include <cstdio>

#include "app_state.hpp"
#include "explain.hpp"  // format_count
#include "incremental.hpp"
#include "scene_io.hpp"
#include "text.hpp"

namespace attnviz::app {

LongView& long_state(AppState& s) {
    if (!s.long_view) s.long_view = std::make_shared<LongView>();
    return *s.long_view;
}

std::uint64_t long_key(std::initializer_list<std::int64_t> parts) {
    std::uint64_t h = 1469598103934665603ull;
    for (const std::int64_t p : parts)
        for (int b = 0; b < 8; ++b) {
            h ^= static_cast<std::uint64_t>(p >> (8 * b)) & 0xFFu;
            h *= 1099511628211ull;
        }
    return h | 1u;  // never 0 (0 = nothing asked)
}

std::shared_ptr<const PatternTiles> LongView::ready(std::uint64_t generation) {
    std::lock_guard<std::mutex> lock(mu);
    if (!tiles || tiles_busy || tiles_generation != generation) return nullptr;
    return tiles;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Statistics
// ---------------------------------------------------------------------------------------------
void long_rebuild(AppState& s) {
    LongView& lv = long_state(s);
    lv.jobs.cancel_all_and_wait();
    {
        std::lock_guard<std::mutex> lock(lv.mu);
        lv.tiles.reset();  // frees the old statistics before the new ones are built
        lv.tiles_busy = false;
        lv.build_cancelled = false;
        lv.build_error.clear();
        lv.base_done.reset();
        lv.detail_done.reset();
        lv.grid_done.clear();
    }
    lv.base_asked = lv.detail_asked = lv.grid_asked = 0;
    lv.base_cancelled = false;
    auto scene = std::make_shared<const Scene>(s.scene);
    const std::uint64_t gen = s.generation;
    char label[128];
    std::snprintf(label, sizeof label, "softmax statistics: %s \xC3\x97 %s", count_noun(s.scene.n(), "token").c_str(),
                  count_noun(s.scene.n_heads, "head").c_str());
    LongView* p = &lv;
    lv.jobs.submit(LongView::kBuild, label, [p, scene, gen](Progress& progress) {
        auto t = std::make_shared<PatternTiles>();
        try {
            if (!t->build(*scene, &progress)) {
                std::lock_guard<std::mutex> lock(p->mu);
                p->build_cancelled = true;
                return;
            }
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(p->mu);
            p->build_error = e.what();
            return;
        }
        std::lock_guard<std::mutex> lock(p->mu);
        p->tiles = std::move(t);
        p->tiles_generation = gen;
    });
}

bool long_update(AppState& s, std::uint64_t from_generation, int kind, int index) {
    if (!s.long_view) return false;
    LongView& lv = *s.long_view;
    lv.jobs.cancel_all_and_wait();
    std::shared_ptr<PatternTiles> t;
    {
        std::lock_guard<std::mutex> lock(lv.mu);
        if (!lv.tiles || lv.tiles_busy || lv.tiles_generation != from_generation) return false;
        t = lv.tiles;
        lv.base_done.reset();
        lv.detail_done.reset();
        lv.grid_done.clear();
    }
    lv.base_asked = lv.detail_asked = lv.grid_asked = 0;
    const std::uint64_t gen = s.generation;
    try {
        if (kind == static_cast<int>(SceneChange::Kind::Token)) {
            t->update_token(s.scene, index);
        } else if (kind == static_cast<int>(SceneChange::Kind::Output)) {
            t->update_output(s.scene);
        } else if (kind == static_cast<int>(SceneChange::Kind::HeadWeights)) {
            const double work = static_cast<double>(t->n()) * t->m() * t->d_head();
            if (work <= 6.7e7) {  // ~0.1 s or less: here
                t->update_head(s.scene, index);
            } else {  // on the worker; the heatmap waits for it
                {
                    std::lock_guard<std::mutex> lock(lv.mu);
                    lv.tiles_busy = true;
                }
                auto scene = std::make_shared<const Scene>(s.scene);
                LongView* p = &lv;
                char label[64];
                std::snprintf(label, sizeof label, "softmax statistics of head %d", index);
                lv.jobs.submit(LongView::kBuild, label,
                               [p, t, scene, index, gen](Progress&) {
                                   t->update_head(*scene, index);
                                   std::lock_guard<std::mutex> lock(p->mu);
                                   p->tiles_busy = false;
                                   p->tiles_generation = gen;
                               });
                return true;
            }
        } else {
            return false;
        }
    } catch (const std::exception&) {
        return false;  // sizes changed after all: rebuild
    }
    std::lock_guard<std::mutex> lock(lv.mu);
    lv.tiles_generation = gen;
    return true;
}

void long_release(AppState& s) {
    if (!s.long_view) return;
    s.long_view->jobs.cancel_all_and_wait();
    s.long_view.reset();
}

bool long_progress(const AppState& s, std::string& label, double& fraction) {
    if (!s.long_view) return false;
    const JobRunner::Status st = s.long_view->jobs.current();
    if (!st.running) return false;
    label = st.label;
    fraction = st.fraction;
    return true;
}

void long_report_errors(AppState& s) {
    if (!s.long_view) return;
    for (const std::string& e : s.long_view->jobs.take_errors()) s.set_error(e);
}

bool long_settled(const AppState& s, int& settle) {
    if (!s.long_mode || !s.long_view) return true;
    if (s.long_view->jobs.busy()) {
        settle = 0;
        return false;
    }
    return ++settle > 2;
}

int find_token(const std::vector<Token>& tokens, const std::string& what, int after) {
    const int n = static_cast<int>(tokens.size());
    auto trim = [](const std::string& t) {
        const auto a = t.find_first_not_of(" \t\n");
        if (a == std::string::npos) return std::string();
        return t.substr(a, t.find_last_not_of(" \t\n") - a + 1);
    };
    const std::string w = trim(what);
    if (w.empty() || n == 0) return -1;
    if (w.find_first_not_of("0123456789") == std::string::npos && w.size() < 10) {
        const int i = std::stoi(w);
        return i < n ? i : -1;
    }
    for (int pass = 0; pass < 2; ++pass)  // exact text first, then text containing it
        for (int k = 1; k <= n; ++k) {
            const int i = (((after + k) % n) + n) % n;
            const std::string t = trim(tokens[static_cast<std::size_t>(i)].text);
            if (pass == 0 ? t == w : t.find(w) != std::string::npos) return i;
        }
    return -1;
}

}  // namespace attnviz::app
