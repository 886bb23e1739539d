// attnviz app — the presentation view (F5): one full-screen page per scene for a projector.
//
// Large crisp fonts (built at start, see InitLectureFonts), a light high-contrast theme by
// default, a colour-blind-safe colour map (cividis), few controls. Left: the selected head's
// heatmap at the stage of the current math step, the selected query's row outlined. Right: the
// scene's explanation and the current step of the math with its numbers.
// Keys: ←/→ step (past step 8: next scene), PgDn/PgUp or Space: scene, ↑/↓ query, H head,
// T theme, C colour map, F5/Esc back.
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>  // key codes (F5, letters): ImGui 1.86 has no named function keys
#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "panels_lecture.hpp"

namespace attnviz::app {
namespace {

constexpr int kMaxPresentedCells = 64;  // per side; larger scenes: use the main view's heatmap

// No auto-repeat: a key held a moment too long must not skip a step in front of an audience.
bool pressed(ImGuiKey k) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(k), false); }

void apply_light_theme(ImGuiStyle& style) {
    ImGui::StyleColorsLight(&style);
    style.Colors[ImGuiCol_WindowBg] = ImVec4(1, 1, 1, 1);
    style.Colors[ImGuiCol_Text] = ImVec4(0, 0, 0, 1);
    style.Colors[ImGuiCol_TextDisabled] = ImVec4(0.30f, 0.30f, 0.30f, 1);
    style.Colors[ImGuiCol_Separator] = ImVec4(0.2f, 0.2f, 0.2f, 1);
}

// Rotates the vertices added to `dl` since index `first` by `angle` (radians) around `pivot`:
// how ImGui text is drawn at an angle.
void rotate_vertices(ImDrawList* dl, int first, ImVec2 pivot, float angle) {
    const float c = std::cos(angle), s = std::sin(angle);
    for (int i = first; i < dl->VtxBuffer.Size; ++i) {
        ImVec2& p = dl->VtxBuffer[i].pos;
        const float x = p.x - pivot.x, y = p.y - pivot.y;
        p = ImVec2(pivot.x + c * x - s * y, pivot.y + s * x + c * y);
    }
}

ImU32 to_u32(std::array<std::uint8_t, 3> c) { return IM_COL32(c[0], c[1], c[2], 255); }

// Short cell text: ".33", "-1.5", "12".
std::string cell_text(float v) {
    if (std::isinf(v)) return v < 0 ? "−∞" : "∞";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(v));
    std::size_t len = std::strlen(buf);  // "0.50" → ".5", "-0.25" → "-.25", "3.00" → "3"
    while (len > 0 && buf[len - 1] == '0') buf[--len] = 0;
    if (len > 0 && buf[len - 1] == '.') buf[--len] = 0;
    const bool neg = buf[0] == '-';
    const char* d = buf + (neg ? 1 : 0);
    char out[34];
    std::snprintf(out, sizeof out, "%s%s", neg ? "-" : "", d[0] == '0' && d[1] == '.' ? d + 1 : d);
    if (std::strcmp(out, "-0") == 0 || std::strcmp(out, "-") == 0 || out[0] == 0) return "0";
    return out;
}

// One heatmap to draw: values, labels, which cells are allowed, a caption.
struct Panel {
    Mat values;                          // (n, m) at the shown stage
    std::vector<std::string> rows, cols;
    std::vector<std::uint8_t> allowed;   // (n·m), 1 = computed; empty: all
    bool pattern = true;                 // fixed 0..1 colour range (else the finite range)
    std::string caption;
    bool clickable = false;              // a click on a row selects that query
};

// Cells as rectangles (at most 64 × 64 here), masked cells hatched, token labels (columns at
// −45°), the selected query's row outlined, the caption underneath.
void draw_panel(AppState& app, const Panel& P, ImVec2 origin, ImVec2 avail, ImFont* label_font, int id) {
    const int n = static_cast<int>(P.values.rows()), m = static_cast<int>(P.values.cols());
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 ink = ImGui::GetColorU32(ImGuiCol_Text);
    ImGui::PushFont(label_font);
    if (n > kMaxPresentedCells || m > kMaxPresentedCells) {
        ImGui::SetCursorScreenPos(origin);
        ImGui::PushTextWrapPos(origin.x + avail.x);
        ImGui::TextWrapped("%d × %d is too large to present cell by cell; use the main view (F5).", n, m);
        ImGui::PopTextWrapPos();
        ImGui::PopFont();
        return;
    }
    const float line = ImGui::GetTextLineHeight();
    float row_label_w = 0, col_label_h = 0;
    for (const auto& t : P.rows) row_label_w = std::max(row_label_w, ImGui::CalcTextSize(t.c_str()).x);
    for (const auto& t : P.cols) col_label_h = std::max(col_label_h, ImGui::CalcTextSize(t.c_str()).x);
    col_label_h = col_label_h * 0.7072f + line;  // labels at −45°
    const float caption_h = P.caption.empty() ? 0.0f : 2.4f * line + 8;
    const float cell = std::floor(std::min({(avail.x - row_label_w - 20) / static_cast<float>(std::max(m, 1)),
                                            (avail.y - col_label_h - caption_h - 16) / static_cast<float>(std::max(n, 1)), 110.0f}));
    if (cell < 6) {
        ImGui::PopFont();
        return;
    }
    const ImVec2 grid(origin.x + row_label_w + 14, origin.y + col_label_h + 8);
    float lo = 0, hi = 1;
    if (!P.pattern) {
        lo = std::numeric_limits<float>::infinity();
        hi = -lo;
        for (Eigen::Index i = 0; i < P.values.rows(); ++i)
            for (Eigen::Index j = 0; j < P.values.cols(); ++j)
                if (std::isfinite(P.values(i, j))) {
                    lo = std::min(lo, P.values(i, j));
                    hi = std::max(hi, P.values(i, j));
                }
        if (!(lo <= hi)) lo = hi = 0;
    }
    // Cell numbers at up to the label size, smaller in small cells (not below 13 px).
    ImFont* font = ImGui::GetFont();
    const float number_px = std::min(font->FontSize, cell * 0.42f);
    const bool show_numbers = number_px >= 13.0f;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j) {
            const ImVec2 a(grid.x + j * cell, grid.y + i * cell), b(a.x + cell - 1, a.y + cell - 1);
            const float v = P.values(i, j);
            const bool allowed = P.allowed.empty() || P.allowed[static_cast<std::size_t>(i) * m + j];
            if (!allowed || !std::isfinite(v)) {  // masked: grey with hatching
                dl->AddRectFilled(a, b, IM_COL32(215, 215, 215, 255));
                dl->PushClipRect(a, b, true);
                for (float d = -cell; d < cell; d += 8) dl->AddLine(ImVec2(a.x + d, b.y), ImVec2(a.x + d + cell, a.y), IM_COL32(140, 140, 140, 255), 1.5f);
                dl->PopClipRect();
                continue;
            }
            const float t = hi > lo ? (v - lo) / (hi - lo) : 0.5f;
            const auto rgb = colormap_rgb(app.lecture.colormap, t);
            dl->AddRectFilled(a, b, to_u32(rgb));
            if (show_numbers) {
                const std::string txt = cell_text(v);
                const ImVec2 sz = font->CalcTextSizeA(number_px, FLT_MAX, 0.0f, txt.c_str());
                const float lum = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
                dl->AddText(font, number_px, ImVec2(a.x + (cell - sz.x) / 2, a.y + (cell - sz.y) / 2),
                            lum > 128 ? IM_COL32_BLACK : IM_COL32_WHITE, txt.c_str());
            }
        }
    for (int i = 0; i < n && i < static_cast<int>(P.rows.size()); ++i) {
        const char* t = P.rows[static_cast<std::size_t>(i)].c_str();
        const ImVec2 sz = ImGui::CalcTextSize(t);
        dl->AddText(ImVec2(grid.x - 10 - sz.x, grid.y + i * cell + (cell - sz.y) / 2), ink, t);
    }
    for (int j = 0; j < m && j < static_cast<int>(P.cols.size()); ++j) {  // at −45°, just above the column
        const ImVec2 pivot(grid.x + (j + 0.5f) * cell - line * 0.35f, grid.y - 8);
        const int first = dl->VtxBuffer.Size;
        dl->AddText(ImVec2(pivot.x, pivot.y - line), ink, P.cols[static_cast<std::size_t>(j)].c_str());
        rotate_vertices(dl, first, pivot, -0.785398f);
    }
    if (app.sel.query >= 0 && app.sel.query < n) {
        dl->AddRect(ImVec2(grid.x - 2, grid.y + app.sel.query * cell - 2), ImVec2(grid.x + m * cell + 1, grid.y + (app.sel.query + 1) * cell + 1),
                    IM_COL32(230, 40, 40, 255), 0, 0, 4.0f);
        // The key the math is pointing at: the hovered one, else (from the softmax on) the largest weight.
        int key = app.sel.hover_query == app.sel.query ? app.sel.hover_key : -1;
        if (key < 0 && P.pattern && app.lecture.math_step >= 5) P.values.row(app.sel.query).maxCoeff(&key);
        if (key >= 0 && key < m)
            dl->AddRect(ImVec2(grid.x + key * cell + 2, grid.y + app.sel.query * cell + 2),
                        ImVec2(grid.x + (key + 1) * cell - 3, grid.y + (app.sel.query + 1) * cell - 3), IM_COL32(255, 255, 255, 255), 0, 0, 3.0f);
    }
    if (!P.caption.empty()) {
        ImGui::SetCursorScreenPos(ImVec2(grid.x, grid.y + n * cell + 8));
        ImGui::PushTextWrapPos(origin.x + avail.x);
        ImGui::TextUnformatted(P.caption.c_str());
        ImGui::PopTextWrapPos();
    }
    if (P.clickable) {
        ImGui::SetCursorScreenPos(grid);
        ImGui::PushID(id);
        ImGui::InvisibleButton("heatmap", ImVec2(std::max(m * cell, 1.0f), std::max(n * cell, 1.0f)));
        if (ImGui::IsItemClicked()) {
            const int row = static_cast<int>((ImGui::GetIO().MousePos.y - grid.y) / cell);
            if (row >= 0 && row < n) app.sel.query = row;
        }
        ImGui::PopID();
    }
    ImGui::PopFont();
}

// The shift plot: every token's E → E' in two dimensions (core's shift_plot_dims), the selected
// query's arrow drawn bold.
void draw_shift_plot(const AppState& app, ImVec2 origin, ImVec2 avail, ImFont* font) {
    const Scene& s = app.scene;
    const Forward& f = app.fwd;
    const auto [dx, dy] = shift_plot_dims(s, f);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImGui::PushFont(font);
    const float line = ImGui::GetTextLineHeight();
    const ImU32 ink = ImGui::GetColorU32(ImGuiCol_Text);
    float x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
    for (int i = 0; i < s.n(); ++i) {
        x_lo = std::min({x_lo, f.E(i, dx), f.output(i, dx)});
        x_hi = std::max({x_hi, f.E(i, dx), f.output(i, dx)});
        y_lo = std::min({y_lo, f.E(i, dy), f.output(i, dy)});
        y_hi = std::max({y_hi, f.E(i, dy), f.output(i, dy)});
    }
    const float px = std::max(x_hi - x_lo, 1e-3f) * 0.15f, py = std::max(y_hi - y_lo, 1e-3f) * 0.15f;
    x_lo -= px; x_hi += px; y_lo -= py; y_hi += py;
    const ImVec2 a(origin.x + line * 1.5f, origin.y + line * 1.5f);
    const ImVec2 b(origin.x + avail.x - 8, origin.y + avail.y - line * 2.5f);
    if (b.x - a.x < 50 || b.y - a.y < 50) {
        ImGui::PopFont();
        return;
    }
    auto X = [&](float x) { return a.x + (x - x_lo) / (x_hi - x_lo) * (b.x - a.x); };
    auto Y = [&](float y) { return b.y - (y - y_lo) / (y_hi - y_lo) * (b.y - a.y); };
    dl->AddRect(a, b, ink);
    dl->AddText(ImVec2(a.x, origin.y), ink, "E → E'");
    const std::string xl = "dimension " + std::to_string(dx), yl = "dimension " + std::to_string(dy);
    dl->AddText(ImVec2((a.x + b.x) / 2 - ImGui::CalcTextSize(xl.c_str()).x / 2, b.y + 4), ink, xl.c_str());
    const int first = dl->VtxBuffer.Size;
    dl->AddText(ImVec2(origin.x, (a.y + b.y) / 2 + ImGui::CalcTextSize(yl.c_str()).x / 2), ink, yl.c_str());
    rotate_vertices(dl, first, ImVec2(origin.x, (a.y + b.y) / 2 + ImGui::CalcTextSize(yl.c_str()).x / 2), -1.570796f);
    std::vector<ImVec2> labelled;
    for (int i = 0; i < s.n(); ++i) {
        const bool sel = i == app.sel.query;
        const ImVec2 p0(X(f.E(i, dx)), Y(f.E(i, dy))), p1(X(f.output(i, dx)), Y(f.output(i, dy)));
        const ImU32 col = sel ? IM_COL32(214, 39, 40, 255) : IM_COL32(31, 119, 180, 255);
        const float len = std::hypot(p1.x - p0.x, p1.y - p0.y);
        if (len > 6) {
            dl->AddLine(p0, p1, col, sel ? 4.0f : 2.0f);
            const ImVec2 u((p1.x - p0.x) / len, (p1.y - p0.y) / len);
            const float h = sel ? 16.0f : 11.0f;
            dl->AddTriangleFilled(p1, ImVec2(p1.x - u.x * h - u.y * h * 0.5f, p1.y - u.y * h + u.x * h * 0.5f),
                                  ImVec2(p1.x - u.x * h + u.y * h * 0.5f, p1.y - u.y * h - u.x * h * 0.5f), col);
        }
        dl->AddCircle(p0, 5, col, 12, 2.0f);
        int same = 0;  // stack the labels of tokens that end on the same spot
        for (const ImVec2& q : labelled) same += std::hypot(q.x - p1.x, q.y - p1.y) < 8;
        labelled.push_back(p1);
        dl->AddText(ImVec2(p1.x + 8, p1.y - line + line * static_cast<float>(same)), sel ? col : ink,
                    s.input.tokens[static_cast<std::size_t>(i)].text.c_str());
    }
    ImGui::PopFont();
}

std::vector<std::uint8_t> allowed_cells(const Scene& s) {
    std::vector<std::uint8_t> a(static_cast<std::size_t>(s.n()) * static_cast<std::size_t>(s.m()));
    for (int i = 0; i < s.n(); ++i)
        for (int j = 0; j < s.m(); ++j) a[static_cast<std::size_t>(i) * s.m() + j] = s.mask.allows(i, j) ? 1 : 0;
    return a;
}

Stage shown_stage(const AppState& app) {
    return app.lecture.stage_follows_step ? StageForStep(app.lecture.math_step) : app.view.stage;
}

// The panel of one head of a scene and its forward pass, at the shown stage.
Panel head_panel(const AppState& app, const Scene& s, const Forward& f, int head, std::string caption) {
    Panel P;
    const Stage st = shown_stage(app);
    P.values = stage_matrix(s, f.heads[static_cast<std::size_t>(head)], st);
    P.pattern = st == Stage::Pattern;
    P.rows = token_texts(s.input.tokens);
    P.cols = token_texts(s.source ? s.source->tokens : s.input.tokens);
    P.allowed = allowed_cells(s);
    P.caption = std::move(caption);
    return P;
}

std::string fmt_weight(double w) { return format_number(std::round(w * 1000.0) / 1000.0); }

// A mask from the scene format's JSON ("causal", {"type": "strided", "stride": 4}, …).
bool mask_from_view(const nlohmann::json& j, Mask& out) {
    const std::string type = j.is_string() ? j.get<std::string>() : j.is_object() && j.contains("type") && j["type"].is_string()
                                                                          ? j["type"].get<std::string>() : "";
    const auto t = mask_type_from_name(type);
    if (!t || *t == MaskType::Matrix) return false;
    out = Mask{};
    out.type = *t;
    for (const char* k : {"width", "stride", "block"})
        if (j.is_object() && j.contains(k) && j[k].is_number_integer()) out.size = j[k].get<int>();
    return (*t != MaskType::SlidingWindow && *t != MaskType::Strided && *t != MaskType::Fixed) || out.size > 0;
}

// The heatmaps of the page: the selected head, or the scene's "compare" view side by side
// (docs/lecture-scenes.md). Every matrix comes from core's forward pass of the scene or of a
// copy with one thing changed.
std::vector<Panel> page_panels(AppState& app) {
    const Scene& s = app.scene;
    const int h = app.sel.head;
    const auto view = s.view_json.empty() ? nlohmann::json() : nlohmann::json::parse(s.view_json, nullptr, false);
    const std::string compare = view.is_object() && view.contains("compare") && view["compare"].is_string()
                                    ? view["compare"].get<std::string>() : "";
    std::vector<Panel> panels;
    if (compare == "permuted" && view.contains("permutation") && view["permutation"].is_array() &&
        static_cast<int>(view["permutation"].size()) == s.n()) {
        std::vector<int> perm;
        for (const auto& v : view["permutation"]) perm.push_back(v.is_number_integer() ? v.get<int>() : -1);
        std::vector<int> sorted = perm;
        std::sort(sorted.begin(), sorted.end());
        for (int i = 0; i < s.n(); ++i)
            if (sorted[static_cast<std::size_t>(i)] != i) return {head_panel(app, s, app.fwd, h, "")};
        Scene p = s;  // the same tokens in the other order
        for (int i = 0; i < s.n(); ++i) {
            p.input.tokens[static_cast<std::size_t>(i)] = s.input.tokens[static_cast<std::size_t>(perm[static_cast<std::size_t>(i)])];
            p.input.embeddings.row(i) = s.input.embeddings.row(perm[static_cast<std::size_t>(i)]);
        }
        const Forward fp = forward(p);
        float diff = 0;  // E' of the shuffled text against the original rows shuffled
        for (int i = 0; i < s.n(); ++i)
            diff = std::max(diff, (fp.output.row(i) - app.fwd.output.row(perm[static_cast<std::size_t>(i)])).cwiseAbs().maxCoeff());
        const std::string pos = std::string("positions: ") + positional_name(s.positional) + " (P toggles)";
        panels.push_back(head_panel(app, s, app.fwd, h, pos));
        panels.push_back(head_panel(app, p, fp, h, "shuffled: E' rows differ from the original rows by " + format_number(diff)));
    } else if (compare == "unmasked" && s.mask.type != MaskType::None) {
        Scene u = s;
        u.mask = Mask::none();
        panels.push_back(head_panel(app, s, app.fwd, h, std::string(mask_type_name(s.mask.type)) + " mask"));
        panels.push_back(head_panel(app, u, app.unmasked(), h, "no mask: later tokens leak into earlier rows"));
    } else if (compare == "scale") {
        Scene other = s;
        other.scale = !s.scale;
        const Forward fo = forward(other);
        const Scene& on = s.scale ? s : other;
        const Scene& off = s.scale ? other : s;
        const Forward& f_on = s.scale ? app.fwd : fo;
        const Forward& f_off = s.scale ? fo : app.fwd;
        auto cap = [&](const char* what, const Forward& f) {
            return std::string(what) + ", d_k = " + std::to_string(s.d_head) + ", T = " + format_number(s.temperature) +
                   ": mean largest weight " + fmt_weight(mean_max_weight(f.heads[static_cast<std::size_t>(h)].pattern));
        };
        panels.push_back(head_panel(app, on, f_on, h, cap("÷ √d_k", f_on)));
        panels.push_back(head_panel(app, off, f_off, h, cap("not scaled", f_off)));
    } else if (compare == "heads" && s.n_heads > 1) {
        for (int k = 0; k < std::min(s.n_heads, 4); ++k) {
            std::string name = "head " + std::to_string(k);
            if (view.contains("head_names") && view["head_names"].is_array() && k < static_cast<int>(view["head_names"].size()) &&
                view["head_names"][static_cast<std::size_t>(k)].is_string())
                name += ": " + view["head_names"][static_cast<std::size_t>(k)].get<std::string>();
            panels.push_back(head_panel(app, s, app.fwd, k, name));
        }
    } else if (compare == "masks" && view.contains("masks") && view["masks"].is_array()) {
        for (const auto& mj : view["masks"]) {
            Mask mask;
            if (panels.size() == 3 || !mask_from_view(mj, mask)) break;
            Scene c = s;
            c.mask = mask;
            const Forward fc = forward(c);
            panels.push_back(head_panel(app, c, fc, h,
                                        std::string(mask_type_name(mask.type)) + ": " + format_count(mask.allowed_count(c.n(), c.m())) +
                                            " of " + format_count(static_cast<std::int64_t>(c.n()) * c.m()) + " scores"));
        }
    }
    if (panels.empty()) panels.push_back(head_panel(app, s, app.fwd, h, ""));
    panels[0].clickable = true;
    return panels;
}

// The scene's "param_presets" (view): parameter counts computed by core for each size.
void draw_parameter_presets(const AppState& app) {
    if (app.scene.view_json.find("param_presets") == std::string::npos) return;
    const auto view = nlohmann::json::parse(app.scene.view_json, nullptr, false);
    if (!view.is_object() || !view.contains("param_presets") || !view["param_presets"].is_array()) return;
    ImGui::Separator();
    for (const auto& p : view["param_presets"]) {
        if (!p.is_object()) continue;
        auto get = [&](const char* k, int fallback) {
            return p.contains(k) && p[k].is_number_integer() ? p[k].get<std::int64_t>() : std::int64_t(fallback);
        };
        try {
            const ParameterCounts c = parameter_counts(get("d_model", app.scene.d_model), get("n_heads", app.scene.n_heads),
                                                       get("d_head", app.scene.d_head));
            const std::string name = p.contains("name") && p["name"].is_string() ? p["name"].get<std::string>() : "";
            ImGui::Text("%s: d_model %s, %s heads of %s", name.c_str(), format_count(c.d_model).c_str(),
                        format_count(c.n_heads).c_str(), format_count(c.d_head).c_str());
            ImGui::Text("   per head: W_Q %s · down + up %s", format_count(c.W_Q_per_head).c_str(),
                        format_count(c.value_down_per_head + c.value_up_per_head).c_str());
            ImGui::Text("   full value map %s;  layer total %s", format_count(c.full_value_map).c_str(),
                        format_count(c.total).c_str());
        } catch (const SceneError&) {
        }
    }
}

void handle_keys(AppState& app) {
    auto& L = app.lecture;
    if (pressed(ImGuiKey_Escape)) L.presentation = false;
    if (pressed(ImGuiKey_RightArrow)) {
        if (L.math_step < 8) SetMathStep(app, L.math_step + 1);
        else if (OpenLectureScene(app, L.scene_index + 1)) SetMathStep(app, 1);
    }
    if (pressed(ImGuiKey_LeftArrow)) {
        if (L.math_step > 1) SetMathStep(app, L.math_step - 1);
        else if (OpenLectureScene(app, L.scene_index - 1)) SetMathStep(app, 1);
    }
    if ((pressed(ImGuiKey_PageDown) || pressed(ImGuiKey_Space)) && OpenLectureScene(app, L.scene_index + 1)) SetMathStep(app, 1);
    if (pressed(ImGuiKey_PageUp) && OpenLectureScene(app, L.scene_index - 1)) SetMathStep(app, 1);
    if (pressed(ImGuiKey_DownArrow)) app.sel.query = std::min(app.sel.query + 1, app.scene.n() - 1);
    if (pressed(ImGuiKey_UpArrow)) app.sel.query = std::max(app.sel.query - 1, 0);
    if (ImGui::IsKeyPressed(GLFW_KEY_H, false)) app.sel.head = (app.sel.head + 1) % std::max(app.scene.n_heads, 1);
    if (ImGui::IsKeyPressed(GLFW_KEY_T, false)) L.light_theme = !L.light_theme;
    // Scene-specific keys: P positions on/off, 1/2/3 d_k presets, +/- temperature.
    if (ImGui::IsKeyPressed(GLFW_KEY_P, false))
        app.edit([](Scene& s) { set_positional(s, s.positional == Positional::None ? Positional::Sinusoidal : Positional::None); });
    const auto view = app.scene.view_json.empty() ? nlohmann::json() : nlohmann::json::parse(app.scene.view_json, nullptr, false);
    if (view.is_object() && view.contains("d_head_presets") && view["d_head_presets"].is_array())
        for (int k = 0; k < static_cast<int>(view["d_head_presets"].size()) && k < 9; ++k)
            if (ImGui::IsKeyPressed(GLFW_KEY_1 + k, false) && view["d_head_presets"][static_cast<std::size_t>(k)].is_number_integer()) {
                const int d = view["d_head_presets"][static_cast<std::size_t>(k)].get<int>();
                app.edit([d](Scene& s) { set_d_head(s, d); });
            }
    if (ImGui::IsKeyPressed(GLFW_KEY_EQUAL) || ImGui::IsKeyPressed(GLFW_KEY_KP_ADD))
        app.edit([](Scene& s) { set_temperature(s, s.temperature * 2.0f); });
    if (ImGui::IsKeyPressed(GLFW_KEY_MINUS) || ImGui::IsKeyPressed(GLFW_KEY_KP_SUBTRACT))
        app.edit([](Scene& s) { set_temperature(s, s.temperature / 2.0f); });
    if (ImGui::IsKeyPressed(GLFW_KEY_C, false))
        L.colormap = L.colormap == Colormap::Cividis ? Colormap::Viridis
                     : L.colormap == Colormap::Viridis ? Colormap::Gray : Colormap::Cividis;
}

}  // namespace

void DrawPresentation(AppState& app) {
    auto& L = app.lecture;
    if (!ImGui::GetIO().WantTextInput) handle_keys(app);
    if (!L.presentation) return;
    if (app.long_mode) {
        L.presentation = false;
        app.set_error("presentation view: the scene is too long to show every pattern; shorten the text");
        return;
    }
    if (app.sel.query < 0 || app.sel.query >= app.scene.n()) app.sel.query = app.scene.n() - 1;
    app.sel.head = std::clamp(app.sel.head, 0, app.scene.n_heads - 1);

    ImGuiStyle& style = ImGui::GetStyle();
    const ImGuiStyle saved = style;  // the presentation colours apply to this window only
    if (L.light_theme) apply_light_theme(style);
    ImFont* big = L.big_font ? L.big_font : ImGui::GetFont();
    ImFont* mid = L.mid_font ? L.mid_font : ImGui::GetFont();

    const ImGuiIO& io = ImGui::GetIO();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(io.DisplaySize);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(36, 24));
    ImGui::Begin("##presentation", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoScrollWithMouse);
    const Scene& s = app.scene;
    const float W = ImGui::GetContentRegionAvail().x, H = ImGui::GetContentRegionAvail().y;

    // Title line.
    ImGui::PushFont(big);
    ImGui::TextUnformatted(s.title.c_str());
    ImGui::PopFont();
    ImGui::PushFont(mid);
    if (L.scene_index >= 0) {
        const std::string page = std::to_string(L.scene_index + 1) + " / " + std::to_string(L.scene_files.size());
        ImGui::SameLine(W - ImGui::CalcTextSize(page.c_str()).x);
        ImGui::TextDisabled("%s", page.c_str());
    }
    std::string sub = "head " + std::to_string(app.sel.head) + " of " + std::to_string(s.n_heads) + "  ·  " +
                      stage_name(L.stage_follows_step ? StageForStep(L.math_step) : app.view.stage);
    if (s.mask.type != MaskType::None)  // why masks matter for cost: computed scores against n·m
        sub += "  ·  " + std::string(mask_type_name(s.mask.type)) + " mask: " +
               format_count(s.mask.allowed_count(s.n(), s.m())) + " of " +
               format_count(static_cast<std::int64_t>(s.n()) * s.m()) + " scores computed";
    ImGui::TextDisabled("%s", sub.c_str());
    ImGui::PopFont();
    ImGui::Separator();

    const float top = ImGui::GetCursorScreenPos().y;
    const std::vector<Panel> panels = page_panels(app);
    const float left_w = std::floor(W * (panels.size() > 1 || L.math_step >= 7 ? 0.64f : 0.52f));
    const float body_h = H - (top - ImGui::GetWindowPos().y) - 20;
    // Steps 7 and 8 (ΔE, E'): the shift plot beside a single heatmap.
    const bool with_shift = L.math_step >= 7 && panels.size() == 1 && s.n() <= kMaxPresentedCells;
    const float heat_w = with_shift ? std::floor(left_w * 0.5f) : left_w;
    if (with_shift)
        draw_shift_plot(app, ImVec2(ImGui::GetWindowPos().x + 36 + heat_w + 16, top + 8), ImVec2(left_w - heat_w - 16, body_h - 40), mid);
    // Side by side, or in a grid when that gives larger cells (labels take about 140 px).
    const int count = static_cast<int>(panels.size());
    const float area_h = body_h - 40;
    int best_cols = count;
    float best_cell = 0;
    for (int cols = count; cols >= 1; --cols) {  // side by side unless a grid is clearly better
        const int rows = (count + cols - 1) / cols;
        const float cell = std::min((heat_w / cols - 140) / static_cast<float>(std::max<Eigen::Index>(panels[0].values.cols(), 1)),
                                    (area_h / rows - 140) / static_cast<float>(std::max<Eigen::Index>(panels[0].values.rows(), 1)));
        if (cell > best_cell * 1.25f) {
            best_cell = cell;
            best_cols = cols;
        }
    }
    const int grid_rows = (count + best_cols - 1) / best_cols;
    const float panel_w = std::floor(heat_w / static_cast<float>(best_cols)), panel_h = std::floor(area_h / static_cast<float>(grid_rows));
    for (int k = 0; k < count; ++k)
        draw_panel(app, panels[static_cast<std::size_t>(k)],
                   ImVec2(ImGui::GetWindowPos().x + 36 + panel_w * static_cast<float>(k % best_cols), top + 8 + panel_h * static_cast<float>(k / best_cols)),
                   ImVec2(panel_w - 8, panel_h - 8), count > 2 ? ImGui::GetFont() : mid, k);

    // Right column: the explanation, then the current step of the math.
    ImGui::SetCursorScreenPos(ImVec2(ImGui::GetWindowPos().x + 36 + left_w + 24, top + 8));
    ImGui::BeginChild("explain", ImVec2(W - left_w - 24, body_h - 40), false);  // the mouse wheel scrolls long text
    ImGui::PushFont(mid);
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextUnformatted(s.description.c_str());
    draw_parameter_presets(app);
    ImGui::Spacing();
    ImGui::Separator();
    if (const QueryExplanation* x = CurrentExplanation(app)) {
        const ExplainStep& st = x->steps[static_cast<std::size_t>(L.math_step - 1)];
        ImGui::Text("(%d/8) %s", st.number, st.title.c_str());
        ImGui::TextColored(L.light_theme ? ImVec4(0.05f, 0.25f, 0.65f, 1) : ImVec4(0.55f, 0.8f, 1, 1), "%s", st.formula.c_str());
        ImGui::Text("query: '%s'", x->query_token.c_str());
        const int shown = std::min<int>(static_cast<int>(st.lines.size()), 8);
        for (int k = 0; k < shown; ++k) ImGui::TextUnformatted(st.lines[static_cast<std::size_t>(k)].c_str());
        if (static_cast<int>(st.lines.size()) > shown) ImGui::TextDisabled("…");
    }
    ImGui::PopTextWrapPos();
    ImGui::PopFont();
    ImGui::EndChild();

    // Key hints.
    ImGui::SetCursorScreenPos(ImVec2(ImGui::GetWindowPos().x + 36, ImGui::GetWindowPos().y + io.DisplaySize.y - ImGui::GetTextLineHeight() - 14));
    std::string hints = "←/→ step   PgUp/PgDn scene   ↑/↓ query   H head   T theme   C colours   F5 back";
    if (s.view_json.find("permuted") != std::string::npos) hints += "   P positions";
    if (s.view_json.find("d_head_presets") != std::string::npos) hints += "   1/2/3 d_k   +/− temperature";
    ImGui::TextDisabled("%s", hints.c_str());
    ImGui::End();
    ImGui::PopStyleVar();
    style = saved;
}

}  // namespace attnviz::app
