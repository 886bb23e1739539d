// attnviz app — what the panels share: layout, menu, status line, labels, tooltips, exports.
//
// [SECTION] Views (the GPU-backed widgets kept between frames)
// [SECTION] Default layout
// [SECTION] Helpers: labels, tooltip, exports
// [SECTION] Main menu, status line, the frame's panels
#include "panels.hpp"
#include "long_view.hpp"
#include "model_doc.hpp"
#include "panels_lecture.hpp"
#include "panels_plots.hpp"
#include "panels_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <imgui_internal.h>
#include <imgui_stdlib.h>

#include "scene_io.hpp"
#include "text.hpp"
#include "help.hpp"
#include "gpt2_export.hpp"  // model_export_json: what `attnviz export --model` writes
#include "figure_raster.hpp"

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
const char* const kTrainWindow = "Train";
const char* const kTrainCurvesWindow = "Training curves";
const char* const kTrainHeadsWindow = "Heads while training";
const char* const kNextTokenWindow = "Next token";
const char* const kModelViewWindow = "Model view";
// The analysis panels of a model (declared in panels_analysis.hpp; defined here for kPanelNames).
const char* const kHeadLabelsWindow = "Head labels";
const char* const kInterventionsWindow = "Interventions";
const char* const kLogitLensWindow = "Logit lens";

// ---------------------------------------------------------------------------------------------
// [SECTION] Views
// ---------------------------------------------------------------------------------------------
AppState::Views::~Views() {
    heatmap.release_gpu();
    minimap.release_gpu();
    for (auto& g : grid) g.release_gpu();
    grid_average.release_gpu();
    for (auto& c : compare) c.release_gpu();
    for (auto& p : presentation) p.release_gpu();
    for (auto& t : train_heads) t.release_gpu();
    intervention_diff.release_gpu();
    for (auto& c : model_cells) c.release_gpu();
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
PanelRect default_panel_rect(const std::string& name, ImVec2 display, float menu_h, bool model_document) {
    const float status_h = ImGui::GetFrameHeightWithSpacing();
    const float top = menu_h, H = std::max(display.y - menu_h - status_h, 200.0f), W = display.x;
    const float k = ImGui::GetFontSize() / 17.0f;  // the UI scale
    const float left_w = std::min(std::clamp(W * 0.25f, 320.0f * k, 460.0f * k), W * 0.4f);
    const float rest = W - left_w;
    const float mid_w = std::floor(rest * 0.54f);
    const float right_w = rest - mid_w;
    // taller screens give the tokens panel (and the scene's description) the extra room
    const float tok = H >= 800.0f * k ? 0.32f : 0.26f;
    // (a model: the next-token panel below the Model panel, where the scene files are otherwise)
    const float model_end = model_document ? 0.58f : 0.80f;
    if (name == kTokensWindow) return {0, top, left_w, std::floor(H * tok)};
    if (name == kModelWindow) return {0, top + std::floor(H * tok), left_w, std::floor(H * model_end) - std::floor(H * tok)};
    if (name == kFilesWindow) return {0, top + std::floor(H * 0.80f), left_w, H - std::floor(H * 0.80f)};
    if (name == kHeatmapWindow) return {left_w, top, mid_w, H};
    if (name == kGridWindow) return {left_w + mid_w, top, right_w, std::floor(H * 0.45f)};
    if (name == kMathWindow) return {left_w + mid_w, top, right_w, H};  // beside the heatmap
    if (name == kNextTokenWindow) return {0, top + std::floor(H * 0.58f), left_w, H - std::floor(H * 0.58f)};  // where the files panel is
    if (name == kModelViewWindow) return {left_w + mid_w, top, right_w, std::floor(H * 0.45f)};                   // where the grid is
    if (name == kCompareWindow) return {left_w + mid_w, top + std::floor(H * 0.45f), right_w, H - std::floor(H * 0.45f)};
    // The "Embeddings & weights" workspace: the plot panels two by two right of the left column.
    const float pw = std::floor(rest * 0.5f), ph = std::floor(H * 0.58f);
    if (name == kShiftWindow) return {left_w, top, pw, ph};
    if (name == kQKWindow) return {left_w + pw, top, rest - pw, ph};
    if (name == kWeightsWindow) return {left_w, top + ph, pw, H - ph};
    if (name == kInspectorWindow) return {left_w + pw, top + ph, rest - pw, H - ph};
    // The "Train" workspace: controls on the left, the curves in the middle, the heads on the right.
    if (name == kTrainWindow) return {0, top, left_w, H};
    if (name == kTrainCurvesWindow) return {left_w, top, mid_w, H};
    if (name == kTrainHeadsWindow) return {left_w + mid_w, top, right_w, H};
    // The "Model analysis" workspace (a model's left column, then): head labels in the middle, the
    // logit lens below them, the interventions on the right.
    if (name == kHeadLabelsWindow) return {left_w, top, mid_w, std::floor(H * 0.62f)};
    if (name == kLogitLensWindow) return {left_w, top + std::floor(H * 0.62f), mid_w, H - std::floor(H * 0.62f)};
    if (name == kInterventionsWindow) return {left_w + mid_w, top, right_w, H};
    return {std::floor(W * 0.45f), top + 40.0f, std::floor(W * 0.5f), std::floor(H * 0.6f)};
}

void SetNextPanelLayout(const char* name, bool model_document) {
    // a caller that already placed the window (solo rendering) wins
    if (ImGui::GetCurrentContext()->NextWindowData.Flags & ImGuiNextWindowDataFlags_HasPos) return;
    const ImGuiIO& io = ImGui::GetIO();
    const PanelRect r = default_panel_rect(name, io.DisplaySize, ImGui::GetFrameHeight(), model_document);
    ImGui::SetNextWindowPos(ImVec2(r.x, r.y), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(r.w, r.h), ImGuiCond_FirstUseEver);
}

namespace {
constexpr const char* kPanelNames[] = {kTokensWindow, kModelWindow, kHeatmapWindow, kGridWindow, kCompareWindow, kFilesWindow,
                                       kShiftWindow, kQKWindow, kWeightsWindow, kInspectorWindow, kMathWindow,
                                       kTrainWindow, kTrainCurvesWindow, kTrainHeadsWindow,
                                       kNextTokenWindow, kModelViewWindow, kHeadLabelsWindow, kInterventionsWindow,
                                       kLogitLensWindow};
}  // namespace

bool display_is_usable(ImVec2 display) { return display.x >= 480.0f && display.y >= 320.0f; }

void KeepPanelsInWindow(AppState& s) {
    const ImVec2 d = ImGui::GetIO().DisplaySize;
    if (d.x <= 0 || d.y <= 0) return;
    const bool resized = s.layout_display_w > 0 && (d.x != s.layout_display_w || d.y != s.layout_display_h);
    s.layout_usable = display_is_usable(d);
    const float menu_h = ImGui::GetFrameHeight(), status_h = ImGui::GetFrameHeightWithSpacing();
    if (resized) {
        // Put every panel back at its fractions of the window (recorded while it was usable),
        // kept below the menu and inside the window.
        for (const char* name : kPanelNames) {
            ImGuiWindow* w = ImGui::FindWindowByName(name);
            if (!w) continue;
            const auto it = s.panel_layout.find(name);
            std::array<float, 4> f = it != s.panel_layout.end()
                                         ? it->second
                                         : std::array<float, 4>{w->Pos.x / s.layout_display_w, w->Pos.y / s.layout_display_h,
                                                                w->Size.x / s.layout_display_w, w->Size.y / s.layout_display_h};
            const float W = std::max(d.x, 1.0f), H = std::max(d.y, 1.0f);
            ImVec2 size(std::max(std::floor(f[2] * W), 40.0f), std::max(std::floor(f[3] * H), 30.0f));
            size.x = std::min(size.x, W);
            size.y = std::min(size.y, std::max(H - menu_h - status_h, 30.0f));
            ImVec2 pos(std::floor(f[0] * W), std::floor(f[1] * H));
            pos.x = std::clamp(pos.x, 0.0f, std::max(W - size.x, 0.0f));
            pos.y = std::clamp(pos.y, menu_h, std::max(H - status_h - size.y, menu_h));
            ImGui::SetWindowPos(name, pos);
            ImGui::SetWindowSize(name, size);
        }
    } else if (s.layout_usable) {
        // a steady, usable window: remember where the user keeps the panels
        for (const char* name : kPanelNames)
            if (ImGuiWindow* w = ImGui::FindWindowByName(name))
                s.panel_layout[name] = {w->Pos.x / d.x, w->Pos.y / d.y, w->Size.x / d.x, w->Size.y / d.y};
    }
    s.layout_display_w = d.x;
    s.layout_display_h = d.y;
    // where each panel is, for the state dump (scripts check the layout)
    for (const char* name : kPanelNames)
        if (ImGuiWindow* w = ImGui::FindWindowByName(name); w && w->WasActive)  // (Active is reset by NewFrame)
            s.ui_rects[std::string("panel:") + name] = {w->Pos.x, w->Pos.y, w->Pos.x + w->Size.x, w->Pos.y + w->Size.y};
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
    v.indexed_query_labels = indexed_labels(v.query_labels);  // the real text (CSV)
    v.indexed_key_labels = indexed_labels(v.key_labels);
    // drawn: emoji through their font atlas slots (app/session/wide_chars.hpp)
    for (auto& l : v.query_labels) l = s.wide_chars.to_display(l);
    for (auto& l : v.key_labels) l = s.wide_chars.to_display(l);
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
const std::vector<std::string>& indexed_query_labels(AppState& s) {
    refresh_labels(s);
    return views(s).indexed_query_labels;
}
const std::vector<std::string>& indexed_key_labels(AppState& s) {
    refresh_labels(s);
    return views(s).indexed_key_labels;
}

namespace {
int insert_typed_wide(ImGuiInputTextCallbackData* data) {
    auto& w = static_cast<AppState*>(data->UserData)->wide_chars;
    if (w.typed.empty()) return 0;
    std::string text;
    for (char32_t c : w.typed) {
        if (c < 0x20 || c == 0x7F) continue;
        utf8_append(text, c > 0xFFFF ? w.slot_for(c) : c);
    }
    w.typed.clear();
    if (text.empty()) return 0;
    if (data->HasSelection()) {  // typing replaces the selection
        const int a = std::min(data->SelectionStart, data->SelectionEnd), b = std::max(data->SelectionStart, data->SelectionEnd);
        data->DeleteChars(a, b - a);
        data->CursorPos = a;
    }
    data->InsertChars(data->CursorPos, text.c_str());
    return 0;
}
}  // namespace

bool InputTextWide(AppState& s, const char* label, const char* hint, std::string* display, ImGuiInputTextFlags flags) {
    const std::string before = *display;
    const bool returned = hint ? ImGui::InputTextWithHint(label, hint, display, flags | ImGuiInputTextFlags_CallbackAlways, insert_typed_wide, &s)
                               : ImGui::InputText(label, display, flags | ImGuiInputTextFlags_CallbackAlways, insert_typed_wide, &s);
    // with EnterReturnsTrue ImGui reports Enter, not edits: keep its meaning then
    if (flags & ImGuiInputTextFlags_EnterReturnsTrue) return returned;
    return returned || *display != before;
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
    if (s.model) ImGui::Text("%s \xC2\xB7 layer %d", s.model->name().c_str(), s.model->layer);  // which layer these numbers are of
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

const Forward* FullForwardOrNotice(const AppState& s, const char* what) {
    const std::shared_ptr<const PatternSource> src = s.patterns();
    if (const Forward* full = src ? src->full() : nullptr) {
        ModelViewHeader(const_cast<AppState&>(s), what);  // "model · layer · head" while a model is open
        return full;  // it points into `s` (or into the model's result, kept by the ModelDoc), not into `src`
    }
    if (s.model) {
        ImGui::TextDisabled("computing the model's forward pass\xE2\x80\xA6");
        return nullptr;
    }
    LongModeNotice(s, what);
    return nullptr;
}

void CellTooltip(const AppState& s, int head, int i, int j) {
    const std::shared_ptr<const PatternSource> src = s.patterns();
    if (!src || head < 0 || head >= src->n_heads() || i < 0 || j < 0 || i >= src->n() || j >= src->m()) return;
    const PatternCell cell = src->cell(head, i, j);
    CellNumbers c;
    c.head = head;
    c.i = i;
    c.j = j;
    c.raw = cell.raw;
    c.logit = cell.logit;
    c.allowed = cell.allowed;
    c.weight = cell.weight;
    CellTooltip(s, c);
}

std::string export_base(const AppState& s, const std::string& what) {
    namespace fs = std::filesystem;
    const std::string stem = s.export_stem();  // "untitled" once the text no longer is the file's
    return (fs::path(s.export_dir) / (stem + "_" + what)).string();
}

namespace {

FigureOptions figure_options(const AppState& s) {
    FigureOptions opt;
    opt.dark = s.view.figure_dark;
    return opt;
}

// "Export PNG" of a clean figure: the view's drawing rasterised (core/figure_raster.hpp), no UI.
void FigurePngButton(AppState& s, const std::string& what, const std::function<FigureDrawing(const FigureOptions&)>& figure) {
    const std::string path = export_base(s, what) + ".png";
    const bool png = ImGui::Button("Export PNG");
    MarkItem(s, "export_png:" + what);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("A clean figure of this view (labels, colour bar, title; no buttons) as %s", path.c_str());
    if (png) {
        try {
            write_file_atomic(path, drawing_png(figure(figure_options(s))));
            s.set_info("wrote " + path);
        } catch (const SceneError& e) {
            s.set_error(std::string("export PNG: ") + e.what());
        }
    }
}

// "Export SVG" of the same figure, and the figures' "dark" theme box.
void FigureSvgButton(AppState& s, const std::string& what, const std::function<FigureDrawing(const FigureOptions&)>& figure) {
    const std::string path = export_base(s, what) + ".svg";
    const bool svg = ImGui::Button("Export SVG");
    MarkItem(s, "export_svg:" + what);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("A clean figure of this view (labels, colour bar, title; no buttons) as %s", path.c_str());
    if (svg) {
        try {
            write_file_atomic(path, drawing_svg(figure(figure_options(s))));
            s.set_info("wrote " + path);
        } catch (const SceneError& e) {
            s.set_error(std::string("export SVG: ") + e.what());
        }
    }
    ImGui::SameLine();
    ImGui::Checkbox("dark##figure", &s.view.figure_dark);
    MarkItem(s, "export_svg_dark:" + what);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Figures with light text on a dark background (for dark slides)");
}

}  // namespace

void FigureButton(AppState& s, const std::string& what, const std::function<FigureDrawing(const FigureOptions&)>& figure) {
    FigurePngButton(s, what, figure);
    ImGui::SameLine();
    FigureSvgButton(s, what, figure);
}

void ExportButtons(AppState& s, const std::string& what, const std::function<Mat()>& matrix,
                   const std::function<FigureDrawing(const FigureOptions&)>& figure) {
    const std::string base = export_base(s, what);
    if (figure) {
        FigurePngButton(s, what, figure);
    } else {  // a view without a figure: the window, captured after the frame
        const ImVec2 wmin = ImGui::GetWindowPos();
        const bool png = ImGui::Button("Export PNG");
        MarkItem(s, "export_png:" + what);
        if (png) s.png_exports.push_back({base + ".png", wmin.x, wmin.y, wmin.x + ImGui::GetWindowWidth(), wmin.y + ImGui::GetWindowHeight()});
        // (no tooltip on this button: it would be in the picture)
    }
    ImGui::SameLine();
    const bool csv = ImGui::Button("Export CSV");
    MarkItem(s, "export_csv:" + what);
    if (csv) {
        const Mat m = matrix();
        const auto& rows = indexed_query_labels(s);
        const auto& cols = indexed_key_labels(s);
        const bool labelled = m.rows() == static_cast<Eigen::Index>(rows.size()) && m.cols() == static_cast<Eigen::Index>(cols.size());
        try {
            write_file_atomic(base + ".csv", matrix_csv(m, labelled ? &rows : nullptr, labelled ? &cols : nullptr,
                                                        labelled ? "query\\key" : "row\\column"));
            s.set_info("wrote " + base + ".csv");
        } catch (const SceneError& e) {
            s.set_error(std::string("export CSV: ") + e.what());
        }
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save the matrix as %s.csv", base.c_str());
    if (figure) {
        ImGui::SameLine();
        FigureSvgButton(s, what, figure);
    }
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
// Export while a model is open: the model's own data as `attnviz export --model DIR --text TEXT`
// writes it (core/gpt2_export model_export_json) of the document's latest forward pass, and the selected
// layer and head's matrices — not the hand-made stand-in scene the views read. The scene's figures
// are offered greyed out, with the reason.
namespace {
// Writes data() to path (its folder created; atomically, as every writer) and says so on the status
// line, or puts the reason there (SceneError from writing, ModelError from a model's data).
void export_file(AppState& s, const std::string& path, const std::function<std::string()>& data) {
    try {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
        write_file_atomic(path, data());
        s.set_info("wrote " + path);
    } catch (const std::exception& e) {
        s.set_error(std::string("export: ") + e.what());
    }
}

void ModelExportMenu(AppState& s) {
    namespace fs = std::filesystem;
    ModelDoc& m = *s.model;
    const std::shared_ptr<const ModelResult> r = m.result();
    const bool ready = r && r->fwd && r->model;
    const int l = m.layer, h = m.head;
    auto write = [&](const std::string& what, const std::function<std::string()>& data) {
        export_file(s, (fs::path(s.export_dir) / (m.name() + "_" + what)).string(), data);
    };
    // The JSON's size, roughly (≈ 11 characters a number): Q, K, V (n, d_head), scores and pattern
    // (n, n), delta (n, d_model) per head. Past kMaxBytes the command line is the way.
    constexpr double kMaxBytes = 256.0 * 1024 * 1024;
    const ModelConfig& c = m.cfg();
    const double n = ready ? static_cast<double>(r->fwd->n()) : 0.0;
    const double layer_bytes = 11.0 * c.n_heads * (3.0 * n * c.d_head() + 2.0 * n * n + n * c.d_model);
    const std::string command = "attnviz export --model " + (m.folder.empty() ? std::string("DIR") : m.folder) + " --text TEXT";
    auto json_item = [&](const char* label, const char* id, int layer, double bytes, const std::string& what) {
        const bool fits = bytes <= kMaxBytes;
        if (ImGui::MenuItem(label, nullptr, false, ready && fits))
            write(what, [&] { return model_export_json(*r->model, m.tokenizer, *r->fwd, m.folder, layer, ModelDoc::kTopK); });
        MarkItem(s, id);
        if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) {
            if (!ready) ImGui::SetTooltip("the model is still computing its forward pass");
            else if (!fits)
                ImGui::SetTooltip("about %.0f MB of JSON: too large to write from the window; use\n%s%s", bytes / 1048576.0,
                                  command.c_str(), layer >= 0 ? (" --layer " + std::to_string(layer)).c_str() : "");
            else
                ImGui::SetTooltip("As `%s` writes it: the tokens and ids, each head's Q, K, V, scores, pattern and delta, and the "
                                  "next-token top %d\n(of the text and interventions the document has now) into %s",
                                  command.c_str(), ModelDoc::kTopK, s.export_dir.c_str());
        }
    };
    json_item("The model's data, every layer (JSON)", "export.model_json", -1, layer_bytes * c.n_layers, "data.json");
    const std::string ls = "layer" + std::to_string(l);
    json_item(("The model's data, layer " + std::to_string(l) + " (JSON)").c_str(), "export.model_layer_json", l, layer_bytes,
              ls + "_data.json");
    ImGui::Separator();
    const std::string lh = ls + "_head" + std::to_string(h);
    if (ImGui::MenuItem(("Layer " + std::to_string(l) + " head " + std::to_string(h) + " pattern (NumPy .npy)").c_str(), nullptr, false, ready))
        write(lh + "_pattern.npy", [&] { return matrix_npy(r->fwd->pattern(l, h), "pattern"); });
    MarkItem(s, "export.model_pattern_npy");
    if (ImGui::MenuItem(("Layer " + std::to_string(l) + " head " + std::to_string(h) + " scores (NumPy .npy)").c_str(), nullptr, false, ready))
        write(lh + "_scores.npy", [&] { return matrix_npy(r->fwd->scores(l, h), "scores"); });
    MarkItem(s, "export.model_scores_npy");
    if (ImGui::MenuItem(("Residual stream after layer " + std::to_string(l) + " (NumPy .npy)").c_str(), nullptr, false, ready))
        write(ls + "_output.npy", [&] { return matrix_npy(Mat(r->fwd->resid(l + 1)), "output"); });
    MarkItem(s, "export.model_output_npy");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("x after layer %d's block (n, d_model), as `--format npy --matrix output --layer %d`", l, l);
    ImGui::Separator();
    for (const char* label : {"Figures of this scene (SVG)", "Figures of this scene (PNG)"}) {
        ImGui::MenuItem(label, nullptr, false, false);
        if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
            ImGui::SetTooltip("For hand-made scenes: the figures draw one attention layer's scene (its embeddings, shift and "
                              "query-key plots), which a GPT-2 model's layer is not. Use the views' Export PNG / SVG buttons, "
                              "or the model's data above.");
    }
}

}  // namespace

// Export: the same writers as the command line (`attnviz figures`: core write_figures;
// `attnviz export`: core's export_json and matrix_npy), into the export folder. While a model is
// open: ModelExportMenu.
void ExportMenu(AppState& s) {
    const bool open = ImGui::BeginMenu("Export");
    MarkItem(s, "menu.export");
    if (!open) return;
    if (s.model) {
        ModelExportMenu(s);
        ImGui::EndMenu();
        return;
    }
    namespace fs = std::filesystem;
    const std::shared_ptr<const PatternSource> src = s.patterns();
    const bool full = src && src->full() && s.fwd.heads.size() == static_cast<std::size_t>(s.scene.n_heads);
    auto write = [&](const std::string& what, const std::function<std::string()>& data) { export_file(s, export_base(s, what), data); };
    for (const bool png : {false, true}) {
        if (!ImGui::MenuItem(png ? "Figures of this scene (PNG)" : "Figures of this scene (SVG)", nullptr, false, full)) continue;
        const std::string stem = s.scene_path.empty() ? std::string("scene") : fs::path(s.scene_path).stem().string();
        // the window's pattern colour map, where the figures have it
        const int c = s.view.colormap;
        const attnviz::Colormap cmap = c == static_cast<int>(Colormap::Magma)     ? attnviz::Colormap::Magma
                                       : c == static_cast<int>(Colormap::Cividis) ? attnviz::Colormap::Cividis
                                                                                  : attnviz::Colormap::Viridis;
        try {
            std::error_code ec;
            fs::create_directories(s.export_dir, ec);
            FigureFormats formats;
            formats.svg = !png;
            formats.png = png;
            const int files = write_figures(s.scene, s.fwd, stem, s.export_dir, cmap, formats);
            s.set_info("wrote " + std::to_string(files) + " figures to " + s.export_dir);
        } catch (const SceneError& e) {
            s.set_error(std::string("figures: ") + e.what());
        }
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Pattern per head, all heads, masked vs unmasked, shift and query-key plots, as `attnviz figures` writes them");
    ImGui::Separator();
    if (ImGui::MenuItem("Every intermediate (JSON)", nullptr, false, full))
        write("data.json", [&] { return export_json(s.scene, s.fwd); });
    const int h = std::clamp(s.sel.head, 0, std::max(s.scene.n_heads - 1, 0));
    const std::string hs = "head" + std::to_string(h);
    if (ImGui::MenuItem(("Head " + std::to_string(h) + " pattern (NumPy .npy)").c_str(), nullptr, false, full))
        write(hs + "_pattern.npy", [&] { return matrix_npy(s.fwd.heads[static_cast<std::size_t>(h)].pattern); });
    if (ImGui::MenuItem(("Head " + std::to_string(h) + " scores (NumPy .npy)").c_str(), nullptr, false, full))
        write(hs + "_scores.npy", [&] { return matrix_npy(s.fwd.heads[static_cast<std::size_t>(h)].scores); });
    if (ImGui::MenuItem("Output E' (NumPy .npy)", nullptr, false, full))
        write("output.npy", [&] { return matrix_npy(s.fwd.output); });
    if (!full) ImGui::TextDisabled("long mode: shorten the text to export every pattern");
    ImGui::EndMenu();
}

void DrawMainMenu(AppState& s) {
    if (!ImGui::BeginMainMenuBar()) return;
    {  // where the menu bar is, for the state dump (layout tests: no panel under it)
        const ImVec2 p = ImGui::GetWindowPos(), sz = ImGui::GetWindowSize();
        s.ui_rects["menu_bar"] = {p.x, p.y, p.x + sz.x, p.y + sz.y};
    }
    if (ImGui::BeginMenu("File")) {
        if (ImGui::MenuItem("New", "Ctrl+N")) s.request_new();
        if (ImGui::MenuItem("Open\xE2\x80\xA6", "Ctrl+O")) OpenFileBrowser(s, false);
        if (ImGui::MenuItem("Open model\xE2\x80\xA6")) OpenModelBrowser(s);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("A GPT-2 folder (config.json, vocab.json, merges.txt, model.safetensors)");
        if (s.model && ImGui::MenuItem("Close model")) s.close_model();
        if (ImGui::MenuItem("Save", "Ctrl+S", false, true)) s.save_current();
        if (ImGui::MenuItem("Save as\xE2\x80\xA6")) OpenFileBrowser(s, true);
        if (ImGui::MenuItem("Open / save panel", nullptr, &s.show_files)) {}
        RecoveryMenu(s);
        ImGui::Separator();
        if (ImGui::MenuItem("Quit", "Ctrl+Q")) s.request_quit();
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Edit")) {
        if (ImGui::MenuItem("Undo", "Ctrl+Z", false, s.can_undo())) s.undo();
        if (ImGui::MenuItem("Redo", "Ctrl+Y", false, s.can_redo())) s.redo();
        ImGui::EndMenu();
    }
    const bool view_menu = ImGui::BeginMenu("View");
    MarkItem(s, "menu.view");
    if (view_menu) {
        ImGui::MenuItem(kTokensWindow, nullptr, &s.show_tokens);
        ImGui::MenuItem(kModelWindow, nullptr, &s.show_model);
        ImGui::MenuItem(kHeatmapWindow, nullptr, &s.show_heatmap);
        ImGui::MenuItem(kGridWindow, nullptr, &s.show_grid);
        ImGui::MenuItem(kCompareWindow, nullptr, &s.show_compare);
        ImGui::MenuItem(kFilesWindow, nullptr, &s.show_files);
        ImGui::MenuItem(kNextTokenWindow, nullptr, &s.show_next_token, s.model != nullptr);
        ImGui::MenuItem(kModelViewWindow, nullptr, &s.show_model_view, s.model != nullptr);
        ImGui::Separator();
        ImGui::MenuItem(kShiftWindow, nullptr, &s.show_shift);
        ImGui::MenuItem(kQKWindow, nullptr, &s.show_qk);
        ImGui::MenuItem(kWeightsWindow, nullptr, &s.show_weights);
        ImGui::MenuItem(kInspectorWindow, nullptr, &s.show_inspector);
        ImGui::Separator();
        ModelAnalysisMenuItems(s);
        ImGui::Separator();
        if (ImGui::MenuItem("Presentation view", "F5", s.lecture.presentation)) s.lecture.presentation = !s.lecture.presentation;
        ImGui::Separator();
        if (ImGui::MenuItem("Reset layout", "Ctrl+Shift+L")) s.reset_layout = true;
        ImGui::EndMenu();
    }
    ExportMenu(s);
    HelpMenu(s);
    // Three workspaces share the left column (tokens, model, files): the attention patterns, the
    // embeddings with the weights that move them, and the step-by-step math; the fourth trains a
    // small model live (its own windows only); the fifth, while a model is open, analyses it (head
    // labels, interventions, logit lens) beside the same left column.
    ImGui::SameLine(0, ImGui::GetFontSize() * 2);
    static constexpr const char* kWorkspaces[] = {"Attention patterns", "Embeddings & weights", "Step-by-step math", "Train",
                                                  "Model analysis"};
    static constexpr const char* kWorkspaceIds[] = {"workspace.attention", "workspace.embeddings", "workspace.math",
                                                    "workspace.train", "workspace.analysis"};
    for (int w = 0; w < 5; ++w) {
        if (w == kModelAnalysisWorkspace && !s.model) continue;
        if (ImGui::Selectable(kWorkspaces[w], s.workspace == w, 0, ImVec2(ImGui::CalcTextSize(kWorkspaces[w]).x, 0))) {
            s.workspace = w;
            // the analysis workspace shows its three panels when none of them is open
            if (w == kModelAnalysisWorkspace && !s.show_head_labels && !s.show_interventions && !s.show_logit_lens)
                s.show_head_labels = s.show_interventions = s.show_logit_lens = true;
        }
        MarkItem(s, kWorkspaceIds[w]);
        if (w == kModelAnalysisWorkspace && ImGui::IsItemHovered())
            ImGui::SetTooltip("Head labels, interventions (ablation, masks) and the logit lens of the open model");
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
    s.ui_rects["status_line"] = {0.0f, io.DisplaySize.y - h, io.DisplaySize.x, io.DisplaySize.y};
    ImGui::Text("%s \xC2\xB7 d_model %d \xC2\xB7 %s \xC3\x97 d_head %d \xC2\xB7 mask: %s", count_noun(s.scene.n(), "token").c_str(),
                s.scene.d_model, count_noun(s.scene.n_heads, "head").c_str(), s.scene.d_head, mask_words(s.scene.mask.type));
    if (!s.status.empty()) {
        ImGui::SameLine(0, 24);
        ImGui::TextColored(s.status_is_error ? ImVec4(1.0f, 0.45f, 0.4f, 1.0f) : ImVec4(0.6f, 0.9f, 0.6f, 1.0f), "%s", s.status.c_str());
    }
    ImGui::End();
    ImGui::PopStyleVar();
}

void DrawAllPanels(AppState& s) {
    s.ui_rects.clear();  // this frame's controls only
    s.ui_rects["display"] = {0.0f, 0.0f, ImGui::GetIO().DisplaySize.x, ImGui::GetIO().DisplaySize.y};  // the viewport
    s.sel.shown_hover_query = s.sel.hover_query;
    s.sel.shown_hover_key = s.sel.hover_key;
    s.sel.hover_query = s.sel.hover_key = -1;
    KeepPanelsInWindow(s);
    if (s.reset_layout) {
        for (const char* name : kPanelNames) {
            if (!ImGui::FindWindowByName(name)) continue;
            const PanelRect r = default_panel_rect(name, ImGui::GetIO().DisplaySize, ImGui::GetFrameHeight(), s.model != nullptr);
            ImGui::SetWindowPos(name, ImVec2(r.x, r.y));
            ImGui::SetWindowSize(name, ImVec2(r.w, r.h));
        }
        s.reset_layout = false;
    }
    // The Model panel holds a scene's controls or a model's few lines: when the document changes
    // kind it goes to that kind's place (with a model it ends where the next-token panel begins).
    const int document_kind = s.model ? 1 : 0;
    if (views(s).layout_document != document_kind) {
        if (views(s).layout_document >= 0 && ImGui::FindWindowByName(kModelWindow)) {
            const PanelRect r = default_panel_rect(kModelWindow, ImGui::GetIO().DisplaySize, ImGui::GetFrameHeight(), s.model != nullptr);
            ImGui::SetWindowPos(kModelWindow, ImVec2(r.x, r.y));
            ImGui::SetWindowSize(kModelWindow, ImVec2(r.w, r.h));
        }
        views(s).layout_document = document_kind;
    }
    if (!s.model && s.workspace == kModelAnalysisWorkspace) s.workspace = kAttentionWorkspace;  // the model went
    ModelAnalysisFrame(s);
    DrawMainMenu(s);
    if (s.workspace == kTrainWorkspace) {  // Train: a model of its own, not the scene's
        DrawTrainPanels(s);
        DrawStatusLine(s);
        DrawFileBrowser(s);
        return;
    }
    if (s.show_tokens) DrawTokensPanel(s);
    if (s.show_model) DrawModelPanel(s);
    if (s.show_files && !s.model) DrawFilesPanel(s);
    if (s.model && s.show_next_token) DrawNextTokenPanel(s);
    if (s.workspace == kModelAnalysisWorkspace) {
        // The analysis panels of the open model, beside the left column (none of the views: each
        // has its own place in this workspace's layout).
        if (s.analysis) {
            if (s.show_head_labels) DrawHeadLabelsPanel(s);
            if (s.show_interventions) DrawInterventionsPanel(s);
            if (s.show_logit_lens) DrawLogitLensPanel(s);
        }
    } else if (s.workspace == kAttentionWorkspace) {
        if (s.show_heatmap) DrawHeatmapPanel(s);
        if (s.show_grid && !(s.model && s.show_model_view)) DrawGridPanel(s);
        if (s.model && s.show_model_view) DrawModelViewPanel(s);
        if (s.show_compare) DrawComparePanel(s);
    } else if (s.workspace == kMathWorkspace) {
        // The math of one query, step by step, beside the heatmap whose stage follows the step.
        if (s.show_heatmap) DrawHeatmapPanel(s);
        DrawMathPanel(s);
    } else {
        if (s.show_shift) DrawShiftPanel(s);
        if (s.show_qk) DrawQKPanel(s);
        if (s.show_weights) DrawWeightsPanel(s);
        if (s.show_inspector) DrawInspectorPanel(s);
    }
    DrawStatusLine(s);
    DrawFileBrowser(s);  // a modal: after every window (ImGui 1.86, imgui#4920)
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
        case SoloView::Shift: DrawShiftPanel(s); break;
        case SoloView::QK: DrawQKPanel(s); break;
    }
}

}  // namespace attnviz::app
