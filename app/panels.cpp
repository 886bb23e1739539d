// attnviz app — what the panels share: layout, menu, status line, labels, tooltips, exports.
//
// [SECTION] Views (the GPU-backed widgets kept between frames)
// [SECTION] Default layout
// [SECTION] Helpers: labels, tooltip, exports
// [SECTION] Main menu, status line, the frame's panels
#include "panels.hpp"
#include "long_view.hpp"
#include "panels_lecture.hpp"
#include "panels_plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <imgui_internal.h>

#include "scene_io.hpp"

namespace attnviz::app {

const char* const kTokensWindow = "Tokens";
const char* const kModelWindow = "Model";
const char* const kHeatmapWindow = "Attention heatmap";
const char* const kGridWindow = "All heads";
const char* const kCompareWindow = "Masked vs unmasked";
const char* const kFilesWindow = "Scene files";
const char* const kShiftWindow = "Embedding shift";
const char* const kQKWindow = "Query-key plot";
const char* const kWeightsWindow = "Weights";
const char* const kInspectorWindow = "Q/K/V inspector";
const char* const kMathWindow = "Step-by-step math";

// ---------------------------------------------------------------------------------------------
// [SECTION] Views
// ---------------------------------------------------------------------------------------------
AppState::Views::~Views() {
    heatmap.release_gpu();
    for (auto& g : grid) g.release_gpu();
    grid_average.release_gpu();
    for (auto& c : compare) c.release_gpu();
}

AppState::Views& views(AppState& s) {
    if (!s.views) s.views = std::make_shared<AppState::Views>();
    return *s.views;
}

void release_views(AppState& s) { s.views.reset(); }

// ---------------------------------------------------------------------------------------------
// [SECTION] Default layout: tokens / model / files on the left, the heatmap in the middle, the
// head grid and the compare view on the right. Fits 1280×720 and scales up.
// ---------------------------------------------------------------------------------------------
PanelRect default_panel_rect(const std::string& name, ImVec2 display, float menu_h) {
    const float status_h = ImGui::GetFrameHeightWithSpacing();
    const float top = menu_h, H = std::max(display.y - menu_h - status_h, 200.0f), W = display.x;
    const float k = ImGui::GetFontSize() / 17.0f;  // the UI scale
    const float left_w = std::min(std::clamp(W * 0.25f, 320.0f * k, 460.0f * k), W * 0.4f);
    const float rest = W - left_w;
    const float mid_w = std::floor(rest * 0.54f);
    const float right_w = rest - mid_w;
    // taller screens give the tokens panel (and the scene's description) the extra room
    const float tok = H >= 800.0f * k ? 0.32f : 0.26f;
    if (name == kTokensWindow) return {0, top, left_w, std::floor(H * tok)};
    if (name == kModelWindow) return {0, top + std::floor(H * tok), left_w, std::floor(H * (0.80f - tok))};
    if (name == kFilesWindow) return {0, top + std::floor(H * 0.80f), left_w, H - std::floor(H * 0.80f)};
    if (name == kHeatmapWindow) return {left_w, top, mid_w, H};
    if (name == kGridWindow) return {left_w + mid_w, top, right_w, std::floor(H * 0.45f)};
    if (name == kMathWindow) return {left_w + mid_w, top, right_w, H};  // beside the heatmap
    if (name == kCompareWindow) return {left_w + mid_w, top + std::floor(H * 0.45f), right_w, H - std::floor(H * 0.45f)};
    // The "Embeddings & weights" workspace: the plot panels two by two right of the left column.
    const float pw = std::floor(rest * 0.5f), ph = std::floor(H * 0.58f);
    if (name == kShiftWindow) return {left_w, top, pw, ph};
    if (name == kQKWindow) return {left_w + pw, top, rest - pw, ph};
    if (name == kWeightsWindow) return {left_w, top + ph, pw, H - ph};
    if (name == kInspectorWindow) return {left_w + pw, top + ph, rest - pw, H - ph};
    return {std::floor(W * 0.45f), top + 40.0f, std::floor(W * 0.5f), std::floor(H * 0.6f)};
}

void SetNextPanelLayout(const char* name) {
    // a caller that already placed the window (solo rendering) wins
    if (ImGui::GetCurrentContext()->NextWindowData.Flags & ImGuiNextWindowDataFlags_HasPos) return;
    const ImGuiIO& io = ImGui::GetIO();
    const PanelRect r = default_panel_rect(name, io.DisplaySize, ImGui::GetFrameHeight());
    ImGui::SetNextWindowPos(ImVec2(r.x, r.y), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(r.w, r.h), ImGuiCond_FirstUseEver);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Helpers
// ---------------------------------------------------------------------------------------------
namespace {
void refresh_labels(AppState& s) {
    AppState::Views& v = views(s);
    if (v.labels_generation == s.generation) return;
    v.query_labels = token_texts(s.scene.input.tokens);
    v.key_labels = token_texts(s.scene.source ? s.scene.source->tokens : s.scene.input.tokens);
    v.labels_generation = s.generation;
}
}  // namespace

const std::vector<std::string>& query_labels(AppState& s) {
    refresh_labels(s);
    return views(s).query_labels;
}
const std::vector<std::string>& key_labels(AppState& s) {
    refresh_labels(s);
    return views(s).key_labels;
}

void SameLineIfFits(float next_width) {
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    const float x = ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x;
    if (x + next_width <= right) ImGui::SameLine();
}

void MarkItem(AppState& s, const std::string& name) {
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    s.ui_rects[name] = {a.x, a.y, b.x, b.y};
}

void CellTooltip(const AppState& s, const CellNumbers& c) {
    const Sequence& keys = s.scene.source ? *s.scene.source : s.scene.input;
    if (c.i < 0 || c.j < 0 || c.i >= s.scene.n() || c.j >= keys.size()) return;
    const std::string& qt = s.scene.input.tokens[static_cast<std::size_t>(c.i)].text;
    const std::string& kt = keys.tokens[static_cast<std::size_t>(c.j)].text;
    ImGui::BeginTooltip();
    ImGui::Text("head %d   query %d \"%s\"  \xE2\x86\x92  key %d \"%s\"", c.head, c.i, qt.c_str(), c.j, kt.c_str());
    ImGui::Separator();
    if (ImGui::BeginTable("##cell", 2)) {
        auto row = [](const char* name, const char* fmt, auto... args) {
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            ImGui::TextUnformatted(name);
            ImGui::TableSetColumnIndex(1);
            ImGui::Text(fmt, args...);
        };
        row("q\xC2\xB7k (raw score)", "%.6g", static_cast<double>(c.raw));
        char scaled[64];
        if (s.scene.scale)
            std::snprintf(scaled, sizeof scaled, "scaled q\xC2\xB7k/\xE2\x88\x9A%d%s", s.scene.d_head, s.scene.temperature != 1.0f ? "/T" : "");
        else
            std::snprintf(scaled, sizeof scaled, "scaled (scale off)%s", s.scene.temperature != 1.0f ? "/T" : "");
        row(scaled, "%.6g", static_cast<double>(c.logit));
        row("mask", "%s", c.allowed ? "allowed" : "masked (\xE2\x88\x92\xE2\x88\x9E before softmax)");
        row("weight (softmax)", "%.6g", static_cast<double>(c.weight));
        if (c.has_row_stats) {  // long sequences: the softmax statistics the weight comes from
            row("row max logit", "%.6g (key %d)", static_cast<double>(c.row_max), c.row_argmax);
            row("row \xCE\xA3 exp(logit \xE2\x88\x92 max)", "%.6g", static_cast<double>(c.row_sum));
        }
        ImGui::EndTable();
    }
    ImGui::EndTooltip();
}

void CellTooltip(const AppState& s, int head, int i, int j) {
    if (head < 0 || head >= static_cast<int>(s.fwd.heads.size()) || i < 0 || j < 0 || i >= s.scene.n() || j >= s.scene.m()) return;
    const HeadResult& h = s.fwd.heads[static_cast<std::size_t>(head)];
    CellNumbers c;
    c.head = head;
    c.i = i;
    c.j = j;
    c.raw = h.scores(i, j);
    c.logit = c.raw * s.fwd.logit_factor;
    c.allowed = s.scene.mask.allows(i, j);
    c.weight = h.pattern(i, j);
    CellTooltip(s, c);
}

std::string export_base(const AppState& s, const std::string& what) {
    namespace fs = std::filesystem;
    const std::string stem = s.scene_path.empty() ? std::string("scene") : fs::path(s.scene_path).stem().string();
    return (fs::path(s.export_dir) / (stem + "_" + what)).string();
}

void ExportButtons(AppState& s, const std::string& what, const std::function<Mat()>& matrix) {
    const std::string base = export_base(s, what);
    const ImVec2 wmin = ImGui::GetWindowPos();
    const bool png = ImGui::Button("Export PNG");
    MarkItem(s, "export_png:" + what);
    if (png) {
        s.png_exports.push_back({base + ".png", wmin.x, wmin.y, wmin.x + ImGui::GetWindowWidth(), wmin.y + ImGui::GetWindowHeight()});
    }
    // (no tooltip on this button: it would be in the picture)
    ImGui::SameLine();
    const bool csv = ImGui::Button("Export CSV");
    MarkItem(s, "export_csv:" + what);
    if (csv) {
        const Mat m = matrix();
        const auto& rows = query_labels(s);
        const auto& cols = key_labels(s);
        const bool labelled = m.rows() == static_cast<Eigen::Index>(rows.size()) && m.cols() == static_cast<Eigen::Index>(cols.size());
        try {
            write_file_atomic(base + ".csv", matrix_csv(m, labelled ? &rows : nullptr, labelled ? &cols : nullptr));
            s.set_info("wrote " + base + ".csv");
        } catch (const SceneError& e) {
            s.set_error(std::string("export CSV: ") + e.what());
        }
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save the matrix as %s.csv", base.c_str());
}

std::uint64_t view_data_key(const AppState& s, int head, int what) {
    return (s.generation << 20) ^ (static_cast<std::uint64_t>(head) << 4) ^ static_cast<std::uint64_t>(what);
}

void configure_for_stage(HeatmapView& v, Stage st, int pattern_colormap, bool auto_range) {
    if (st == Stage::Pattern) {
        v.opt.colormap = static_cast<Colormap>(std::clamp(pattern_colormap, 0, static_cast<int>(Colormap::Count) - 1));
        v.opt.vmin = 0.0f;
        v.opt.vmax = auto_range ? 0.0f : 1.0f;
    } else {
        v.opt.colormap = Colormap::Diverging;
        const float a = std::max(std::fabs(v.data_lo), std::fabs(v.data_hi));
        v.opt.vmin = -a;
        v.opt.vmax = a;
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Main menu, status line, the frame's panels
// ---------------------------------------------------------------------------------------------
void DrawMainMenu(AppState& s) {
    if (!ImGui::BeginMainMenuBar()) return;
    if (ImGui::BeginMenu("File")) {
        if (ImGui::MenuItem("Open / save panel", nullptr, &s.show_files)) {}
        if (ImGui::MenuItem("Save", "Ctrl+S", false, true)) {
            if (s.scene_path.empty()) s.show_files = true;
            else s.save_file(s.scene_path);
        }
        ImGui::Separator();
        if (ImGui::MenuItem("Quit", "Ctrl+Q")) s.quit_requested = true;
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Edit")) {
        if (ImGui::MenuItem("Undo", "Ctrl+Z", false, s.can_undo())) s.undo();
        if (ImGui::MenuItem("Redo", "Ctrl+Y", false, s.can_redo())) s.redo();
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("View")) {
        ImGui::MenuItem(kTokensWindow, nullptr, &s.show_tokens);
        ImGui::MenuItem(kModelWindow, nullptr, &s.show_model);
        ImGui::MenuItem(kHeatmapWindow, nullptr, &s.show_heatmap);
        ImGui::MenuItem(kGridWindow, nullptr, &s.show_grid);
        ImGui::MenuItem(kCompareWindow, nullptr, &s.show_compare);
        ImGui::MenuItem(kFilesWindow, nullptr, &s.show_files);
        ImGui::Separator();
        ImGui::MenuItem(kShiftWindow, nullptr, &s.show_shift);
        ImGui::MenuItem(kQKWindow, nullptr, &s.show_qk);
        ImGui::MenuItem(kWeightsWindow, nullptr, &s.show_weights);
        ImGui::MenuItem(kInspectorWindow, nullptr, &s.show_inspector);
        ImGui::Separator();
        if (ImGui::MenuItem("Reset layout")) s.reset_layout = true;
        ImGui::EndMenu();
    }
    // Two workspaces share the left column (tokens, model, files): the attention patterns, and
    // the embeddings with the weights that move them.
    ImGui::SameLine(0, ImGui::GetFontSize() * 2);
    static constexpr const char* kWorkspaces[] = {"Attention patterns", "Embeddings & weights", "Step-by-step math"};
    static constexpr const char* kWorkspaceIds[] = {"workspace.attention", "workspace.embeddings", "workspace.math"};
    for (int w = 0; w < 3; ++w) {
        if (ImGui::Selectable(kWorkspaces[w], s.workspace == w, 0, ImVec2(ImGui::CalcTextSize(kWorkspaces[w]).x, 0)))
            s.workspace = w;
        MarkItem(s, kWorkspaceIds[w]);
        ImGui::SameLine(0, ImGui::GetFontSize());
    }
    ImGui::EndMainMenuBar();
}

void DrawStatusLine(AppState& s) {
    const ImGuiIO& io = ImGui::GetIO();
    const float h = ImGui::GetFrameHeightWithSpacing();
    ImGui::SetNextWindowPos(ImVec2(0, io.DisplaySize.y - h));
    ImGui::SetNextWindowSize(ImVec2(io.DisplaySize.x, h));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 3));
    ImGui::Begin("##status", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoFocusOnAppearing);
    ImGui::Text("%d tokens \xC2\xB7 d_model %d \xC2\xB7 %d heads \xC3\x97 d_head %d \xC2\xB7 mask %s", s.scene.n(), s.scene.d_model,
                s.scene.n_heads, s.scene.d_head, mask_type_name(s.scene.mask.type));
    if (!s.status.empty()) {
        ImGui::SameLine(0, 24);
        ImGui::TextColored(s.status_is_error ? ImVec4(1.0f, 0.45f, 0.4f, 1.0f) : ImVec4(0.6f, 0.9f, 0.6f, 1.0f), "%s", s.status.c_str());
    }
    ImGui::End();
    ImGui::PopStyleVar();
}

void DrawAllPanels(AppState& s) {
    s.ui_rects.clear();  // this frame's controls only
    s.sel.shown_hover_query = s.sel.hover_query;
    s.sel.shown_hover_key = s.sel.hover_key;
    s.sel.hover_query = s.sel.hover_key = -1;
    if (s.reset_layout) {
        for (const char* name : {kTokensWindow, kModelWindow, kHeatmapWindow, kGridWindow, kCompareWindow, kFilesWindow,
                                 kShiftWindow, kQKWindow, kWeightsWindow, kInspectorWindow, kMathWindow}) {
            if (!ImGui::FindWindowByName(name)) continue;
            const PanelRect r = default_panel_rect(name, ImGui::GetIO().DisplaySize, ImGui::GetFrameHeight());
            ImGui::SetWindowPos(name, ImVec2(r.x, r.y));
            ImGui::SetWindowSize(name, ImVec2(r.w, r.h));
        }
        s.reset_layout = false;
    }
    DrawMainMenu(s);
    if (s.show_tokens) DrawTokensPanel(s);
    if (s.show_model) DrawModelPanel(s);
    if (s.show_files) DrawFilesPanel(s);
    if (s.workspace == 0) {
        if (s.show_heatmap) DrawHeatmapPanel(s);
        if (s.show_grid) DrawGridPanel(s);
        if (s.show_compare) DrawComparePanel(s);
    } else if (s.workspace == 2) {
        // The math of one query, step by step, beside the heatmap whose stage follows the step.
        if (s.show_heatmap) DrawHeatmapPanel(s);
        DrawMathPanel(s);
    } else {
        // The plot and editor panels draw their contents; the window is opened here.
        const struct {
            const char* title;
            bool* shown;
            void (*draw)(AppState&);
        } plot_panels[] = {{kShiftWindow, &s.show_shift, DrawShiftPanel},
                           {kQKWindow, &s.show_qk, DrawQKPanel},
                           {kWeightsWindow, &s.show_weights, DrawWeightsPanel},
                           {kInspectorWindow, &s.show_inspector, DrawInspectorPanel}};
        for (const auto& p : plot_panels) {
            if (!*p.shown) continue;
            SetNextPanelLayout(p.title);
            if (ImGui::Begin(p.title, p.shown)) {
                if (s.long_mode) LongModeNotice(s, p.title);
                else p.draw(s);
            }
            ImGui::End();
        }
    }
    DrawStatusLine(s);
}

void DrawSoloPanel(AppState& s, SoloView v) {
    s.sel.shown_hover_query = s.sel.hover_query;
    s.sel.shown_hover_key = s.sel.hover_key;
    s.sel.hover_query = s.sel.hover_key = -1;
    ImGui::SetNextWindowPos(ImVec2(0, 0), ImGuiCond_Always);
    ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize, ImGuiCond_Always);
    switch (v) {
        case SoloView::Heatmap: DrawHeatmapPanel(s); break;
        case SoloView::Grid: DrawGridPanel(s); break;
        case SoloView::Compare: DrawComparePanel(s); break;
        case SoloView::Shift:
            if (ImGui::Begin(kShiftWindow)) DrawShiftPanel(s);
            ImGui::End();
            break;
        case SoloView::QK:
            if (ImGui::Begin(kQKWindow)) DrawQKPanel(s);
            ImGui::End();
            break;
    }
}

}  // namespace attnviz::app
