// attnviz app — the query–key panel: every q and k vector of the selected head projected together
// into one plane (PCA of both, after AttentionViz's key translation and norm balancing, neither of
// which changes the pattern), so a query sits near the keys it attends to. Hovering a point links
// it to its token and to the heatmaps (sel.hover_query / sel.hover_key); clicking selects it.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "panels.hpp"
#include "panels_plots.hpp"
#include "plot_draw.hpp"

namespace attnviz::app {
namespace {

bool same(const Mat& a, const Mat& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0);
}

const std::vector<Token>& key_tokens(const AppState& app) {
    return app.scene.source ? app.scene.source->tokens : app.scene.input.tokens;
}

constexpr ImU32 kQueryColor = IM_COL32(255, 150, 60, 255);
constexpr ImU32 kKeyColor = IM_COL32(70, 190, 255, 255);

}  // namespace

const QKPlot& qk_plot_data(AppState& app) {
    PlotsView& pv = app.plots;
    app.clamp_selection();
    const HeadResult& h = app.fwd.heads[static_cast<std::size_t>(app.sel.head)];
    const bool fresh = pv.qk_valid && same(pv.qk_key_Q, h.Q) && same(pv.qk_key_K, h.K) &&
                       pv.qk_key_center == pv.qk.center_keys && pv.qk_key_balance == pv.qk.balance_norms;
    if (!fresh) {
        pv.qkplot = qk_plot(h, pv.qk);
        pv.qk_key_Q = h.Q;
        pv.qk_key_K = h.K;
        pv.qk_key_center = pv.qk.center_keys;
        pv.qk_key_balance = pv.qk.balance_norms;
        pv.qk_valid = true;
    }
    return pv.qkplot;
}

// The panel's contents, inside its window.
static void qk_panel_contents(AppState& app) {
    PlotsView& pv = app.plots;
    app.clamp_selection();

    // ---- controls ----
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    int hsel = app.sel.head;
    if (ImGui::SliderInt("head", &hsel, 0, app.scene.n_heads - 1)) app.sel.head = std::clamp(hsel, 0, app.scene.n_heads - 1);
    same_line_if_fits(checkbox_width("centre"));
    ImGui::Checkbox("centre", &pv.qk.center_keys);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("move every key by (mean q - mean k): q.(k+c) adds the same number to a\n"
                          "whole row of scores, so the pattern does not change (as in AttentionViz)");
    same_line_if_fits(checkbox_width("balance"));
    ImGui::Checkbox("balance", &pv.qk.balance_norms);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("scale queries by s and keys by 1/s so their mean lengths match: q.k unchanged");
    same_line_if_fits(checkbox_width("lines"));
    ImGui::Checkbox("lines", &pv.qk_lines);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("lines from the hovered/selected query to the keys it attends to (opacity = weight)");
    same_line_if_fits(checkbox_width("labels"));
    ImGui::Checkbox("labels", &pv.qk_labels);
    // the same projection as a clean figure (core/figure.hpp figure_qk: queries, keys, labels, axes)
    same_line_if_fits(ImGui::CalcTextSize("Export PNG Export SVG").x + checkbox_width("dark") + ImGui::GetFontSize() * 2);
    FigureButton(app, "qk_h" + std::to_string(app.sel.head),
                 [&](const FigureOptions& o) { return figure_qk(app.scene, app.fwd, app.sel.head, pv.qk, o); });

    const QKPlot& qp = qk_plot_data(app);
    const int head = app.sel.head;
    const HeadResult& hr = app.fwd.heads[static_cast<std::size_t>(head)];
    const int n = static_cast<int>(hr.Q.rows()), m = static_cast<int>(hr.K.rows()), dh = static_cast<int>(hr.Q.cols());

    // ---- the plot ----
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const ImVec2 size(std::max(avail.x, 100.0f), std::max(avail.y, 100.0f));
    ImGui::InvisibleButton("qk_canvas", size);
    const bool canvas_hovered = ImGui::IsItemHovered();
    const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
    const ImVec2 p1(p0.x + size.x, p0.y + size.y);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->PushClipRect(p0, p1, true);
    dl->AddRectFilled(p0, p1, IM_COL32(22, 24, 30, 255));
    const float font_h = ImGui::GetTextLineHeight();

    float lo_x = 1e30f, lo_y = 1e30f, hi_x = -1e30f, hi_y = -1e30f;
    grow_box(qp.queries, lo_x, lo_y, hi_x, hi_y);
    grow_box(qp.keys, lo_x, lo_y, hi_x, hi_y);
    const PlotFrame fr = fit_frame(p0, ImVec2(p1.x, p1.y - font_h - 4), lo_x, lo_y, hi_x, hi_y, 36.0f);
    pv.qk_frame = fr;
    const ImU32 axis_col = IM_COL32(70, 74, 84, 255);
    dl->AddLine(ImVec2(p0.x, fr.to_y(0)), ImVec2(p1.x, fr.to_y(0)), axis_col);
    dl->AddLine(ImVec2(fr.to_x(0), p0.y), ImVec2(fr.to_x(0), p1.y), axis_col);

    // ---- hover: nearest q or k within 10 px ----
    int hover_q = -1, hover_k = -1;
    if (canvas_hovered) {
        const ImVec2 mp = ImGui::GetIO().MousePos;
        float best = 10.0f * 10.0f;
        for (int i = 0; i < n; ++i) {
            const float dx = fr.to_x(qp.queries(i, 0)) - mp.x, dy = fr.to_y(qp.queries(i, 1)) - mp.y;
            if (dx * dx + dy * dy <= best) { best = dx * dx + dy * dy; hover_q = i; hover_k = -1; }
        }
        for (int j = 0; j < m; ++j) {
            const float dx = fr.to_x(qp.keys(j, 0)) - mp.x, dy = fr.to_y(qp.keys(j, 1)) - mp.y;
            if (dx * dx + dy * dy <= best) { best = dx * dx + dy * dy; hover_k = j; hover_q = -1; }
        }
    }
    if (hover_q >= 0 || hover_k >= 0) {
        // The window clears these every frame; the heatmaps outline them.
        app.sel.hover_query = hover_q;
        app.sel.hover_key = hover_k;
        if (clicked) {
            if (hover_q >= 0) app.sel.query = hover_q;
            if (hover_k >= 0) app.sel.key = hover_k;
        }
    }

    // Lines from the highlighted query to every key, as opaque as its attention weight.
    // Hovered here or in a view drawn earlier this frame, else last frame's hover, else selected.
    const int any_hq = app.sel.hover_query >= 0 ? app.sel.hover_query : app.sel.shown_hover_query;
    const int any_hk = app.sel.hover_key >= 0 ? app.sel.hover_key : app.sel.shown_hover_key;
    const int hq = any_hq >= 0 ? any_hq : app.sel.query;
    const int hk = any_hk >= 0 ? any_hk : app.sel.key;
    if (pv.qk_lines && hq >= 0 && hq < n) {
        const ImVec2 a = to_screen(fr, qp.queries(hq, 0), qp.queries(hq, 1));
        for (int j = 0; j < m; ++j) {
            const float w = hr.pattern(hq, j);
            if (!(w > 0.01f)) continue;
            dl->AddLine(a, to_screen(fr, qp.keys(j, 0), qp.keys(j, 1)), IM_COL32(255, 220, 60, static_cast<int>(40 + 215 * std::min(w, 1.0f))),
                        1.0f + 4.0f * w);
        }
    }

    // Points: keys as squares, queries as circles.
    const float r = n + m > 400 ? 2.5f : 5.0f;
    for (int j = 0; j < m; ++j) {
        const ImVec2 c = to_screen(fr, qp.keys(j, 0), qp.keys(j, 1));
        dl->AddRectFilled(ImVec2(c.x - r, c.y - r), ImVec2(c.x + r, c.y + r), kKeyColor);
    }
    for (int i = 0; i < n; ++i) dl->AddCircleFilled(to_screen(fr, qp.queries(i, 0), qp.queries(i, 1)), r + 0.5f, kQueryColor, n + m > 400 ? 6 : 12);
    const ImU32 ring = IM_COL32(255, 220, 60, 255);
    if (hq >= 0 && hq < n) dl->AddCircle(to_screen(fr, qp.queries(hq, 0), qp.queries(hq, 1)), r + 5, ring, 16, 2.0f);
    if (hk >= 0 && hk < m) {
        const ImVec2 c = to_screen(fr, qp.keys(hk, 0), qp.keys(hk, 1));
        dl->AddRect(ImVec2(c.x - r - 4, c.y - r - 4), ImVec2(c.x + r + 4, c.y + r + 4), ring, 0, 0, 2.0f);
    }
    if (pv.qk_labels && n + m <= 128) {
        const auto& kt = key_tokens(app);
        LabelPlacer labels;
        const float lh = ImGui::GetTextLineHeight();  // keep the legend's corner free
        labels.placed.emplace_back(p0.x, p0.y, p0.x + ImGui::CalcTextSize("query q_i    key k_j").x + 30, p0.y + lh + 8);
        for (int i = 0; i < n; ++i)
            labels.place(dl, to_screen(fr, qp.queries(i, 0), qp.queries(i, 1)), app.scene.input.tokens[static_cast<std::size_t>(i)].text.c_str(),
                         kQueryColor, n + m <= 40);
        for (int j = 0; j < m; ++j)
            labels.place(dl, to_screen(fr, qp.keys(j, 0), qp.keys(j, 1)), kt[static_cast<std::size_t>(j)].text.c_str(), kKeyColor, n + m <= 40);
    }
    // Legend and caption.
    const float lx = p0.x + 8, ly = p0.y + 6;
    dl->AddCircleFilled(ImVec2(lx + 5, ly + 0.5f * font_h), 5, kQueryColor);
    dl->AddText(ImVec2(lx + 14, ly), kQueryColor, "query q_i");
    const float kx = lx + 24 + ImGui::CalcTextSize("query q_i").x;
    dl->AddRectFilled(ImVec2(kx, ly + 0.5f * font_h - 5), ImVec2(kx + 10, ly + 0.5f * font_h + 5), kKeyColor);
    dl->AddText(ImVec2(kx + 14, ly), kKeyColor, "key k_j");
    char caption[128];
    const float tot = qp.plane.total_variance > 0 ? qp.plane.total_variance : 1.0f;
    std::snprintf(caption, sizeof caption, "head %d, PCA of q and k (d_head %d): %.0f%% + %.0f%% of the spread", head, dh,
                  100.0f * qp.plane.variance[0] / tot, 100.0f * qp.plane.variance[1] / tot);
    dl->AddText(ImVec2(p0.x + 6, p1.y - font_h - 2), IM_COL32(150, 150, 160, 255), caption);
    dl->PopClipRect();

    if (hover_q >= 0) {
        ImGui::BeginTooltip();
        ImGui::Text("query %d '%s' (heatmap row %d)", hover_q, app.scene.input.tokens[static_cast<std::size_t>(hover_q)].text.c_str(), hover_q);
        ImGui::Text("q = %s", format_vector(hr.Q.row(hover_q), 24).c_str());
        int best = 0;
        for (int j = 1; j < m; ++j)
            if (hr.pattern(hover_q, j) > hr.pattern(hover_q, best)) best = j;
        if (m > 0)
            ImGui::Text("attends most to key %d '%s' (weight %.3f)", best, key_tokens(app)[static_cast<std::size_t>(best)].text.c_str(),
                        static_cast<double>(hr.pattern(hover_q, best)));
        ImGui::EndTooltip();
    } else if (hover_k >= 0) {
        ImGui::BeginTooltip();
        ImGui::Text("key %d '%s' (heatmap column %d)", hover_k, key_tokens(app)[static_cast<std::size_t>(hover_k)].text.c_str(), hover_k);
        ImGui::Text("k = %s", format_vector(hr.K.row(hover_k), 24).c_str());
        ImGui::EndTooltip();
    }
}

void DrawQKPanel(AppState& app) {
    SetNextPanelLayout(kQKWindow);
    if (ImGui::Begin(kQKWindow, &app.show_qk) && FullForwardOrNotice(app, kQKWindow)) qk_panel_contents(app);
    ImGui::End();
}

}  // namespace attnviz::app
