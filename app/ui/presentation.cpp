// attnviz app — the presentation view (F5): one full-screen page per scene for a projector.
//
// Crisp fonts built with the UI font (app/ui/fonts.cpp), a light high-contrast theme by default, a
// colour-blind-safe colour map (cividis), few controls. Every size on the page — title, text,
// math, labels, numbers in cells — is a multiple of one scale: the window's size against a
// 1600×900 slide, times --ui-scale. Left: the heatmaps (the window's GL heatmap widget), filling
// their area: the selected head at the stage of the current math step, or the scene's "compare"
// view (all heads, masks, …) side by side or in a grid. Right: the scene's explanation and the
// current step of the math, fitted to the column (smaller text first, then lines left out and
// counted — nothing below the slide).
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
#include <iterator>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "panels.hpp"
#include "panels_lecture.hpp"
#include "text.hpp"

namespace attnviz::app {
namespace {

constexpr int kMaxPresentedCells = 64;  // per side; larger scenes: use the main view's heatmap
constexpr int kMaxPanels = 8;           // heatmaps on one slide (all 8 heads of the original paper)

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

// ---------------------------------------------------------------------------------------------
// Sizes and text: every size is a multiple of the page scale.
// ---------------------------------------------------------------------------------------------
struct Page {
    float k = 1;             // the page scale: min(W/1600, H/900) × ui scale
    ImFont* big = nullptr;   // built large; drawn at any size below that
    ImFont* mid = nullptr;
    ImU32 ink = 0, dim = 0, accent = 0;
    float title_px() const { return 40 * k; }
    float body_px() const { return 27 * k; }
    float label_px() const { return 22 * k; }
    float small_px() const { return 18 * k; }
    ImFont* font_for(float px) const { return px > mid->FontSize * 1.05f ? big : mid; }
};

float text_width(ImFont* f, float px, std::string_view t) {
    return f->CalcTextSizeA(px, FLT_MAX, 0.0f, t.data(), t.data() + t.size()).x;
}
void draw_text(const Page& pg, ImVec2 at, float px, ImU32 col, const std::string& t) {
    ImGui::GetWindowDrawList()->AddText(pg.font_for(px), px, at, col, t.c_str());
}
// Text wrapped at spaces (never inside a number) into `width`; returns the height used.
float draw_wrapped(const Page& pg, ImVec2 at, float px, float width, ImU32 col, const std::string& t) {
    ImFont* f = pg.font_for(px);
    float y = at.y;
    for (const std::string& line : wrap_words(t, width / px, [&](std::string_view v) { return text_width(f, 1.0f, v); })) {
        draw_text(pg, ImVec2(at.x, y), px, col, line);
        y += px * 1.2f;
    }
    return y - at.y;
}
float wrapped_height(const Page& pg, float px, float width, const std::string& t) {
    ImFont* f = pg.font_for(px);
    return static_cast<float>(wrap_words(t, width / px, [&](std::string_view v) { return text_width(f, 1.0f, v); }).size()) * px * 1.2f;
}

// ---------------------------------------------------------------------------------------------
// The heatmaps
// ---------------------------------------------------------------------------------------------
// One heatmap to draw: values, labels, which cells the mask forbids, a caption.
struct Panel {
    Mat values;                          // (n, m) at the shown stage
    std::vector<std::string> rows, cols;
    Mask mask;                           // hatched cells (when `masked`)
    bool masked = false;
    bool pattern = true;                 // the pattern's 0..1 colour range (else diverging around 0)
    std::string caption;
    int head = -1;                       // the head it shows (a click selects it); -1: none
    bool selected_query = true;          // outline the selected query's row
    bool marked = false;                 // framed: the current scene's mask among the masks
};

// A key for the widget's data: the values, the hatching and the shape (FNV-1a).
std::uint64_t panel_key(const Panel& P) {
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&](const void* p, std::size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    };
    const Eigen::Index r = P.values.rows(), c = P.values.cols();
    mix(&r, sizeof r);
    mix(&c, sizeof c);
    mix(P.values.data(), sizeof(float) * static_cast<std::size_t>(P.values.size()));
    const int m[4] = {P.masked ? 1 : 0, static_cast<int>(P.mask.type), P.mask.size, P.pattern ? 1 : 0};
    mix(m, sizeof m);
    if (P.masked && P.mask.type == MaskType::Matrix && !P.mask.allowed.empty()) mix(P.mask.allowed.data(), P.mask.allowed.size());
    return h;
}

// The panel in [origin, origin + avail): its caption on top (wrapped), the heatmap widget below
// filling the rest, labels and cell numbers at the page's label size. Returns the plot rectangle.
HeatmapResult draw_panel(AppState& app, const Page& pg, HeatmapView& hv, const Panel& P, ImVec2 origin, ImVec2 avail, float label_px,
                         int id) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const int n = static_cast<int>(P.values.rows()), m = static_cast<int>(P.values.cols());
    HeatmapResult r;
    float cap_h = 0;
    if (!P.caption.empty()) {
        cap_h = draw_wrapped(pg, origin, label_px, avail.x, P.marked ? pg.accent : pg.ink, P.caption) + 0.25f * label_px;
    }
    if (n > kMaxPresentedCells || m > kMaxPresentedCells) {
        draw_wrapped(pg, ImVec2(origin.x, origin.y + cap_h), label_px, avail.x, pg.dim,
                     std::to_string(n) + " × " + std::to_string(m) + " is too large to present cell by cell; use the main view (F5).");
        return r;
    }
    const Stage st = P.pattern ? Stage::Pattern : Stage::Raw;
    const std::uint64_t key = panel_key(P);
    if (hv.wants_data(key)) hv.set_data(P.values, P.masked ? &P.mask : nullptr, key);
    hv.opt.transpose = false;
    hv.opt.show_labels = true;
    hv.opt.show_colorbar = false;
    hv.opt.show_values = true;
    hv.opt.interactive = false;
    hv.opt.value_format = "%.2f";
    configure_for_stage(hv, st, app.lecture.colormap);
    ImGui::SetCursorScreenPos(ImVec2(origin.x, origin.y + cap_h));
    ImGui::PushFont(pg.mid);
    ImGui::SetWindowFontScale(label_px / pg.mid->FontSize);
    ImGui::PushID(id);
    r = hv.Draw("present", ImVec2(avail.x, std::max(avail.y - cap_h, 40.0f)), P.rows, P.cols, P.selected_query ? app.sel.query : -1, -1,
                P.selected_query ? app.sel.shown_hover_query : -1, app.sel.shown_hover_key);
    ImGui::PopID();
    ImGui::SetWindowFontScale(1.0f);
    ImGui::PopFont();
    const float cw = hv.last_layout.cell_w, ch = hv.last_layout.cell_h;
    if (P.marked)
        dl->AddRect(ImVec2(r.plot_min.x - 6, r.plot_min.y - 6), ImVec2(r.plot_max.x + 6, r.plot_max.y + 6), pg.accent, 0, 0, 4.0f * pg.k);
    // The key the math is pointing at: the hovered one, else (from the softmax on) the largest weight.
    const int q = app.sel.query;
    if (P.selected_query && q >= 0 && q < n && cw > 4) {
        int key_col = app.sel.hover_query == q ? app.sel.hover_key : -1;
        if (key_col < 0 && P.pattern && app.lecture.math_step >= 5) P.values.row(q).maxCoeff(&key_col);
        if (key_col >= 0 && key_col < m) {
            const ImVec2 a(r.plot_min.x + key_col * cw, r.plot_min.y + q * ch);
            dl->AddRect(ImVec2(a.x + 2, a.y + 2), ImVec2(a.x + cw - 2, a.y + ch - 2), IM_COL32(230, 40, 40, 255), 0, 0, 3.0f * pg.k);
        }
    }
    return r;
}

// The shift plot: every token's E → E' in two dimensions (core's shift_plot_dims), the selected
// query's arrow drawn bold. Token labels stay inside the plot box, clear of the axis titles.
void draw_shift_plot(const AppState& app, const Page& pg, ImVec2 origin, ImVec2 avail) {
    const Scene& s = app.scene;
    const Forward& f = app.fwd;
    const auto [dx, dy] = shift_plot_dims(s, f);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float px = pg.label_px(), line = px * 1.2f;
    float x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
    for (int i = 0; i < s.n(); ++i) {
        x_lo = std::min({x_lo, f.E(i, dx), f.output(i, dx)});
        x_hi = std::max({x_hi, f.E(i, dx), f.output(i, dx)});
        y_lo = std::min({y_lo, f.E(i, dy), f.output(i, dy)});
        y_hi = std::max({y_hi, f.E(i, dy), f.output(i, dy)});
    }
    const float padx = std::max(x_hi - x_lo, 1e-3f) * 0.15f, pady = std::max(y_hi - y_lo, 1e-3f) * 0.15f;
    x_lo -= padx; x_hi += padx; y_lo -= pady; y_hi += pady;
    // the box: a line for the title above, the y title at the left, the x title below
    const ImVec2 a(origin.x + line * 1.4f, origin.y + line * 1.4f);
    const ImVec2 b(origin.x + avail.x - 8, origin.y + avail.y - line * 1.6f);
    if (b.x - a.x < 50 || b.y - a.y < 50) return;
    auto X = [&](float x) { return a.x + (x - x_lo) / (x_hi - x_lo) * (b.x - a.x); };
    auto Y = [&](float y) { return b.y - (y - y_lo) / (y_hi - y_lo) * (b.y - a.y); };
    dl->AddRect(a, b, pg.ink);
    draw_text(pg, ImVec2(a.x, origin.y), px, pg.ink, "E → E'");
    const std::string xl = "dimension " + std::to_string(dx), yl = "dimension " + std::to_string(dy);
    draw_text(pg, ImVec2((a.x + b.x) / 2 - text_width(pg.font_for(px), px, xl) / 2, b.y + line * 0.3f), px, pg.ink, xl);
    const ImVec2 ypivot(origin.x, (a.y + b.y) / 2 + text_width(pg.font_for(px), px, yl) / 2);
    const int first = dl->VtxBuffer.Size;
    draw_text(pg, ypivot, px, pg.ink, yl);
    rotate_vertices(dl, first, ypivot, -1.570796f);
    std::vector<ImVec2> labelled;
    for (int i = 0; i < s.n(); ++i) {
        const bool sel = i == app.sel.query;
        const ImVec2 p0(X(f.E(i, dx)), Y(f.E(i, dy))), p1(X(f.output(i, dx)), Y(f.output(i, dy)));
        const ImU32 col = sel ? IM_COL32(214, 39, 40, 255) : IM_COL32(31, 119, 180, 255);
        const float len = std::hypot(p1.x - p0.x, p1.y - p0.y);
        if (len > 6) {
            dl->AddLine(p0, p1, col, (sel ? 4.0f : 2.0f) * pg.k);
            const ImVec2 u((p1.x - p0.x) / len, (p1.y - p0.y) / len);
            const float h = (sel ? 16.0f : 11.0f) * pg.k;
            dl->AddTriangleFilled(p1, ImVec2(p1.x - u.x * h - u.y * h * 0.5f, p1.y - u.y * h + u.x * h * 0.5f),
                                  ImVec2(p1.x - u.x * h + u.y * h * 0.5f, p1.y - u.y * h - u.x * h * 0.5f), col);
        }
        dl->AddCircle(p0, 5 * pg.k, col, 12, 2.0f * pg.k);
        int same = 0;  // stack the labels of tokens that end on the same spot
        for (const ImVec2& q : labelled) same += std::hypot(q.x - p1.x, q.y - p1.y) < 8;
        labelled.push_back(p1);
        const std::string& t = s.input.tokens[static_cast<std::size_t>(i)].text;
        const float tw = text_width(pg.font_for(px), px, t);
        // inside the box: left of the point when it would run out at the right, never over the titles
        float lx = p1.x + 8 * pg.k;
        if (lx + tw > b.x - 2) lx = p1.x - 8 * pg.k - tw;
        lx = std::max(lx, a.x + 2);
        // stacked away from the nearer edge of the box, so that no two land on the same line
        const float stack = p1.y > (a.y + b.y) * 0.5f ? -line * static_cast<float>(same) : line * static_cast<float>(same);
        const float ly = std::clamp(p1.y - line + stack, a.y + 2, b.y - line);
        draw_text(pg, ImVec2(lx, ly), px, sel ? col : pg.ink, t);
    }
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
    P.mask = s.mask;
    P.masked = st == Stage::Masked || st == Stage::Pattern;
    P.caption = std::move(caption);
    P.head = head;
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

// "sliding window (width 4)", "causal".
std::string mask_phrase(const Mask& mask) {
    std::string s = mask_words(mask.type);
    if (mask.type == MaskType::SlidingWindow) s += " (width " + std::to_string(mask.size) + ")";
    if (mask.type == MaskType::Strided) s += " (stride " + std::to_string(mask.size) + ")";
    if (mask.type == MaskType::Fixed) s += " (block " + std::to_string(mask.size) + ")";
    if (mask.type == MaskType::None) s = "no mask";
    return s;
}

bool has_param_presets(const Scene& s) { return s.view_json.find("param_presets") != std::string::npos; }

// The heatmaps of the page: the selected head, or the scene's "compare" view side by side
// (docs/lecture-scenes.md). Every matrix comes from core's forward pass of the scene or of a
// copy with one thing changed. `note` says what the page leaves out, if anything.
std::vector<Panel> page_panels(AppState& app, std::string& note) {
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
        panels.back().selected_query = false;
    } else if (compare == "unmasked" && s.mask.type != MaskType::None) {
        Scene u = s;
        u.mask = Mask::none();
        panels.push_back(head_panel(app, s, app.fwd, h, mask_phrase(s.mask) + " mask"));
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
        const int shown = std::min(s.n_heads, kMaxPanels);
        for (int k = 0; k < shown; ++k) {
            std::string name = "head " + std::to_string(k);
            if (view.contains("head_names") && view["head_names"].is_array() && k < static_cast<int>(view["head_names"].size()) &&
                view["head_names"][static_cast<std::size_t>(k)].is_string())
                name += ": " + view["head_names"][static_cast<std::size_t>(k)].get<std::string>();
            panels.push_back(head_panel(app, s, app.fwd, k, name));
            panels.back().marked = k == h && shown > 1;
        }
        if (shown < s.n_heads) note = std::to_string(shown) + " of " + count_noun(s.n_heads, "head") + " shown";
    } else if (compare == "masks" && view.contains("masks") && view["masks"].is_array()) {
        int total = 0;
        for (const auto& mj : view["masks"]) {
            Mask mask;
            if (!mask_from_view(mj, mask)) continue;
            ++total;
            if (static_cast<int>(panels.size()) == kMaxPanels) continue;
            Scene c = s;
            c.mask = mask;
            const Forward fc = forward(c);
            const bool current = mask == s.mask;
            panels.push_back(head_panel(app, c, fc, h,
                                        (current ? "▶ " : "") + mask_phrase(mask) + ": " + format_count(mask.allowed_count(c.n(), c.m())) +
                                            " of " + format_count(static_cast<std::int64_t>(c.n()) * c.m()) + " scores" +
                                            (current ? " (this scene)" : "")));
            panels.back().marked = current;
            panels.back().masked = true;  // the mask's pattern is the point: hatched at every stage
        }
        if (static_cast<int>(panels.size()) < total) note = std::to_string(panels.size()) + " of " + std::to_string(total) + " masks shown";
    }
    if (panels.empty()) panels.push_back(head_panel(app, s, app.fwd, h, ""));
    if (has_param_presets(s) && panels.size() == 1) {  // the value map beside the pattern (scene 12)
        Panel V;
        const ValueMapRank r = value_map_rank(s, h);
        V.values = r.map;
        V.pattern = false;
        for (int d = 0; d < s.d_model; ++d) V.rows.push_back(std::to_string(d));
        V.cols = V.rows;
        V.selected_query = false;
        V.caption = "W_V·W_O[" + std::to_string(h) + "]: " + std::to_string(s.d_model) + " × " + std::to_string(s.d_model) +
                    ", rank " + std::to_string(r.rank);
        panels[0].caption = "head " + std::to_string(h) + " pattern";
        panels.push_back(std::move(V));
    }
    return panels;
}

// The scene's "param_presets" (view): parameter counts computed by core for each size, and the
// value map's rank (core: JacobiSVD with a stated tolerance).
std::vector<std::string> parameter_lines(const AppState& app) {
    std::vector<std::string> out;
    if (!has_param_presets(app.scene)) return out;
    const auto view = nlohmann::json::parse(app.scene.view_json, nullptr, false);
    if (!view.is_object() || !view.contains("param_presets") || !view["param_presets"].is_array()) return out;
    const int h = app.sel.head;
    const ValueMapRank r = value_map_rank(app.scene, h);
    out.push_back("W_V·W_O[" + std::to_string(h) + "] is " + std::to_string(app.scene.d_model) + " × " +
                  std::to_string(app.scene.d_model) + " but has rank " + std::to_string(r.rank) + " ≤ d_head = " +
                  std::to_string(app.scene.d_head) + "  (singular values above " + format_number(r.relative_tolerance) +
                  " × the largest, " + format_number(r.largest) + ")");
    for (const auto& p : view["param_presets"]) {
        if (!p.is_object()) continue;
        auto get = [&](const char* k, int fallback) {
            return p.contains(k) && p[k].is_number_integer() ? p[k].get<std::int64_t>() : std::int64_t(fallback);
        };
        try {
            const ParameterCounts c = parameter_counts(get("d_model", app.scene.d_model), get("n_heads", app.scene.n_heads),
                                                       get("d_head", app.scene.d_head));
            const std::string name = p.contains("name") && p["name"].is_string() ? p["name"].get<std::string>() : "";
            out.push_back(name + ": d_model " + format_count(c.d_model) + ", " + count_noun(c.n_heads, "head") + " of " +
                          format_count(c.d_head) + " — per head W_Q " + format_count(c.W_Q_per_head) + ", value down + up " +
                          format_count(c.value_down_per_head + c.value_up_per_head) + " against a full value map's " +
                          format_count(c.full_value_map) + "; layer total " + format_count(c.total));
        } catch (const SceneError&) {
        }
    }
    return out;
}

// A small picture of the scene's mask: allowed cells dark, masked cells light.
void draw_mask_thumbnail(const Page& pg, const Scene& s, ImVec2 at, float size) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const int n = s.n(), m = s.m();
    const float c = std::floor(size / static_cast<float>(std::max(n, m)));
    if (c < 2) return;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j) {
            const ImVec2 a(at.x + j * c, at.y + i * c);
            dl->AddRectFilled(a, ImVec2(a.x + c - 1, a.y + c - 1), s.mask.allows(i, j) ? pg.ink : IM_COL32(210, 210, 210, 255));
        }
}

void handle_keys(AppState& app) {
    auto& L = app.lecture;
    if (pressed(ImGuiKey_Escape)) L.presentation = false;
    if (pressed(ImGuiKey_RightArrow)) {
        if (L.math_step < 8) SetMathStep(app, L.math_step + 1);
        else if (OpenLectureScene(app, L.scene_index + 1, true)) SetMathStep(app, 1);
    }
    if (pressed(ImGuiKey_LeftArrow)) {
        if (L.math_step > 1) SetMathStep(app, L.math_step - 1);
        else if (OpenLectureScene(app, L.scene_index - 1, true)) SetMathStep(app, 1);
    }
    if ((pressed(ImGuiKey_PageDown) || pressed(ImGuiKey_Space)) && OpenLectureScene(app, L.scene_index + 1, true)) SetMathStep(app, 1);
    if (pressed(ImGuiKey_PageUp) && OpenLectureScene(app, L.scene_index - 1, true)) SetMathStep(app, 1);
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
    if (ImGui::IsKeyPressed(GLFW_KEY_C, false)) {  // cividis → viridis → magma
        const int c = L.colormap;
        L.colormap = c == static_cast<int>(Colormap::Cividis)   ? static_cast<int>(Colormap::Viridis)
                     : c == static_cast<int>(Colormap::Viridis) ? static_cast<int>(Colormap::Magma)
                                                                : static_cast<int>(Colormap::Cividis);
    }
}

// The right column's text: the description, the scene's numbers, the current math step.
std::vector<Paragraph> explanation_paragraphs(AppState& app, std::vector<ImU32>& colours, const Page& pg) {
    const auto& L = app.lecture;
    std::vector<Paragraph> ps;
    auto add = [&](std::string t, float rel, float gap, bool droppable, ImU32 col) {
        ps.push_back({std::move(t), rel, gap, droppable});
        colours.push_back(col);
    };
    if (const std::string d = app.display_description(); !d.empty()) add(d, 1.0f, 0.0f, false, pg.ink);
    for (const std::string& line : parameter_lines(app)) add(line, 0.85f, 0.3f, false, pg.ink);
    if (const QueryExplanation* x = CurrentExplanation(app)) {
        const ExplainStep& st = x->steps[static_cast<std::size_t>(L.math_step - 1)];
        add("(" + std::to_string(st.number) + "/8) " + st.title, 1.0f, 0.6f, false, pg.ink);
        add(st.formula, 1.0f, 0.0f, false, pg.accent);
        add("query " + std::to_string(x->query) + " '" + x->query_token + "', head " + std::to_string(x->head), 0.9f, 0.0f, false, pg.dim);
        for (const std::string& line : st.lines) add(line, 0.9f, 0.0f, true, pg.ink);
    }
    return ps;
}

}  // namespace

void DrawPresentation(AppState& app) {
    auto& L = app.lecture;
    if (!ImGui::GetIO().WantTextInput && !app.pending_switch.active()) handle_keys(app);
    if (!L.presentation) return;
    const std::shared_ptr<const PatternSource> src = app.patterns();
    if (!src || !src->full()) {  // the presentation shows every head's pattern at once
        L.presentation = false;
        app.set_error("presentation view: the scene is too long to show every pattern; shorten the text");
        return;
    }
    if (app.sel.query < 0 || app.sel.query >= app.scene.n()) app.sel.query = app.scene.n() - 1;
    app.sel.head = std::clamp(app.sel.head, 0, app.scene.n_heads - 1);

    ImGuiStyle& style = ImGui::GetStyle();
    const ImGuiStyle saved = style;  // the presentation colours apply to this window only
    if (L.light_theme) apply_light_theme(style);
    const ImGuiIO& io = ImGui::GetIO();
    Page pg;
    pg.k = std::clamp(std::min(io.DisplaySize.x / 1600.0f, io.DisplaySize.y / 900.0f), 0.3f, 4.0f) * std::max(L.ui_scale, 0.25f);
    pg.big = L.big_font ? L.big_font : ImGui::GetFont();
    pg.mid = L.mid_font ? L.mid_font : ImGui::GetFont();
    pg.ink = ImGui::GetColorU32(ImGuiCol_Text);
    pg.dim = ImGui::GetColorU32(ImGuiCol_TextDisabled);
    pg.accent = L.light_theme ? IM_COL32(13, 64, 166, 255) : IM_COL32(140, 204, 255, 255);

    const float pad_x = std::round(36 * pg.k), pad_y = std::round(24 * pg.k);
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(io.DisplaySize);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::Begin("##presentation", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoScrollWithMouse);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const Scene& s = app.scene;
    const ImVec2 win = ImGui::GetWindowPos();
    const float x0 = win.x + pad_x, x1 = win.x + io.DisplaySize.x - pad_x, W = x1 - x0;
    float y = win.y + pad_y;

    // Title line, the page number at the right.
    std::string page;
    if (L.scene_index >= 0 && !app.diverged()) page = std::to_string(L.scene_index + 1) + " / " + std::to_string(L.scene_files.size());
    const float page_w = page.empty() ? 0.0f : text_width(pg.font_for(pg.body_px()), pg.body_px(), page);
    if (!page.empty()) draw_text(pg, ImVec2(x1 - page_w, y + (pg.title_px() - pg.body_px()) * 0.6f), pg.body_px(), pg.dim, page);
    const float title_y = y;
    y += draw_wrapped(pg, ImVec2(x0, y), pg.title_px(), W - page_w - pad_x, pg.ink, app.display_title());
    app.ui_rects["presentation.title"] = {x0, title_y, x1, y};
    std::string note;
    const std::vector<Panel> panels = page_panels(app, note);
    std::string sub = s.n_heads == 1 ? "1 head" : "head " + std::to_string(app.sel.head) + " of " + count_noun(s.n_heads, "head") + " (0–" +
                                                      std::to_string(s.n_heads - 1) + ")";
    if (!note.empty()) sub += "  ·  " + note;
    sub += "  ·  " + count_noun(s.n(), "token") + "  ·  " + stage_name(shown_stage(app));
    if (s.mask.type != MaskType::None)  // why masks matter for cost: computed scores against n·m
        sub += "  ·  " + mask_phrase(s.mask) + " mask: " + format_count(s.mask.allowed_count(s.n(), s.m())) + " of " +
               format_count(static_cast<std::int64_t>(s.n()) * s.m()) + " scores computed";
    y += draw_wrapped(pg, ImVec2(x0, y), pg.small_px(), W, pg.dim, sub) + 4 * pg.k;
    dl->AddLine(ImVec2(x0, y), ImVec2(x1, y), ImGui::GetColorU32(ImGuiCol_Separator), std::max(1.0f, pg.k));
    y += 10 * pg.k;

    // Key hints at the bottom.
    std::string hints = "←/→ step   PgUp/PgDn scene   ↑/↓ query   H head   T theme   C colours   F1 help   F5 back";
    if (s.view_json.find("permuted") != std::string::npos) hints += "   P positions";
    if (s.view_json.find("d_head_presets") != std::string::npos) hints += "   1/2/3 d_k   +/− temperature";
    const float hints_h = wrapped_height(pg, pg.small_px(), W, hints);
    const float bottom = win.y + io.DisplaySize.y - pad_y * 0.6f - hints_h;
    draw_wrapped(pg, ImVec2(x0, bottom), pg.small_px(), W, pg.dim, hints);
    const float body_h = bottom - 10 * pg.k - y;
    app.ui_rects["presentation.body"] = {x0, y, x1, y + body_h};

    // Left: the heatmaps; right: the text. A single heatmap at steps 7–8 shares its side with
    // the shift plot (ΔE, E').
    const int count = static_cast<int>(panels.size());
    for (auto it = app.ui_rects.begin(); it != app.ui_rects.end();)  // this page's panels only
        it = it->first.rfind("presentation.", 0) == 0 && it->first != "presentation.title" && it->first != "presentation.body"
                 ? app.ui_rects.erase(it) : std::next(it);
    const bool with_shift = L.math_step >= 7 && count == 1 && s.n() <= kMaxPresentedCells;
    const float left_w = std::floor(W * (count > 1 || with_shift ? 0.64f : 0.5f));
    const float gap = 28 * pg.k;
    const float heat_w = with_shift ? std::floor(left_w * 0.5f) : left_w;
    if (with_shift) draw_shift_plot(app, pg, ImVec2(x0 + heat_w + gap * 0.5f, y), ImVec2(left_w - heat_w - gap * 0.5f, body_h));
    // Tiles as large as possible: grid_columns picks how many per row for the matrices' aspect.
    const float cap_h = pg.label_px() * 2.6f;
    const float aspect = static_cast<float>(std::max<Eigen::Index>(panels[0].values.cols(), 1)) /
                         static_cast<float>(std::max<Eigen::Index>(panels[0].values.rows(), 1));
    const int cols = grid_columns(count, heat_w, body_h, cap_h + pg.label_px() * 4, aspect);
    const int grid_rows = (count + cols - 1) / cols;
    const float tile_w = std::floor(heat_w / static_cast<float>(cols)), tile_h = std::floor(body_h / static_cast<float>(grid_rows));
    // Labels and numbers shrink with the tiles, within a readable range.
    const float label_px = std::clamp(std::min(tile_w, tile_h) / 14.0f, pg.small_px() * 0.8f, pg.label_px());
    AppState::Views& v = views(app);
    if (static_cast<int>(v.presentation.size()) < count) v.presentation.resize(static_cast<std::size_t>(count));
    for (int k = 0; k < count; ++k) {
        const Panel& P = panels[static_cast<std::size_t>(k)];
        const ImVec2 origin(x0 + tile_w * static_cast<float>(k % cols), y + tile_h * static_cast<float>(k / cols));
        const HeatmapResult r =
            draw_panel(app, pg, v.presentation[static_cast<std::size_t>(k)], P, origin, ImVec2(tile_w - gap * 0.6f, tile_h - gap * 0.4f),
                       label_px, k);
        app.ui_rects["presentation.panel" + std::to_string(k)] = {r.plot_min.x, r.plot_min.y, r.plot_max.x, r.plot_max.y};
        if (P.marked) app.ui_rects["presentation.marked"] = {r.plot_min.x, r.plot_min.y, r.plot_max.x, r.plot_max.y};
        if (r.hovered && P.selected_query) {
            app.sel.hover_query = r.hover_row;
            app.sel.hover_key = r.hover_col;
        }
        if (r.clicked && P.selected_query) {
            app.sel.query = r.hover_row;
            if (P.head >= 0) app.sel.head = P.head;
        }
    }

    // Right column: the explanation, then the current step of the math — fitted, never cut.
    const float rx = x0 + left_w + gap, rw = x1 - rx;
    float ry = y;
    const float text_top = ry;
    if (s.mask.type != MaskType::None && s.n() <= kMaxPresentedCells) {  // this scene's mask, named and drawn
        const float thumb = std::min(4.0f * pg.body_px(), body_h * 0.16f);
        draw_mask_thumbnail(pg, s, ImVec2(rx, ry), thumb);
        const float cap = draw_wrapped(pg, ImVec2(rx + thumb + 12 * pg.k, ry), pg.body_px() * 0.8f, rw - thumb - 12 * pg.k, pg.accent,
                                       "this scene's mask: " + mask_phrase(s.mask));
        ry += std::max(thumb, cap) + 12 * pg.k;
    }
    std::vector<ImU32> colours;
    const std::vector<Paragraph> ps = explanation_paragraphs(app, colours, pg);
    ImFont* body_font = pg.font_for(pg.body_px());
    const FittedParagraphs fit = fit_paragraphs(ps, rw, y + body_h - ry, pg.body_px(), pg.body_px() * 0.6f,
                                                [&](std::string_view t) { return text_width(body_font, 1.0f, t); });
    for (std::size_t k = 0; k < ps.size(); ++k) {
        const float px = fit.px * ps[k].rel_size;
        ry += ps[k].gap_before * px * 1.2f;
        for (const std::string& line : fit.lines[k]) {
            draw_text(pg, ImVec2(rx, ry), px, colours[k], line);
            ry += px * 1.2f;
        }
    }
    if (fit.dropped > 0)
        draw_text(pg, ImVec2(rx, ry), fit.px, pg.dim,
                  "… " + count_noun(fit.dropped, "more line", "more lines") + " not shown (the math panel lists them all)");
    app.ui_rects["presentation.text"] = {rx, text_top, x1, ry + (fit.dropped > 0 ? fit.px * 1.2f : 0.0f)};
    app.ui_rects["presentation.fit"] = {fit.px, static_cast<float>(fit.dropped), 0.0f, 0.0f};
    ImGui::End();
    ImGui::PopStyleVar();
    style = saved;
}

}  // namespace attnviz::app
