// attnviz app — the embedding-shift panel: every token's E and E' = E + ΔE in one plane (PCA of
// E and E' together, or two picked dimensions), the arrow E → E', each head's ΔE_h as a link in a
// chain of arrows (heads switched on/off), labels, exact vectors on hover; below, a bar chart of
// ‖ΔE_h‖ per token and head. Numbers from core (projection.hpp over app.fwd).
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "panels.hpp"  // FigureButton
#include "panels_plots.hpp"
#include "plot_draw.hpp"

namespace attnviz::app {
namespace {

bool same(const Mat& a, const Mat& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0);
}

const std::string& token_text(const AppState& app, int i) {
    return app.scene.input.tokens[static_cast<std::size_t>(i)].text;
}

// The bar chart of ‖ΔE_h‖: one group of n_heads bars per token.
void draw_norm_bars(AppState& app, const ShiftPlot& sp, float height) {
    const int n = static_cast<int>(sp.norms.rows()), heads = static_cast<int>(sp.norms.cols());
    ImGui::Text("|%sE_h| per token and head", delta_symbol());
    if (n == 0 || heads == 0) return;
    const float avail = ImGui::GetContentRegionAvail().x;
    float max_norm = sp.norms.maxCoeff();
    if (!(max_norm > 0) || !std::isfinite(max_norm)) max_norm = 1;
    const float font_h = ImGui::GetTextLineHeight();
    const float group_w = std::max(avail / static_cast<float>(n), static_cast<float>(heads) * 4.0f + 6.0f);
    const float content_w = group_w * static_cast<float>(n);
    ImGui::SetNextWindowContentSize(ImVec2(content_w, 0));
    ImGui::BeginChild("norm_bars", ImVec2(0, height), false, ImGuiWindowFlags_HorizontalScrollbar);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const float scroll_bar = content_w > avail ? ImGui::GetStyle().ScrollbarSize : 0.0f;
    const float bar_h = std::max(10.0f, height - font_h - 8.0f - scroll_bar);
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const bool hovered_child = ImGui::IsWindowHovered();
    // Only the groups in view.
    const float scroll = ImGui::GetScrollX();
    const int first = std::max(0, static_cast<int>(scroll / group_w) - 1);
    const int last = std::min(n - 1, static_cast<int>((scroll + avail) / group_w) + 1);
    const float bar_w = (group_w - 6.0f) / static_cast<float>(heads);
    const float base_y = origin.y + bar_h;
    dl->AddLine(ImVec2(origin.x + first * group_w, base_y), ImVec2(origin.x + (last + 1) * group_w, base_y),
                IM_COL32(140, 140, 140, 255));
    const int hovered_row = app.sel.hover_query >= 0 ? app.sel.hover_query : app.sel.shown_hover_query;
    for (int i = first; i <= last; ++i) {
        const float gx = origin.x + static_cast<float>(i) * group_w + 3.0f;
        if (i == app.sel.query || i == hovered_row)
            dl->AddRectFilled(ImVec2(gx - 3, origin.y), ImVec2(gx + group_w - 3, base_y), IM_COL32(255, 255, 255, 28));
        for (int h = 0; h < heads; ++h) {
            const float v = sp.norms(i, h);
            const float top = base_y - bar_h * std::clamp(v / max_norm, 0.0f, 1.0f);
            const ImVec2 a(gx + static_cast<float>(h) * bar_w, top), b(gx + static_cast<float>(h + 1) * bar_w - (bar_w > 3 ? 1.0f : 0.0f), base_y);
            const bool on = h >= static_cast<int>(app.plots.heads_on.size()) || app.plots.heads_on[static_cast<std::size_t>(h)];
            dl->AddRectFilled(a, b, head_color(h, on ? 1.0f : 0.35f));
            if (hovered_child && mouse.x >= a.x && mouse.x < b.x && mouse.y >= origin.y && mouse.y < base_y) {
                ImGui::SetTooltip("token %d '%s', head %d\n|%sE_%d| = %.6g", i, token_text(app, i).c_str(), h, delta_symbol(), h, v);
            }
        }
        const std::string& t = token_text(app, i);
        const ImVec2 ts = ImGui::CalcTextSize(t.c_str());
        if (ts.x <= group_w - 2)
            dl->AddText(ImVec2(gx - 3 + 0.5f * (group_w - ts.x), base_y + 3), IM_COL32(220, 220, 220, 255), t.c_str());
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, "max %.3g", max_norm);
    dl->AddText(ImVec2(origin.x + scroll + avail - ImGui::CalcTextSize(buf).x - 4, origin.y), IM_COL32(170, 170, 170, 255), buf);
    ImGui::Dummy(ImVec2(content_w, bar_h + font_h + 4));
    ImGui::EndChild();
}

}  // namespace

const ShiftPlot& shift_plot_data(AppState& app) {
    PlotsView& pv = app.plots;
    const Forward& f = app.fwd;
    pv.heads_on.resize(static_cast<std::size_t>(f.heads.size()), true);
    const int d = static_cast<int>(f.E.cols());
    for (int& dim : pv.shift_dims) dim = std::clamp(dim, 0, std::max(0, d - 1));
    const bool fresh = pv.shift_valid && same(pv.shift_key_E, f.E) && same(pv.shift_key_out, f.output) &&
                       pv.shift_key_heads == pv.heads_on && pv.shift_key_mode == pv.shift_mode &&
                       pv.shift_key_magnify == pv.shift_magnify &&
                       (pv.shift_mode == PlaneMode::Pca ||
                        (pv.shift_key_dims[0] == pv.shift_dims[0] && pv.shift_key_dims[1] == pv.shift_dims[1]));
    if (!(pv.shift_magnify >= 1.0f && pv.shift_magnify <= 100.0f)) pv.shift_magnify = 1.0f;
    if (!fresh) {
        PlaneMode mode = pv.shift_mode;
        if (mode == PlaneMode::Dims && d < 1) mode = PlaneMode::Pca;
        pv.shift = shift_plot(f, pv.heads_on, mode, pv.shift_dims[0], pv.shift_dims[1], pv.shift_magnify);
        pv.shift_key_magnify = pv.shift_magnify;
        pv.shift_key_E = f.E;
        pv.shift_key_out = f.output;
        pv.shift_key_heads = pv.heads_on;
        pv.shift_key_mode = pv.shift_mode;
        pv.shift_key_dims[0] = pv.shift_dims[0];
        pv.shift_key_dims[1] = pv.shift_dims[1];
        pv.shift_valid = true;
    }
    return pv.shift;
}

// The panel's contents, inside its window.
static void shift_panel_contents(AppState& app) {
    PlotsView& pv = app.plots;
    const Forward& f = app.fwd;
    const int n = static_cast<int>(f.E.rows()), d = static_cast<int>(f.E.cols());
    const char* D = delta_symbol();

    // ---- controls ----
    int mode = static_cast<int>(pv.shift_mode);
    ImGui::TextDisabled("plane:");
    same_line_if_fits(checkbox_width("E and E'"));
    ImGui::RadioButton("E and E'", &mode, static_cast<int>(PlaneMode::Pca));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("plane: PCA of E and E' together (the two directions in which they spread most)");
    same_line_if_fits(checkbox_width("shifts"));
    ImGui::RadioButton("shifts", &mode, static_cast<int>(PlaneMode::ShiftPca));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("plane: PCA of the shifts %sE (the directions in which attention moves tokens)", D);
    same_line_if_fits(checkbox_width("2 dims"));
    ImGui::RadioButton("2 dims", &mode, static_cast<int>(PlaneMode::Dims));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("plane: two dimensions of the embedding that you pick");
    pv.shift_mode = static_cast<PlaneMode>(std::clamp(mode, 0, 2));
    if (pv.shift_mode == PlaneMode::Dims) {
        same_line_if_fits(labelled_width(ImGui::GetFontSize() * 7, "x, y dim"));
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
        ImGui::SliderInt2("x, y dim", pv.shift_dims, 0, std::max(0, d - 1));
    }
    same_line_if_fits(checkbox_width("E->E'"));
    ImGui::Checkbox("E->E'", &pv.shift_total);
    same_line_if_fits(checkbox_width("chain"));
    ImGui::Checkbox("chain", &pv.shift_chain);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("each head's %sE_h as one link of a chain of arrows, in its colour", D);
    same_line_if_fits(checkbox_width("labels"));
    ImGui::Checkbox("labels", &pv.shift_labels);
    same_line_if_fits(labelled_width(ImGui::GetFontSize() * 3.5f, "x"));
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 3.5f);
    ImGui::SliderFloat("x", &pv.shift_magnify, 1.0f, 10.0f, "%.1f", ImGuiSliderFlags_Logarithmic);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("draw every shift %sE k times longer (display only; hover shows true numbers)", D);
    pv.heads_on.resize(f.heads.size(), true);
    same_line_if_fits(ImGui::CalcTextSize("heads:").x);
    ImGui::TextDisabled("heads:");
    for (std::size_t h = 0; h < pv.heads_on.size(); ++h) {
        char label[32];
        std::snprintf(label, sizeof label, "h%zu", h);
        same_line_if_fits(checkbox_width(label));
        bool on = pv.heads_on[h];
        ImGui::PushID(static_cast<int>(h));
        ImGui::PushStyleColor(ImGuiCol_CheckMark, ImGui::ColorConvertU32ToFloat4(head_color(static_cast<int>(h))));
        if (ImGui::Checkbox(label, &on)) pv.heads_on[h] = on;
        ImGui::PopStyleColor();
        ImGui::PopID();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("head %zu's %sE_h in the chain", h, D);
    }
    if (const auto src = app.patterns(); n > 0 && src && src->full()) {  // E → E' in two embedding dimensions (core's figure)
        same_line_if_fits(ImGui::CalcTextSize("Export PNG Export SVG").x + checkbox_width("dark") + ImGui::GetFontSize());
        FigureButton(app, "shift", [&](const FigureOptions& o) { return figure_shift(app.scene, app.fwd, o); });
    }

    const ShiftPlot& sp = shift_plot_data(app);

    // ---- the plot ----
    const float bars_h = std::clamp(ImGui::GetContentRegionAvail().y * 0.2f, 52.0f, 140.0f);
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const ImVec2 size(std::max(avail.x, 100.0f), std::max(avail.y - bars_h - ImGui::GetFrameHeightWithSpacing(), 100.0f));
    ImGui::InvisibleButton("shift_canvas", size);
    const bool canvas_hovered = ImGui::IsItemHovered();
    const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
    const ImVec2 p1(p0.x + size.x, p0.y + size.y);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->PushClipRect(p0, p1, true);
    dl->AddRectFilled(p0, p1, IM_COL32(22, 24, 30, 255));

    float lo_x = 1e30f, lo_y = 1e30f, hi_x = -1e30f, hi_y = -1e30f;
    grow_box(sp.before, lo_x, lo_y, hi_x, hi_y);
    grow_box(sp.after, lo_x, lo_y, hi_x, hi_y);
    if (pv.shift_chain)
        for (const Mat& c : sp.chain) grow_box(c, lo_x, lo_y, hi_x, hi_y);
    const float font_h = ImGui::GetTextLineHeight();
    const PlotFrame fr = fit_frame(p0, ImVec2(p1.x, p1.y - font_h - 4), lo_x, lo_y, hi_x, hi_y, 36.0f);
    pv.shift_frame = fr;

    // Axes through the origin of the plane (the mean of E and E' for PCA).
    const ImU32 axis_col = IM_COL32(70, 74, 84, 255);
    dl->AddLine(ImVec2(p0.x, fr.to_y(0)), ImVec2(p1.x, fr.to_y(0)), axis_col);
    dl->AddLine(ImVec2(fr.to_x(0), p0.y), ImVec2(fr.to_x(0), p1.y), axis_col);
    char caption[160];
    if (pv.shift_mode == PlaneMode::ShiftPca) {
        const float tot = sp.plane.total_variance > 0 ? sp.plane.total_variance : 1.0f;
        std::snprintf(caption, sizeof caption, "plane of the shifts: %.0f%% + %.0f%% of their spread",
                      100.0f * sp.plane.variance[0] / tot, 100.0f * sp.plane.variance[1] / tot);
    } else if (pv.shift_mode == PlaneMode::Pca) {
        const float tot = sp.plane.total_variance > 0 ? sp.plane.total_variance : 1.0f;
        std::snprintf(caption, sizeof caption, "PCA of E and E': %.0f%% + %.0f%% of the spread", 100.0f * sp.plane.variance[0] / tot,
                      100.0f * sp.plane.variance[1] / tot);
    } else {
        std::snprintf(caption, sizeof caption, "x: dimension %d, y: dimension %d", pv.shift_dims[0], pv.shift_dims[1]);
    }
    if (pv.shift_magnify != 1.0f) {
        const std::size_t len = std::strlen(caption);
        std::snprintf(caption + len, sizeof caption - len, "   shifts drawn x%.1f", static_cast<double>(pv.shift_magnify));
    }
    dl->AddText(ImVec2(p0.x + 6, p1.y - font_h - 2), IM_COL32(150, 150, 160, 255), caption);

    // Chain links (head colours), then the total arrows, then the points. Past a few hundred
    // tokens (an O(n) ImDrawList plot): the chain only for the highlighted token, thin arrows.
    // Hovered in a view drawn earlier this frame, else last frame's hover (any view), else selected.
    const int hovered = app.sel.hover_query >= 0 ? app.sel.hover_query : app.sel.shown_hover_query;
    const int highlight = hovered >= 0 ? hovered : app.sel.query;
    const bool dense = n > 300;
    const float head_px = dense ? 0.0f : 9.0f;
    if (pv.shift_chain)
        for (std::size_t k = 1; k < sp.chain.size(); ++k) {
            const ImU32 col = head_color(sp.chain_heads[k - 1], 0.9f);
            for (int i = 0; i < n; ++i) {
                if (dense && i != highlight) continue;
                draw_arrow(dl, to_screen(fr, sp.chain[k - 1](i, 0), sp.chain[k - 1](i, 1)),
                           to_screen(fr, sp.chain[k](i, 0), sp.chain[k](i, 1)), col, 2.5f, 9.0f);
            }
        }
    if (pv.shift_total)
        for (int i = 0; i < n; ++i)
            draw_arrow(dl, to_screen(fr, sp.before(i, 0), sp.before(i, 1)), to_screen(fr, sp.after(i, 0), sp.after(i, 1)),
                       IM_COL32(235, 235, 235, dense ? 110 : 200), dense ? 1.0f : 1.5f, head_px);

    const float r = dense ? 2.0f : 5.0f;
    const int segments = dense ? 6 : 12;
    for (int i = 0; i < n; ++i) {
        const ImVec2 e = to_screen(fr, sp.before(i, 0), sp.before(i, 1));
        const ImVec2 e2 = to_screen(fr, sp.after(i, 0), sp.after(i, 1));
        dl->AddCircle(e, r - 0.5f, IM_COL32(170, 170, 180, 255), segments, dense ? 1.0f : 1.5f);
        dl->AddCircleFilled(e2, r, IM_COL32(255, 255, 255, 255), segments);
        if (i == highlight || i == app.sel.query) {
            const ImU32 ring = IM_COL32(255, 220, 60, 255);
            dl->AddCircle(e, 9.0f, ring, 16, 2.0f);
            dl->AddCircle(e2, 9.0f, ring, 16, 2.0f);
        }
    }
    // Labels: every E' (white) first, then E (grey) where there is room left.
    if (pv.shift_labels && (n <= 64)) {
        LabelPlacer labels;
        for (int i = 0; i < n; ++i)
            labels.place(dl, to_screen(fr, sp.after(i, 0), sp.after(i, 1)), token_text(app, i).c_str(), IM_COL32(255, 255, 255, 255), true);
        for (int i = 0; i < n; ++i) {
            const ImVec2 e = to_screen(fr, sp.before(i, 0), sp.before(i, 1));
            const ImVec2 e2 = to_screen(fr, sp.after(i, 0), sp.after(i, 1));
            if (std::fabs(e2.x - e.x) + std::fabs(e2.y - e.y) > font_h)
                labels.place(dl, e, token_text(app, i).c_str(), IM_COL32(150, 150, 160, 255), false);
        }
    } else if (highlight >= 0 && highlight < n) {
        const ImVec2 e2 = to_screen(fr, sp.after(highlight, 0), sp.after(highlight, 1));
        dl->AddText(ImVec2(e2.x + 7, e2.y - 0.5f * font_h), IM_COL32(255, 255, 255, 255), token_text(app, highlight).c_str());
    }

    // ---- hover: the nearest point within 10 px (E, E' or a link of the chain) ----
    int hover_token = -1, hover_kind = 0;  // kind 0 = E, 1 = E', 2+k = chain[k]
    if (canvas_hovered) {
        const ImVec2 m = ImGui::GetIO().MousePos;
        float best = 10.0f * 10.0f;
        auto consider = [&](const Mat& pts, int kind) {
            for (int i = 0; i < n; ++i) {
                const float dx = fr.to_x(pts(i, 0)) - m.x, dy = fr.to_y(pts(i, 1)) - m.y;
                if (dx * dx + dy * dy <= best) {
                    best = dx * dx + dy * dy;
                    hover_token = i;
                    hover_kind = kind;
                }
            }
        };
        if (pv.shift_chain)
            for (std::size_t k = 1; k + 1 < sp.chain.size(); ++k) consider(sp.chain[k], 2 + static_cast<int>(k));
        consider(sp.before, 0);
        consider(sp.after, 1);
    }
    dl->PopClipRect();
    if (hover_token >= 0) {
        const int i = hover_token;
        std::string what;
        Mat vec;  // (1, d)
        if (hover_kind == 0) {
            what = "E (before attention)";
            vec = f.E.row(i);
        } else if (hover_kind == 1) {
            what = "E' = E + " + std::string(D) + "E (after attention)";
            vec = f.output.row(i);
        } else {
            const std::size_t k = static_cast<std::size_t>(hover_kind - 2);
            vec = f.E.row(i);
            what = "E";
            for (std::size_t c = 0; c < k; ++c) {
                const int h = sp.chain_heads[c];
                vec += f.heads[static_cast<std::size_t>(h)].delta.row(i);
                what += " + " + std::string(D) + "E_" + std::to_string(h);
            }
        }
        ImGui::BeginTooltip();
        ImGui::Text("token %d '%s': %s", i, token_text(app, i).c_str(), what.c_str());
        ImGui::TextUnformatted(format_vector(vec.row(0), 24).c_str());
        ImGui::Text("%sE = %s", D, format_vector(f.delta.row(i), 24).c_str());
        for (std::size_t h = 0; h < f.heads.size() && h < 8; ++h)
            ImGui::Text("|%sE_%zu| = %.4g", D, h, static_cast<double>(sp.norms(i, static_cast<Eigen::Index>(h))));
        ImGui::EndTooltip();
        app.sel.hover_query = i;  // the window clears it every frame; other views outline it
        if (clicked) app.sel.query = i;
    }

    // ---- ‖ΔE_h‖ bars ----
    draw_norm_bars(app, sp, bars_h);
}

void DrawShiftPanel(AppState& app) {
    SetNextPanelLayout(kShiftWindow);
    if (ImGui::Begin(kShiftWindow, &app.show_shift) && FullForwardOrNotice(app, kShiftWindow)) shift_panel_contents(app);
    ImGui::End();
}

}  // namespace attnviz::app
