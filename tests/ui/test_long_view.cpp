// The app's long-sequence path and live updates: the worker thread's rules, the heatmap blocks
// (pooled buckets, transposed exact blocks), incremental edits through AppState::edit against a
// full recompute, and a scene too big for every pattern explored through core's PatternTiles,
// checked against softmax computed here from Q and K.
#include <doctest/doctest.h>

#include <imgui.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app_state.hpp"
#include "heatmap.hpp"
#include "helpers.hpp"
#include "jobs.hpp"
#include "long_view.hpp"
#include "panels.hpp"
#include "scene_io.hpp"
#include "ui_helpers.hpp"

using namespace attnviz;
using namespace attnviz::app;
using attnviz::test::check_forward_is_full_recompute;
using attnviz::test::HeadlessImGui;
using attnviz::test::word;

namespace {
struct Log {
    std::mutex mu;
    std::vector<std::string> ran;
    void add(const std::string& s) {
        std::lock_guard<std::mutex> lock(mu);
        ran.push_back(s);
    }
};

void wait_running(const JobRunner& jobs) {
    for (int i = 0; i < 2000 && !jobs.current().running; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// The worker
// ---------------------------------------------------------------------------------------------
TEST_CASE("worker: the latest request of a kind wins and smaller kinds run first") {
    JobRunner jobs;
    Log log;
    std::atomic<bool> release{false};
    jobs.submit(9, "blocker", [&](Progress& p) {
        while (!release && !p.cancel) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        log.add("blocker");
    });
    wait_running(jobs);
    REQUIRE(jobs.current().label == "blocker");
    for (const char* name : {"a1", "a2"}) jobs.submit(5, name, [&log, name](Progress&) { log.add(name); });
    jobs.submit(1, "b", [&](Progress&) { log.add("b"); });
    jobs.submit(5, "a3", [&](Progress&) { log.add("a3"); });
    CHECK(jobs.current().queued == 2);  // a3 replaced a1 and a2; b
    release = true;
    jobs.wait_idle();
    CHECK(log.ran == std::vector<std::string>{"blocker", "b", "a3"});
    CHECK_FALSE(jobs.busy());
}

TEST_CASE("worker: cancel reaches the running job; a new request of its kind stops it; a throwing job does not stop the worker") {
    JobRunner jobs;
    Log log;
    auto until_cancelled = [&](const std::string& name) {
        return [&log, name](Progress& p) {
            p.total = 10;
            p.done = 3;
            while (!p.cancel) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            log.add(name + " stopped");
        };
    };
    jobs.submit(2, "long", until_cancelled("long"));
    wait_running(jobs);
    CHECK(jobs.current().fraction == doctest::Approx(0.3));
    CHECK(jobs.busy(2));
    CHECK_FALSE(jobs.busy(3));
    jobs.cancel(2);
    jobs.wait_idle();
    jobs.submit(2, "first", until_cancelled("first"));
    wait_running(jobs);
    jobs.submit(2, "second", [&](Progress&) { log.add("second"); });
    jobs.wait_idle();
    jobs.submit(4, "throws", [](Progress&) { throw std::runtime_error("bad"); });
    jobs.submit(6, "after", [&](Progress&) { log.add("after"); });
    jobs.wait_idle();
    CHECK(log.ran == std::vector<std::string>{"long stopped", "first stopped", "second", "after"});
    jobs.submit(2, "again", until_cancelled("again"));
    wait_running(jobs);
    jobs.cancel_all_and_wait();
    CHECK_FALSE(jobs.busy());
    CHECK(log.ran.back() == "again stopped");
}

// ---------------------------------------------------------------------------------------------
// Heatmap blocks
// ---------------------------------------------------------------------------------------------
TEST_CASE("pooled block: cell r of R rows held by T buckets is in bucket t with t*R/T <= r < (t+1)*R/T") {
    HeatmapBlock k;
    k.r0 = 100;
    k.c0 = 0;
    k.rows = 10;
    k.cols = 1;
    k.tex_rows = 3;
    k.tex_cols = 1;
    k.values = {0.0f, 1.0f, 2.0f};
    // buckets start at floor(0·10/3) = 0, floor(10/3) = 3, floor(20/3) = 6 (and end at 10)
    const float expected[10] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2};
    for (int r = 0; r < 10; ++r) CHECK(k.at(100 + r, 0) == expected[r]);
    CHECK_FALSE(k.exact());
    CHECK(k.covers(109, 0));
    CHECK_FALSE(k.covers(110, 0));
    CHECK_FALSE(k.covers(99, 0));
}

TEST_CASE("an exact block in a transposed view answers in data coordinates; the visible block is rounded out") {
    HeatmapView hv;
    hv.opt.transpose = true;
    hv.set_shape(50, 40);  // 50 queries × 40 keys; shown with keys as rows
    CHECK(hv.rows == 40);
    CHECK(hv.cols == 50);
    Mat blk(3, 4);  // data rows 20..22, columns 30..33
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 4; ++b) blk(a, b) = static_cast<float>(10 * a + b);
    hv.set_block(hv.detail, blk, 20, 30, 3, 4, nullptr, 7);
    CHECK(hv.detail.r0 == 30);
    CHECK(hv.detail.c0 == 20);
    CHECK(hv.detail.rows == 4);
    CHECK(hv.detail.cols == 3);
    CHECK(hv.detail.exact());
    float v = -1;
    CHECK(hv.exact_value(21, 32, v));
    CHECK(v == 12.0f);
    CHECK_FALSE(hv.exact_value(19, 32, v));
    CHECK(hv.data_lo == 0.0f);
    CHECK(hv.data_hi == 23.0f);
    // a pooled base block does not give exact values
    hv.set_block(hv.base, Mat::Constant(5, 4, 0.5f), 0, 0, 50, 40, nullptr, 8);
    CHECK_FALSE(hv.base.exact());
    CHECK_FALSE(hv.exact_value(0, 0, v));
    // display columns [10, 20) × rows [2, 8) = data queries 10..19 × keys 2..7
    hv.view = CellView{10.5f, 2.0f, 20.0f, 7.2f};
    int r0 = 0, c0 = 0, nr = 0, nc = 0;
    hv.visible_data_block(r0, c0, nr, nc);
    CHECK(r0 == 10);
    CHECK(nr == 10);
    CHECK(c0 == 2);
    CHECK(nc == 6);
    // another shape drops both blocks
    hv.set_shape(60, 40);
    CHECK(hv.base.empty());
    CHECK(hv.detail.empty());
}

// ---------------------------------------------------------------------------------------------
// Live edits: incremental updates equal a full recompute
// ---------------------------------------------------------------------------------------------

TEST_CASE("edits of one token, one head's weights and W_O update the forward pass to what a full recompute gives") {
    AppState s;
    Scene sc = make_scene({"a", "fluffy", "blue", "creature", "roamed", "the", "verdant", "forest"}, 16, 3, 4, 11);
    set_mask(sc, Mask::causal());
    s.set_scene(sc, "");
    const std::uint64_t g = s.generation;
    SUBCASE("one token") {
        REQUIRE(s.edit([](Scene& x) {
            auto t = token_texts(x.input.tokens);
            t[3] = "dragon";
            set_tokens(x, t);
        }));
        CHECK(s.scene.input.tokens[3].text == "dragon");
    }
    SUBCASE("one weight of head 1") { REQUIRE(s.edit([](Scene& x) { set_weight(x, 1, kKey, 2, 3, 0.9f); })); }
    SUBCASE("one weight of W_O") { REQUIRE(s.edit([](Scene& x) { set_output_weight(x, 5, 7, -0.8f); })); }
    SUBCASE("the mask (a full recompute)") { REQUIRE(s.edit([](Scene& x) { set_mask(x, Mask::sliding_window(2)); })); }
    CHECK(s.generation > g);
    check_forward_is_full_recompute(s);
    REQUIRE(s.undo());
    check_forward_is_full_recompute(s);
    REQUIRE(s.redo());
    check_forward_is_full_recompute(s);
}

// ---------------------------------------------------------------------------------------------
// Long mode
// ---------------------------------------------------------------------------------------------
namespace {
// Pattern cell (i, j) of head h from the math: causal softmax of (E_i·W_Q)·(E_j·W_K)ᵀ/√d_head,
// in double, with E = the embeddings (no positional encoding in these scenes).
double pattern_from_math(const Scene& s, int h, int i, int j) {
    const auto& w = s.heads[static_cast<std::size_t>(h)].W;
    const Eigen::RowVectorXd q = s.input.embeddings.row(i).cast<double>() * w[kQuery].cast<double>();
    std::vector<double> logit(static_cast<std::size_t>(i) + 1);
    double mx = -1e300;
    for (int k = 0; k <= i; ++k) {
        const Eigen::RowVectorXd key = s.input.embeddings.row(k).cast<double>() * w[kKey].cast<double>();
        logit[static_cast<std::size_t>(k)] = q.dot(key) / std::sqrt(static_cast<double>(s.d_head));
        mx = std::max(mx, logit[static_cast<std::size_t>(k)]);
    }
    if (j > i) return 0.0;
    double sum = 0.0;
    for (const double l : logit) sum += std::exp(l - mx);
    return std::exp(logit[static_cast<std::size_t>(j)] - mx) / sum;
}

Scene long_scene(int n) {
    std::vector<std::string> words;
    for (int i = 0; i < n; ++i) words.push_back(word("w", i % 397));
    Scene sc = make_scene(words, 48, 12, 4, 5);
    set_positional(sc, Positional::None);
    set_mask(sc, Mask::causal());
    return sc;
}
}  // namespace

TEST_CASE("long mode: statistics built on the worker, a token edit updates them in place, the heatmap gets exact tiles") {
    const Scene sc = long_scene(2100);
    REQUIRE_FALSE(fits_full_forward(sc, Limits::kLiveForwardBytes));  // 12 · 2100² · 4 B · 2 ≈ 423 MB
    HeadlessImGui ui;
    AppState s;
    s.set_scene(sc, "");
    CHECK(s.long_mode);
    CHECK(s.fwd.heads.empty());
    REQUIRE(s.long_view);
    s.long_view->jobs.wait_idle();
    auto t = s.long_view->ready(s.generation);
    REQUIRE(t);
    for (const auto& [h, i, j] : {std::array<int, 3>{0, 0, 0}, {3, 700, 12}, {11, 2099, 2099}, {5, 1500, 1501}})
        CHECK(t->cell(h, i, j) == doctest::Approx(pattern_from_math(s.scene, h, i, j)).epsilon(1e-4));

    // one token: updated in place, at once (a rebuild would run on the worker)
    REQUIRE(s.edit([](Scene& x) {
        auto toks = token_texts(x.input.tokens);
        toks[100] = "zebra";
        set_tokens(x, toks);
    }));
    t = s.long_view->ready(s.generation);
    REQUIRE(t);
    for (const auto& [h, i, j] : {std::array<int, 3>{2, 100, 100}, {2, 100, 7}, {7, 1800, 100}, {7, 1800, 1799}})
        CHECK(t->cell(h, i, j) == doctest::Approx(pattern_from_math(s.scene, h, i, j)).epsilon(1e-4));

    // one weight of head 3: that head's statistics redone (here: small enough for the UI thread)
    REQUIRE(s.edit([](Scene& x) { set_weight(x, 3, kQuery, 5, 2, 2.5f); }));
    t = s.long_view->ready(s.generation);
    REQUIRE(t);
    for (const auto& [h, i, j] : {std::array<int, 3>{3, 100, 100}, {3, 2000, 17}, {4, 2000, 17}})
        CHECK(t->cell(h, i, j) == doctest::Approx(pattern_from_math(s.scene, h, i, j)).epsilon(1e-4));
    // W_O: no statistic changes, ΔE follows the new W_O
    REQUIRE(s.edit([](Scene& x) { set_output_weight(x, 0, 0, 3.0f); }));
    t = s.long_view->ready(s.generation);
    REQUIRE(t);
    CHECK(t->cell(3, 2000, 17) == doctest::Approx(pattern_from_math(s.scene, 3, 2000, 17)).epsilon(1e-4));

    // the heatmap: a pooled overview of the whole pattern, then exact cells where zoomed in
    s.workspace = 0;
    for (int f = 0; f < 3; ++f) ui.frame(s);
    s.long_view->jobs.wait_idle();
    ui.frame(s);
    HeatmapView& hv = views(s).heatmap;
    REQUIRE_FALSE(hv.base.empty());
    CHECK(hv.base.tex_rows == kLongOverviewSize);
    CHECK_FALSE(hv.base.exact());
    CHECK(hv.rows == 2100);
    hv.view = CellView{500.0f, 1000.0f, 600.0f, 1100.0f};  // keys 500..599 × queries 1000..1099
    ui.frame(s);
    s.long_view->jobs.wait_idle();
    ui.frame(s);
    REQUIRE(hv.detail.exact());
    float v = -1;
    REQUIRE(hv.exact_value(1050, 550, v));
    CHECK(v == doctest::Approx(pattern_from_math(s.scene, 0, 1050, 550)).epsilon(1e-4));
    CHECK(hv.exact_value(1000, 599, v));
    CHECK_FALSE(hv.exact_value(10, 2000, v));  // far outside the visible block
    // Export CSV: the visible cells exactly, with their token labels
    const std::string dir = (std::filesystem::temp_directory_path() / word("attnviz_long_export_", ::getpid())).string();
    std::filesystem::create_directories(dir);
    s.export_dir = dir;
    REQUIRE(s.ui_rects.count("long.export_csv"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["long.export_csv"]));
    const std::string csv_path = dir + "/untitled_pattern_h0_q1000-1099_k500-599.csv";  // a scene with no file is "untitled"
    REQUIRE(std::filesystem::exists(csv_path));
    {
        std::ifstream in(csv_path);
        std::string header, row0;
        std::getline(in, header);
        std::getline(in, row0);  // query 1000
        CHECK(header.rfind(word("query\\key,500:w", 500 % 397) + ",", 0) == 0);  // key 500's label first, with its index
        CHECK(row0.rfind(word("1000:w", 1000 % 397) + ",", 0) == 0);              // query 1000's label
        const float first = std::stof(row0.substr(row0.find(',') + 1));  // (query 1000, key 500)
        CHECK(first == doctest::Approx(pattern_from_math(s.scene, 0, 1000, 500)).epsilon(1e-4));
    }
    std::filesystem::remove_all(dir);
    // max pooling: a bucket's value is the largest weight in it — row 0's bucket holds p(0, 0) = 1
    CHECK(hv.base.at(0, 0) == doctest::Approx(1.0f));

    // a size change leaves long mode for a full forward pass
    REQUIRE(s.edit([](Scene& x) { set_tokens(x, {"a", "short", "text"}); }));
    CHECK_FALSE(s.long_mode);
    CHECK(s.fwd.heads.size() == 12);
    CHECK_FALSE(s.long_view);
}

TEST_CASE("long mode: Cancel stops the statistics; Compute starts them again") {
    HeadlessImGui ui;
    AppState s;
    s.set_scene(long_scene(4096), "");  // ~1 s of work on the worker: long enough to click Cancel
    REQUIRE(s.long_mode);
    for (int f = 0; f < 500 && !s.ui_rects.count("long.cancel"); ++f) {  // until the worker has started
        ui.frame(s);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(s.ui_rects.count("long.cancel"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["long.cancel"]));
    s.long_view->jobs.wait_idle();
    ui.frame(s);
    CHECK_FALSE(s.long_view->ready(s.generation));
    REQUIRE(s.ui_rects.count("long.compute"));  // offered again
    CHECK_FALSE(s.ui_rects.count("long.progress"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["long.compute"]));
    s.long_view->jobs.wait_idle();
    CHECK(s.long_view->ready(s.generation));
    // and the scene the user made is untouched by the cancel
    CHECK(s.scene.n() == 4096);
}

TEST_CASE("long mode: the Weights editor works (it needs the weights, not the patterns); the other plot panels state the size") {
    HeadlessImGui ui;
    AppState s;
    s.set_scene(long_scene(2100), "");
    REQUIRE(s.long_mode);
    s.workspace = 1;  // embeddings & weights
    s.sel.head = 3;
    ui.frame(s);
    ui.frame(s);
    REQUIRE(s.ui_rects.count("weights.zero"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["weights.zero"]));  // W_Q of head 3 → 0
    CHECK(s.scene.heads[3].W[kQuery].isZero());
    CHECK(s.long_mode);
    CHECK(s.modified);
    // with W_Q = 0 every score of head 3 is 0: its pattern row is uniform over the allowed keys
    s.long_view->jobs.wait_idle();
    auto t = s.long_view->ready(s.generation);
    REQUIRE(t);
    int allowed = 0;
    for (int j = 0; j < s.scene.m(); ++j) allowed += s.scene.mask.allows(700, j) ? 1 : 0;
    CHECK(t->cell(3, 700, 12) == doctest::Approx(s.scene.mask.allows(700, 12) ? 1.0 / allowed : 0.0).epsilon(1e-5));
}
