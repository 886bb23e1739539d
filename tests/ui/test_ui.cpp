// UI logic without a GL context: the heatmap widget's math, the colormaps, and the real panels
// driven in ImGui frames with no renderer (a context, a display size, a built font atlas).
#include <doctest/doctest.h>

#include <imgui.h>

#include <cmath>
#include <string>

#include "app_state.hpp"
#include "dev_hooks.hpp"
#include "gl.hpp"
#include "heatmap.hpp"
#include "panels.hpp"
#include "scene_io.hpp"
#include "ui_helpers.hpp"

using namespace attnviz;
using namespace attnviz::app;
using attnviz::test::HeadlessImGui;

// ---------------------------------------------------------------------------------------------
// Zoom, pan, hit testing, label thinning, layout
// ---------------------------------------------------------------------------------------------
TEST_CASE("zoom keeps the point under the mouse and stays inside the matrix") {
    const CellView full = full_view(10, 20);  // 10 rows, 20 columns
    CHECK(full.x1 == 20.0f);
    CHECK(full.y1 == 10.0f);
    // zoom ×2 around (10, 5): half as wide, (10, 5) stays at the same fraction (the middle)
    CellView v = zoom_view(full, 10.0f, 5.0f, 2.0f, 10, 20);
    CHECK(v.x0 == doctest::Approx(5.0f));
    CHECK(v.x1 == doctest::Approx(15.0f));
    CHECK(v.y0 == doctest::Approx(2.5f));
    CHECK(v.y1 == doctest::Approx(7.5f));
    // zoom around a point at 1/4: it stays at 1/4
    v = zoom_view(full, 5.0f, 2.5f, 2.0f, 10, 20);
    CHECK(v.x0 == doctest::Approx(2.5f));
    CHECK(v.x1 == doctest::Approx(12.5f));
    // zooming at the corner cannot leave the matrix
    v = zoom_view(full, 0.0f, 0.0f, 4.0f, 10, 20);
    CHECK(v.x0 == 0.0f);
    CHECK(v.y0 == 0.0f);
    CHECK(v.x1 == doctest::Approx(5.0f));
    // zooming out past the whole matrix shows the whole matrix
    v = zoom_view(v, 1.0f, 1.0f, 0.01f, 10, 20);
    CHECK(v.x0 == 0.0f);
    CHECK(v.x1 == 20.0f);
    CHECK(v.y1 == 10.0f);
    // at most min_cells (2) visible when zooming in very far
    v = zoom_view(full, 10.0f, 5.0f, 1000.0f, 10, 20);
    CHECK(v.width() == doctest::Approx(2.0f));
    CHECK(v.height() == doctest::Approx(2.0f));
    // pan moves, but not past the edges
    CellView p = pan_view(zoom_view(full, 10.0f, 5.0f, 2.0f, 10, 20), -100.0f, 1.0f, 10, 20);
    CHECK(p.x0 == 0.0f);
    CHECK(p.x1 == doctest::Approx(10.0f));
    CHECK(p.y0 == doctest::Approx(3.5f));
}

TEST_CASE("screen point to cell") {
    // 4 rows × 8 columns drawn in (100,100)-(300,200): cells 25 × 25
    const CellView v = full_view(4, 8);
    int r = -1, c = -1;
    CHECK(cell_at(ImVec2(100, 100), ImVec2(300, 200), v, 4, 8, ImVec2(100 + 25 * 3 + 1, 100 + 25 * 2 + 1), r, c));
    CHECK(r == 2);
    CHECK(c == 3);
    CHECK(cell_at(ImVec2(100, 100), ImVec2(300, 200), v, 4, 8, ImVec2(299.9f, 199.9f), r, c));
    CHECK(r == 3);
    CHECK(c == 7);
    CHECK_FALSE(cell_at(ImVec2(100, 100), ImVec2(300, 200), v, 4, 8, ImVec2(300, 150), r, c));
    CHECK_FALSE(cell_at(ImVec2(100, 100), ImVec2(300, 200), v, 4, 8, ImVec2(99, 150), r, c));
    // zoomed to columns [4, 8), rows [2, 4): the top-left pixel is cell (2, 4)
    const CellView z{4, 2, 8, 4};
    CHECK(cell_at(ImVec2(100, 100), ImVec2(300, 200), z, 4, 8, ImVec2(100, 100), r, c));
    CHECK(r == 2);
    CHECK(c == 4);
    // 200 px for 4 columns: x = 260 is 3.2 columns in → column 7
    CHECK(cell_at(ImVec2(100, 100), ImVec2(300, 200), z, 4, 8, ImVec2(260, 199), r, c));
    CHECK(c == 7);
    CHECK(r == 3);
}

TEST_CASE("label thinning and column label mode") {
    CHECK(label_step(30.0f, 20.0f) == 1);
    CHECK(label_step(10.0f, 25.0f) == 3);  // every 3rd label: 30 px apart ≥ 25 px tall
    CHECK(label_step(5.0f, 5.0f) == 1);
    CHECK(label_step(0.0f, 5.0f) > 1000);
    // 8 columns in 500 px wide: ~50 px cells; short labels (30 px) stay horizontal
    HeatmapLayout L = layout_heatmap(ImVec2(0, 0), ImVec2(600, 600), 8, 8, 60, 30, 16, false, true);
    CHECK(L.col_mode == ColumnLabels::Horizontal);
    CHECK(L.col_step == 1);
    // wide labels (80 px) do not fit a ~50 px cell: rotated, each still gets its column (16 px tall text)
    L = layout_heatmap(ImVec2(0, 0), ImVec2(600, 600), 8, 8, 60, 80, 16, false, true);
    CHECK(L.col_mode == ColumnLabels::Rotated);
    CHECK(L.col_step == 1);
    CHECK(L.col_label_h == doctest::Approx(88.0f));  // label + 2·4 px padding
    // 200 tokens in 600 px: 2.x px cells, labels thinned so that step·cell ≥ font height
    L = layout_heatmap(ImVec2(0, 0), ImVec2(600, 600), 200, 200, 60, 80, 16, true, true);
    CHECK(L.row_step > 1);
    CHECK(L.row_step * L.cell_h >= 16.0f);
    CHECK((L.row_step - 1) * L.cell_h < 16.0f);
    CHECK(L.col_step * L.cell_w >= 16.0f);
    // square cells, inside the given rectangle, colour bar to the right
    CHECK(L.cell_w == doctest::Approx(L.cell_h));
    CHECK(L.bar_max.x <= 600.0f);
    CHECK(L.plot_max.y <= 600.0f);
}

TEST_CASE("grid columns and auto range") {
    CHECK(grid_columns(3, 600, 200, 0) == 3);  // a row of three 200 px tiles
    CHECK(grid_columns(4, 400, 400, 0) == 2);  // 2 × 2
    CHECK(grid_columns(1, 100, 900, 20) == 1);
    // 4 wide matrices (9 keys × 4 queries) in 430 × 270 with 27 px titles: 2 × 2 (matrix height
    // min(215/2.25, 135−27) = 95.6) beats 1 × 4 (min(191, 40.5)) and 4 × 1 (min(47.8, 243))
    CHECK(grid_columns(4, 430, 270, 27, 9.0f / 4.0f) == 2);
    CHECK(grid_columns(4, 430, 200, 27, 1.0f) == 4);  // square ones, 200 high: one row (min(107.5, 173)) beats 2 × 2 (min(215, 73))
    const float nan = std::nanf("");
    const float vals[] = {0.5f, -2.0f, HeatmapView::kMaskedValue, nan, 3.0f, -INFINITY};
    float lo = 0, hi = 0;
    CHECK(finite_range(vals, 6, lo, hi));
    CHECK(lo == -2.0f);
    CHECK(hi == 3.0f);
    const float none[] = {HeatmapView::kMaskedValue, nan};
    CHECK_FALSE(finite_range(none, 2, lo, hi));
}

TEST_CASE("heatmap data: transpose, mask hatching, range options") {
    HeatmapView v;
    Mat m(2, 3);
    m << 1, 2, 3, 4, 5, 6;  // query 1, key 2 = 6
    const Mask causal = Mask::causal();
    v.set_data(m, &causal, 1);
    CHECK(v.rows == 2);
    CHECK(v.cols == 3);
    CHECK(v.base.values[1] == HeatmapView::kMaskedValue);  // (0, 1) is masked
    CHECK(v.base.values[3] == 4.0f);
    CHECK(v.data_lo == 1.0f);
    CHECK(v.data_hi == 5.0f);  // 6 sits at (1, 2): masked, not in the range
    v.opt.transpose = true;
    CHECK(v.wants_data(1));
    v.set_data(m, nullptr, 1);
    CHECK(v.rows == 3);
    CHECK(v.cols == 2);
    CHECK(v.base.values[2 * 2 + 1] == 6.0f);  // display (2, 1) = data (1, 2)
    float lo = 0, hi = 0;
    v.range(lo, hi);
    CHECK(lo == 1.0f);
    CHECK(hi == 6.0f);
    v.opt.vmin = 0.0f;
    v.opt.vmax = 10.0f;
    v.range(lo, hi);
    CHECK(hi == 10.0f);
}

// ---------------------------------------------------------------------------------------------
// The real panels in ImGui frames without a renderer
// ---------------------------------------------------------------------------------------------
namespace {
AppState default_state() {
    AppState s;
    s.set_scene(load_scene(std::string(ATTNVIZ_SCENES) + "/01_adjectives_update_nouns.json"), "");
    return s;
}
}  // namespace

TEST_CASE("hovering a heatmap cell reports its query and key; clicking selects them") {
    HeadlessImGui ui;
    AppState s = default_state();
    REQUIRE(s.scene.n() == 8);
    ui.frame(s);
    ui.frame(s);  // a new window draws nothing on its first frame
    REQUIRE(s.ui_rects.count("heatmap.plot"));
    const auto rect = s.ui_rects["heatmap.plot"];
    CHECK(rect[2] - rect[0] > 100.0f);
    // hover the cell of query 3 ("creature"), key 1 ("fluffy")
    ImGui::GetIO().MousePos = HeadlessImGui::cell_centre(rect, 3, 1, 8, 8);
    ui.frame(s);
    CHECK(s.sel.hover_query == 3);
    CHECK(s.sel.hover_key == 1);
    ui.click(s, HeadlessImGui::cell_centre(rect, 3, 1, 8, 8));
    CHECK(s.sel.query == 3);
    CHECK(s.sel.key == 1);
    // the mouse wheel zooms in around the mouse: 2 notches = 1.25² fewer cells across
    ImGui::GetIO().MousePos = HeadlessImGui::cell_centre(rect, 3, 1, 8, 8);
    ImGui::GetIO().MouseWheel = 2.0f;
    ui.frame(s);
    const CellView z = views(s).heatmap.view;
    CHECK(z.width() == doctest::Approx(8.0f / 1.5625f));
    CHECK(z.height() == doctest::Approx(8.0f / 1.5625f));
    CHECK(z.x0 <= 1.5f);  // the hovered cell is still in view
    CHECK(z.y0 <= 3.5f);
    ui.frame(s);
    // in the zoomed view, the centre of cell (3, 1) still maps to query 3, key 1
    const auto zr = s.ui_rects["heatmap.plot"];
    const float cw = (zr[2] - zr[0]) / z.width(), ch = (zr[3] - zr[1]) / z.height();
    ImGui::GetIO().MousePos = ImVec2(zr[0] + (1.5f - z.x0) * cw, zr[1] + (3.5f - z.y0) * ch);
    ui.frame(s);
    CHECK(s.sel.hover_query == 3);
    CHECK(s.sel.hover_key == 1);
    // double-click shows the whole matrix again
    ImGui::GetIO().MouseDown[0] = true;
    ui.frame(s);
    ImGui::GetIO().MouseDown[0] = false;
    ui.frame(s);
    ImGui::GetIO().MouseDown[0] = true;
    ui.frame(s);
    ImGui::GetIO().MouseDown[0] = false;
    ui.frame(s);
    CHECK(views(s).heatmap.view.width() == doctest::Approx(8.0f));
    // transposed: the same screen cell (row 3, column 1) is now key 3, query 1
    s.view.transpose = true;
    ui.frame(s);
    ui.frame(s);
    ImGui::GetIO().MousePos = HeadlessImGui::cell_centre(s.ui_rects["heatmap.plot"], 3, 1, 8, 8);
    ui.frame(s);
    CHECK(s.sel.hover_query == 1);
    CHECK(s.sel.hover_key == 3);
}

TEST_CASE("model panel: clicking the mask buttons and the head field edits the scene") {
    HeadlessImGui ui;
    AppState s = default_state();
    REQUIRE(s.scene.mask.type == MaskType::Causal);
    ui.frame(s);
    ui.frame(s);
    REQUIRE(s.ui_rects.count("mask.none"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["mask.none"]));
    CHECK(s.scene.mask.type == MaskType::None);
    CHECK(s.modified);
    // without a mask the first query sees every key: its pattern row is not one-hot any more
    CHECK(s.fwd.heads[0].pattern(0, 7) > 0.0f);
    CHECK(s.fwd.heads[0].pattern.row(0).sum() == doctest::Approx(1.0f));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["mask.causal"]));
    CHECK(s.scene.mask.type == MaskType::Causal);
    CHECK(s.fwd.heads[0].pattern(0, 7) == 0.0f);
    // the grid shows one tile per head; a click on head 1's tile selects head 1
    REQUIRE(s.ui_rects.count("grid.head1"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["grid.head1"]));
    CHECK(s.sel.head == 1);
    // undo goes back through the edits
    CHECK(s.undo());
    CHECK(s.scene.mask.type == MaskType::None);
}

TEST_CASE("a long sequence thins the labels in the real widget") {
    HeadlessImGui ui;
    AppState s = default_state();
    std::vector<std::string> words;
    for (int i = 0; i < 300; ++i) words.push_back(std::string("w").append(std::to_string(i)));
    REQUIRE(s.edit([&](Scene& x) { set_tokens(x, words); }));
    ui.frame(s);
    ui.frame(s);
    const HeatmapLayout& L = views(s).heatmap.last_layout;
    CHECK(L.cell_h < ImGui::GetFontSize());
    CHECK(L.row_step > 1);
    CHECK(L.row_step * L.cell_h >= ImGui::GetFontSize());
    CHECK(L.col_mode == ColumnLabels::Rotated);
}

TEST_CASE("state dump and window title") {
    AppState s = default_state();
    CHECK(s.window_title().find("Adjectives update nouns") != std::string::npos);
    CHECK(s.window_title().find('*') == std::string::npos);
    s.edit([](Scene& x) { set_n_heads(x, 3); });
    CHECK(s.window_title().find('*') != std::string::npos);
    const std::string j = s.state_json();
    CHECK(j.find("\"n_heads\":3") != std::string::npos);
    CHECK(j.find("\"mask\":\"causal\"") != std::string::npos);
    // a failed open keeps the current scene and reports the problem
    CHECK_FALSE(s.open_file("/nonexistent/scene.json"));
    CHECK(s.status_is_error);
    CHECK(s.scene.n_heads == 3);
}

TEST_CASE("right-drag pans a zoomed heatmap by whole cells") {
    HeadlessImGui ui;
    AppState s = default_state();
    ui.frame(s);
    ui.frame(s);
    ImGuiIO& io = ImGui::GetIO();
    // zoom in 3 notches around the top-left corner: 8 / 1.25³ = 4.096 cells across, starting at 0
    io.MousePos = HeadlessImGui::cell_centre(s.ui_rects["heatmap.plot"], 0, 0, 8, 8);
    io.MouseWheel = 3.0f;
    ui.frame(s);
    ui.frame(s);
    CellView z = views(s).heatmap.view;
    REQUIRE(z.width() == doctest::Approx(4.096f));
    const auto r = s.ui_rects["heatmap.plot"];
    const float cw = (r[2] - r[0]) / z.width();
    const ImVec2 p(r[0] + 3.0f * cw, r[1] + 10.0f);
    io.MousePos = p;  // move there first, then press
    ui.frame(s);
    io.MouseDown[1] = true;
    ui.frame(s);
    io.MousePos = ImVec2(p.x - 2.0f * cw, p.y);  // drag the content 2 cells to the left
    ui.frame(s);
    io.MouseDown[1] = false;
    ui.frame(s);
    const CellView moved = views(s).heatmap.view;
    CHECK(moved.x0 == doctest::Approx(z.x0 + 2.0f).epsilon(0.01));
    CHECK(moved.width() == doctest::Approx(z.width()));
    CHECK(moved.y0 == doctest::Approx(z.y0));
    // a drag past the edge stops at the last column
    io.MousePos = p;
    ui.frame(s);
    io.MouseDown[1] = true;
    ui.frame(s);
    io.MousePos = ImVec2(p.x - 50.0f * cw, p.y);
    ui.frame(s);
    io.MouseDown[1] = false;
    ui.frame(s);
    CHECK(views(s).heatmap.view.x1 == doctest::Approx(8.0f));
}

TEST_CASE("tokens panel: click a chip to select it, then delete or insert a token") {
    HeadlessImGui ui;
    AppState s = default_state();
    ui.frame(s);
    ui.frame(s);
    REQUIRE(s.ui_rects.count("input.chip3"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["input.chip3"]));  // "creature"
    CHECK(s.token_edit == 3);
    CHECK(s.sel.query == 3);
    CHECK(s.token_edit_text == "creature");
    REQUIRE(s.ui_rects.count("tokens.insert"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["tokens.insert"]));  // a second "creature" after it
    CHECK(token_texts(s.scene.input.tokens) ==
          std::vector<std::string>{"a", "fluffy", "blue", "creature", "creature", "roamed", "the", "verdant", "forest"});
    CHECK(s.token_edit == 4);
    ui.click(s, HeadlessImGui::centre(s.ui_rects["tokens.delete"]));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["input.chip0"]));  // "a"
    ui.click(s, HeadlessImGui::centre(s.ui_rects["tokens.delete"]));
    CHECK(token_texts(s.scene.input.tokens) == std::vector<std::string>{"fluffy", "blue", "creature", "roamed", "the", "verdant", "forest"});
    CHECK(s.fwd.heads[0].pattern.rows() == 7);
    // causal: the new first token ("fluffy") attends only to itself
    CHECK(s.fwd.heads[0].pattern(0, 0) == doctest::Approx(1.0f));
}

TEST_CASE("--animate-view: the dev hook gives the heatmap panel animate_view()'s view of each frame") {
    HeadlessImGui ui;
    AppState s = default_state();
    std::vector<std::string> words;
    for (int i = 0; i < 300; ++i) words.push_back(std::string("w").append(std::to_string(i)));
    REQUIRE(s.edit([&](Scene& x) { set_tokens(x, words); }));
    DevAnimateView(s, 0);  // before any frame: no matrix yet, nothing to move
    ui.frame(s);
    DevAnimateView(s, 0);
    ui.frame(s);
    CHECK(views(s).heatmap.view.x0 == 0.0f);  // frame 0: the whole 300 × 300 matrix
    CHECK(views(s).heatmap.view.x1 == doctest::Approx(300.0f));
    DevAnimateView(s, 60);  // half-way: 64 × 64 cells around the middle, 150 ± 32
    ui.frame(s);
    const CellView v = views(s).heatmap.view;
    CHECK(v.x0 == doctest::Approx(118.0f));
    CHECK(v.x1 == doctest::Approx(182.0f));
    CHECK(v.y0 == doctest::Approx(118.0f));
    CHECK(v.y1 == doctest::Approx(182.0f));
    ui.frame(s);  // off: the view stays where it is
    CHECK(views(s).heatmap.view.x0 == doctest::Approx(118.0f));
}

// ---------------------------------------------------------------------------------------------
// One diverging map and one black-or-white text picker for every view
// ---------------------------------------------------------------------------------------------
TEST_CASE("diverging_color is the colormaps' diverging map (ColorBrewer RdBu): blue < 0 < red, light at 0") {
    auto rgb = [](ImU32 c) {
        return std::array<int, 3>{static_cast<int>((c >> IM_COL32_R_SHIFT) & 0xFF), static_cast<int>((c >> IM_COL32_G_SHIFT) & 0xFF),
                                  static_cast<int>((c >> IM_COL32_B_SHIFT) & 0xFF)};
    };
    CHECK(rgb(diverging_color(-2.0f, 2.0f)) == std::array<int, 3>{0x21, 0x66, 0xac});  // RdBu's blue end
    CHECK(rgb(diverging_color(5.0f, 2.0f)) == std::array<int, 3>{0xb2, 0x18, 0x2b});   // clamped to the red end
    for (const int ch : rgb(diverging_color(0.0f, 2.0f))) CHECK(std::abs(ch - 0xf7) <= 2);  // the middle key (LUT entry 128 of 256)
    CHECK(rgb(diverging_color(NAN, 2.0f)) == std::array<int, 3>{128, 128, 128});
}

TEST_CASE("text on a cell: black on light colours, white on dark ones, the same rule everywhere") {
    CHECK(dark_text_on({255, 255, 255, 255}));
    CHECK_FALSE(dark_text_on({0, 0, 0, 255}));
    CHECK(dark_text_on({0xfd, 0xe7, 0x25, 255}));        // viridis' yellow end
    CHECK_FALSE(dark_text_on({0x44, 0x01, 0x54, 255}));  // viridis' purple end
    // the plots' picker (ImU32) answers the same
    CHECK(text_color_on(IM_COL32(0xfd, 0xe7, 0x25, 255)) == IM_COL32(0, 0, 0, 255));
    CHECK(text_color_on(IM_COL32(0x21, 0x66, 0xac, 255)) == IM_COL32(255, 255, 255, 255));
}
