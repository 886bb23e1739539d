// The plot and editor panels (app/ui/panel_shift.cpp, panel_qk.cpp, panel_weights.cpp,
// panel_inspector.cpp) in ImGui frames with no renderer: hover → point mapping, clicks select,
// the weight editor's operations change the scene and every view recomputes, bad numbers are
// refused. Expected numbers come from the math (linearity of Q = E·W_Q, uniform softmax of zero
// scores, identity projections), not from the panels' own output.
#include <doctest/doctest.h>
#include <imgui.h>

#include <cmath>
#include <limits>

#include "app_state.hpp"
#include "helpers.hpp"
#include "panels_plots.hpp"
#include "scene_io.hpp"

using namespace attnviz;
using namespace attnviz::app;

namespace {

// An ImGui context with a built font atlas and no renderer.
struct Headless {
    ImGuiContext* ctx;
    Headless() {
        ctx = ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = ImVec2(1280, 720);
        io.DeltaTime = 1.0f / 60.0f;
        unsigned char* pixels = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
    }
    ~Headless() { ImGui::DestroyContext(ctx); }
    Headless(const Headless&) = delete;
    Headless& operator=(const Headless&) = delete;

    // One frame with `draw` in a fixed 900×600 window at the origin.
    // As the window does every frame: last frame's hover is what views outline; hover starts empty.
    static void start_selection_frame(AppState& app) {
        app.sel.shown_hover_query = app.sel.hover_query;
        app.sel.shown_hover_key = app.sel.hover_key;
        app.sel.hover_query = app.sel.hover_key = -1;
    }
    // One frame of one panel, placed at (0, 0) and 900 × 600 (the panel opens its own window).
    void frame(AppState& app, void (*draw)(AppState&)) {
        start_selection_frame(app);
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(ImVec2(900, 600));
        draw(app);
        ImGui::Render();
    }
    void all_panels(AppState& app, int frames = 2) {
        for (int k = 0; k < frames; ++k) {
            start_selection_frame(app);
            ImGui::NewFrame();
            const struct { void (*draw)(AppState&); float x, y; } panels[] = {
                {DrawShiftPanel, 0, 0}, {DrawQKPanel, 640, 0}, {DrawWeightsPanel, 0, 360}, {DrawInspectorPanel, 640, 360}};
            for (const auto& p : panels) {  // each panel opens its own window
                ImGui::SetNextWindowPos(ImVec2(p.x, p.y));
                ImGui::SetNextWindowSize(ImVec2(640, 360));
                p.draw(app);
            }
            ImGui::Render();
        }
    }
    static void mouse(ImVec2 p, bool down = false) {
        ImGui::GetIO().MousePos = p;
        ImGui::GetIO().MouseDown[0] = down;
    }
};

AppState default_app() {
    AppState app;
    const std::string path = std::string(ATTNVIZ_SCENES) + "/01_adjectives_update_nouns.json";
    app.set_scene(load_scene(path), path);
    return app;
}

int token_index(const AppState& app, const std::string& text) {
    for (int i = 0; i < app.scene.n(); ++i)
        if (app.scene.input.tokens[static_cast<std::size_t>(i)].text == text) return i;
    return -1;
}

// Every view's numbers equal core's forward pass of the scene as it now is.
void check_recomputed(const AppState& app) {
    const Forward ref = forward(app.scene);
    REQUIRE(app.fwd.heads.size() == ref.heads.size());
    for (std::size_t h = 0; h < ref.heads.size(); ++h) {
        CHECK_MAT(app.fwd.heads[h].Q, ref.heads[h].Q, 0);
        CHECK_MAT(app.fwd.heads[h].pattern, ref.heads[h].pattern, 0);
    }
    CHECK_MAT(app.fwd.output, ref.output, 0);
}

}  // namespace

TEST_CASE("The four panels draw over the default scene and fill their plot data") {
    Headless ui;
    AppState app = default_app();
    ui.all_panels(app);
    CHECK(app.plots.shift_frame.valid);
    CHECK(app.plots.qk_frame.valid);
    CHECK(app.plots.shift.before.rows() == app.scene.n());
    CHECK(app.plots.shift.chain.size() == static_cast<std::size_t>(app.scene.n_heads) + 1);
    CHECK(app.plots.qkplot.queries.rows() == app.scene.n());
    CHECK(app.plots.qkplot.keys.rows() == app.scene.m());
    // Nothing was edited by drawing.
    CHECK_FALSE(app.can_undo());
    CHECK_FALSE(app.modified);
}

TEST_CASE("Query-key plot: hovering a point names its query or key for the heatmaps; a click selects it") {
    Headless ui;
    AppState app = default_app();
    const int creature = token_index(app, "creature"), fluffy = token_index(app, "fluffy");
    REQUIRE(creature >= 0);
    ui.frame(app, DrawQKPanel);
    ui.frame(app, DrawQKPanel);
    const PlotFrame fr = app.plots.qk_frame;
    const QKPlot& qp = qk_plot_data(app);
    // Over query 'creature'.
    Headless::mouse(ImVec2(fr.to_x(qp.queries(creature, 0)), fr.to_y(qp.queries(creature, 1))));
    ui.frame(app, DrawQKPanel);
    CHECK(app.sel.hover_query == creature);
    CHECK(app.sel.hover_key == -1);
    // Press: the query is selected.
    Headless::mouse(ImGui::GetIO().MousePos, true);
    ui.frame(app, DrawQKPanel);
    CHECK(app.sel.query == creature);
    Headless::mouse(ImGui::GetIO().MousePos, false);
    ui.frame(app, DrawQKPanel);
    // Over key 'fluffy' (2 px off: still the nearest within 10 px).
    Headless::mouse(ImVec2(fr.to_x(app.plots.qkplot.keys(fluffy, 0)) + 2, fr.to_y(app.plots.qkplot.keys(fluffy, 1))));
    ui.frame(app, DrawQKPanel);
    CHECK(app.sel.hover_key == fluffy);
    CHECK(app.sel.hover_query == -1);
    // Far from every point: nothing hovered.
    Headless::mouse(ImVec2(-100, -100));
    ui.frame(app, DrawQKPanel);
    CHECK(app.sel.hover_key == -1);
    CHECK(app.sel.hover_query == -1);
}

TEST_CASE("Shift plot: hovering E' of a token highlights its query row; a click selects it") {
    Headless ui;
    AppState app = default_app();
    const int creature = token_index(app, "creature");
    ui.frame(app, DrawShiftPanel);
    ui.frame(app, DrawShiftPanel);
    const PlotFrame fr = app.plots.shift_frame;
    const ShiftPlot& sp = shift_plot_data(app);
    Headless::mouse(ImVec2(fr.to_x(sp.after(creature, 0)), fr.to_y(sp.after(creature, 1))));
    ui.frame(app, DrawShiftPanel);
    CHECK(app.sel.hover_query == creature);
    Headless::mouse(ImGui::GetIO().MousePos, true);
    ui.frame(app, DrawShiftPanel);
    CHECK(app.sel.query == creature);
    Headless::mouse(ImVec2(-100, -100));
    ui.frame(app, DrawShiftPanel);
    CHECK(app.sel.hover_query == -1);
}

TEST_CASE("Shift plot data follows edits and head toggles (cache invalidated)") {
    Headless ui;
    AppState app = default_app();
    ui.frame(app, DrawShiftPanel);
    REQUIRE(app.plots.shift.chain_heads == std::vector<int>{0, 1});
    app.plots.heads_on[0] = false;
    ui.frame(app, DrawShiftPanel);
    CHECK(app.plots.shift.chain_heads == std::vector<int>{1});
    // Zero W_O: no head moves anything, E' = E.
    REQUIRE(apply_weight_action(app, WeightMatrix::Output, 0, WeightAction::Zero));
    ui.frame(app, DrawShiftPanel);
    CHECK_MAT(app.plots.shift.after, app.plots.shift.before, 1e-6f);
    CHECK(app.plots.shift.norms.maxCoeff() == 0.0f);
}

TEST_CASE("Weight editor: one cell edit goes through AppState::edit and every view recomputes") {
    AppState app = default_app();
    const float q01_before = app.fwd.heads[0].Q(0, 1);
    const float w_before = app.scene.heads[0].W[kQuery](2, 1);
    // Token 0 ('a') has E[0][2] = 1, so Q[0][1] = Σ_r E[0][r]·W_Q[r][1] grows by exactly the change.
    REQUIRE(app.fwd.E(0, 2) == 1.0f);
    REQUIRE(edit_weight_cell(app, WeightMatrix::Query, 0, 2, 1, w_before + 0.75f));
    CHECK(app.scene.heads[0].W[kQuery](2, 1) == w_before + 0.75f);
    CHECK(app.fwd.heads[0].Q(0, 1) == doctest::Approx(q01_before + 0.75f).epsilon(1e-6));
    CHECK(app.modified);
    CHECK(app.history.undo_size() == 1);
    check_recomputed(app);
    // W_O cell.
    REQUIRE(edit_weight_cell(app, WeightMatrix::Output, 0, 5, 3, -1.5f));
    CHECK(app.scene.W_O(5, 3) == -1.5f);
    check_recomputed(app);
    // Undo twice: back to the file's weights and numbers.
    REQUIRE(app.undo());
    REQUIRE(app.undo());
    CHECK(app.scene.heads[0].W[kQuery](2, 1) == w_before);
    CHECK(app.fwd.heads[0].Q(0, 1) == q01_before);
}

TEST_CASE("Weight editor: the steps of one drag make a single undo step") {
    AppState app = default_app();
    const float w0 = app.scene.heads[1].W[kValue](4, 2);
    const Mat out0 = app.fwd.output;
    REQUIRE(edit_weight_cell(app, WeightMatrix::Value, 1, 4, 2, w0 + 0.1f, false));
    REQUIRE(edit_weight_cell(app, WeightMatrix::Value, 1, 4, 2, w0 + 0.2f, true));
    REQUIRE(edit_weight_cell(app, WeightMatrix::Value, 1, 4, 2, w0 + 0.3f, true));
    CHECK(app.scene.heads[1].W[kValue](4, 2) == w0 + 0.3f);  // every step applied live
    check_recomputed(app);
    CHECK(app.history.undo_size() == 1);
    REQUIRE(app.undo());
    CHECK(app.scene.heads[1].W[kValue](4, 2) == w0);
    CHECK_MAT(app.fwd.output, out0, 0);
}

TEST_CASE("Weight editor refuses NaN, infinity and bad indices, and changes nothing") {
    AppState app = default_app();
    const Scene before = app.scene;
    CHECK_FALSE(edit_weight_cell(app, WeightMatrix::Key, 1, 0, 0, std::numeric_limits<float>::quiet_NaN()));
    CHECK(app.status_is_error);
    CHECK(app.status.find("NaN") != std::string::npos);
    CHECK(app.status.find("heads[1].W_K[0][0]") != std::string::npos);
    CHECK_FALSE(edit_weight_cell(app, WeightMatrix::Output, 0, 0, 0, std::numeric_limits<float>::infinity()));
    CHECK(app.status.find("infinity") != std::string::npos);
    CHECK_FALSE(apply_weight_action(app, WeightMatrix::Value, 0, WeightAction::Scale, std::numeric_limits<float>::infinity()));
    CHECK_FALSE(edit_weight_cell(app, WeightMatrix::Query, 0, 99, 0, 1.0f));  // core: row outside d_model
    CHECK(app.status_is_error);
    CHECK_FALSE(apply_weight_action(app, WeightMatrix::Query, 7, WeightAction::Zero));  // no head 7
    // Scaling to overflow: core refuses the non-finite result.
    CHECK_FALSE(apply_weight_action(app, WeightMatrix::Query, 0, WeightAction::Scale, 1e38f));
    CHECK_FALSE(app.can_undo());
    CHECK_MAT(app.scene.heads[1].W[kKey], before.heads[1].W[kKey], 0);
    CHECK_MAT(app.scene.W_O, before.W_O, 0);
    CHECK_MAT(app.scene.heads[0].W[kQuery], before.heads[0].W[kQuery], 0);
}

TEST_CASE("Weight editor buttons: zero, identity-like, scale, randomize") {
    AppState app = default_app();
    const int n = app.scene.n(), dh = app.scene.d_head;

    SUBCASE("zero W_Q: every score is 0, so each causal row is uniform over its i+1 keys") {
        REQUIRE(apply_weight_action(app, WeightMatrix::Query, 0, WeightAction::Zero));
        CHECK(app.scene.heads[0].W[kQuery].isZero(0));
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j)
                CHECK(app.fwd.heads[0].pattern(i, j) == doctest::Approx(j <= i ? 1.0 / (i + 1) : 0.0));
        check_recomputed(app);
    }
    SUBCASE("identity-like W_K: K is the first d_head columns of E") {
        REQUIRE(apply_weight_action(app, WeightMatrix::Key, 1, WeightAction::IdentityLike));
        CHECK_MAT(app.fwd.heads[1].K, Mat(app.fwd.E.leftCols(dh)), 0);
        check_recomputed(app);
    }
    SUBCASE("identity-like W_O: head h writes its mixed values into dimensions h·d_head …") {
        REQUIRE(apply_weight_action(app, WeightMatrix::Output, 0, WeightAction::IdentityLike));
        const HeadResult& h1 = app.fwd.heads[1];
        CHECK_MAT(Mat(h1.delta.middleCols(dh, dh)), h1.mixed, 1e-6f);
        CHECK(h1.delta.leftCols(dh).isZero(0));
        check_recomputed(app);
    }
    SUBCASE("scale W_V by 2: V and head 0's ΔE double (both linear in W_V)") {
        const Mat V = app.fwd.heads[0].V, delta0 = app.fwd.heads[0].delta;
        REQUIRE(apply_weight_action(app, WeightMatrix::Value, 0, WeightAction::Scale, 2.0f));
        CHECK_MAT(app.fwd.heads[0].V, Mat(2.0f * V), 1e-5f);
        CHECK_MAT(app.fwd.heads[0].delta, Mat(2.0f * delta0), 1e-5f);
    }
    SUBCASE("randomize: the matrix a new scene with that seed draws") {
        REQUIRE(apply_weight_action(app, WeightMatrix::Key, 1, WeightAction::Randomize, 1.0f, 7));
        const Scene fresh = make_scene({"x"}, app.scene.d_model, app.scene.n_heads, dh, 7);
        CHECK_MAT(app.scene.heads[1].W[kKey], fresh.heads[1].W[kKey], 0);
        CHECK(app.scene.heads[1].given[kKey]);
        REQUIRE(apply_weight_action(app, WeightMatrix::Output, 0, WeightAction::Randomize, 1.0f, 7));
        CHECK_MAT(app.scene.W_O, fresh.W_O, 0);
        check_recomputed(app);
    }
}

TEST_CASE("Panels draw without failing on unusual scenes") {
    Headless ui;
    AppState app = default_app();
    SUBCASE("cross-attention") {
        REQUIRE(app.edit([](Scene& s) { set_source_text(s, "le chat bleu"); }));
        app.sel.query = 2;
        ui.all_panels(app);
        CHECK(app.plots.qkplot.keys.rows() == app.scene.m());
    }
    SUBCASE("d_head 1 (one-dimensional q and k)") {
        REQUIRE(app.edit([](Scene& s) { set_d_head(s, 1); }));
        ui.all_panels(app);
        CHECK(app.plots.qkplot.plane.axes.rows() == 1);
    }
    SUBCASE("large matrices use the cell map; four heads; picked dimensions") {
        REQUIRE(app.edit([](Scene& s) {
            set_d_model(s, 64);
            set_n_heads(s, 4);
        }));
        app.plots.shift_mode = PlaneMode::Dims;
        app.plots.shift_dims[0] = 63;
        app.plots.shift_dims[1] = 5;
        app.plots.weight_matrix = WeightMatrix::Output;
        ui.all_panels(app, 3);
        CHECK(app.plots.shift.chain.size() == 5);
        CHECK(app.plots.shift.plane.axes(63, 0) == 1.0f);
    }
    SUBCASE("a long sequence (thin arrows, chain only for the highlighted token)") {
        std::vector<std::string> tokens;
        for (int i = 0; i < 600; ++i) {
            tokens.emplace_back("w");
            tokens.back() += std::to_string(i % 37);
        }
        REQUIRE(app.edit([&](Scene& s) { set_tokens(s, tokens); }));
        app.sel.query = 599;
        ui.all_panels(app);
        CHECK(app.plots.shift.after.rows() == 600);
        CHECK(app.plots.qkplot.keys.rows() == 600);
    }
    SUBCASE("a selected head that no longer exists is clamped") {
        app.sel.head = 1;
        REQUIRE(app.edit([](Scene& s) { set_n_heads(s, 1); }));
        ui.all_panels(app);
        CHECK(app.sel.head == 0);
    }
}
