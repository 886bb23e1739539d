// attnviz app — the Q/K/V inspector: for the selected head and query, the query vector q_i, every
// key's k_j, the dot products q_i·k_j, the logits (×1/√d_head, /temperature) and the softmax
// weights — the vectors the lecture talks about, as colour strips on one shared scale.
// Every number comes from core: the forward pass (app.fwd) for short scenes; in long mode one
// query's row from PatternTiles (its Q, every key's K, the row's scores and weights: a row is
// cheap, the whole pattern is never needed).
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "panels.hpp"
#include "panels_plots.hpp"
#include "long_state.hpp"
#include "plot_draw.hpp"

namespace attnviz::app {

namespace {
// What the inspector shows for one head and one query.
struct InspectedRow {
    RowVec q;                  // (1, d_head) q_i
    const Mat* K = nullptr;    // (m, d_head) every key
    RowVec scores;             // (1, m) q_i·k_j
    RowVec weights;            // (1, m) softmax weights (0 where masked)
    float logit_factor = 1;
    std::shared_ptr<const PatternTiles> tiles;  // long mode: keeps K alive
};

// From the forward pass, or (long mode) from the statistics; false while those are being computed.
bool inspected_row(AppState& app, int head, int query, InspectedRow& row) {
    if (const std::shared_ptr<const PatternSource> src = app.patterns(); src && src->full()) {
        const HeadResult& hr = app.fwd.heads[static_cast<std::size_t>(head)];
        row.q = hr.Q.row(query);
        row.K = &hr.K;
        row.scores = hr.scores.row(query);
        row.weights = hr.pattern.row(query);
        row.logit_factor = app.fwd.logit_factor;
        return true;
    }
    const std::shared_ptr<const PatternTiles> tiles = long_state(app).ready(app.generation);
    if (!tiles || head >= tiles->n_heads() || query >= tiles->n()) return false;
    const HeadStats& hs = tiles->head(head);
    row.tiles = tiles;
    row.q = hs.Q.row(query);
    row.K = &hs.K;
    row.scores = tiles->score_tile(head, query, 0, 1, tiles->m());
    row.weights = tiles->tile(head, query, 0, 1, tiles->m());
    row.logit_factor = tiles->logit_factor();
    return true;
}
}  // namespace

// The panel's contents, inside its window.
static void inspector_panel_contents(AppState& app) {
    app.clamp_selection();
    const Scene& s = app.scene;
    const int n = s.n(), m = s.m();
    if (n == 0) {
        ImGui::TextDisabled("no tokens");
        return;
    }
    // ---- which head and query ----
    int head = app.sel.head;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    if (ImGui::SliderInt("head", &head, 0, s.n_heads - 1)) app.sel.head = std::clamp(head, 0, s.n_heads - 1);
    same_line_if_fits(labelled_width(ImGui::GetFontSize() * 8, "query"));
    int query = app.sel.query >= 0 ? app.sel.query : 0;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
    if (ImGui::SliderInt("query", &query, 0, n - 1)) app.sel.query = std::clamp(query, 0, n - 1);
    query = std::clamp(query, 0, n - 1);
    ImGui::SameLine();
    ImGui::Text("'%s'%s", s.input.tokens[static_cast<std::size_t>(query)].text.c_str(),
                app.sel.query < 0 ? "  (pick a query)" : "");

    InspectedRow row;
    if (!inspected_row(app, app.sel.head, query, row)) {
        ImGui::TextDisabled("long sequence: the statistics are being computed\xE2\x80\xA6");
        return;
    }
    const Mat& K = *row.K;
    const int dh = static_cast<int>(row.q.cols());
    const auto& key_tokens = s.source ? s.source->tokens : s.input.tokens;
    // One colour scale for q and every k, so their entries compare.
    float vmax = row.q.cwiseAbs().maxCoeff();
    if (K.size() > 0) vmax = std::max(vmax, K.cwiseAbs().maxCoeff());
    if (!(vmax > 0) || !std::isfinite(vmax)) vmax = 1;

    const float label_w = ImGui::GetFontSize() * 6;
    const float strip_w = std::max(60.0f, ImGui::GetContentRegionAvail().x - label_w - ImGui::GetFontSize() * 14);
    const float cell_w = std::clamp(strip_w / static_cast<float>(std::max(dh, 1)), 3.0f, 56.0f);
    const float cell_h = ImGui::GetTextLineHeight() + 2;
    ImDrawList* dl = ImGui::GetWindowDrawList();

    // ---- q_i ----
    ImGui::Text("q_%d", query);
    ImGui::SameLine(label_w);
    {
        const ImVec2 pos = ImGui::GetCursorScreenPos();
        const int hov = draw_strip(dl, pos, row.q.data(), dh, cell_w, cell_h, vmax, true);
        ImGui::Dummy(ImVec2(cell_w * static_cast<float>(dh), cell_h));
        MarkItem(app, "inspector.q");
        if (hov >= 0) ImGui::SetTooltip("q_%d[%d] = %.7g", query, hov, static_cast<double>(row.q(hov)));
    }
    ImGui::TextDisabled("colour: blue < 0 < red, |max| %.3g. logit = q.k x %.4g (1/sqrt(d_head)%s)", static_cast<double>(vmax),
                        static_cast<double>(row.logit_factor), s.temperature != 1.0f ? " / temperature" : "");

    // ---- every key ----
    const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_ScrollX | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit |
                                  ImGuiTableFlags_BordersInnerV;
    if (!ImGui::BeginTable("keys", 5, flags, ImVec2(0, ImGui::GetContentRegionAvail().y))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("key", ImGuiTableColumnFlags_WidthFixed, label_w - 8);
    ImGui::TableSetupColumn("k_j", ImGuiTableColumnFlags_WidthFixed, cell_w * static_cast<float>(dh));
    ImGui::TableSetupColumn("q.k_j", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 3.6f);
    ImGui::TableSetupColumn("logit", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 3.6f);
    ImGui::TableSetupColumn("weight", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 5);
    ImGui::TableHeadersRow();
    float score_max = m > 0 ? row.scores.cwiseAbs().maxCoeff() : 1.0f;
    if (!(score_max > 0) || !std::isfinite(score_max)) score_max = 1;
    ImGuiListClipper clipper;
    clipper.Begin(m, cell_h + ImGui::GetStyle().CellPadding.y * 2);
    while (clipper.Step()) {
        for (int j = clipper.DisplayStart; j < clipper.DisplayEnd; ++j) {
            const bool allowed = s.mask.allows(query, j);
            const bool highlighted = j == app.sel.key || j == app.sel.hover_key || j == app.sel.shown_hover_key;
            ImGui::TableNextRow(0, cell_h);
            if (highlighted) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, IM_COL32(120, 100, 20, 120));
            ImGui::TableSetColumnIndex(0);
            if (allowed) ImGui::Text("%d %s", j, key_tokens[static_cast<std::size_t>(j)].text.c_str());
            else ImGui::TextDisabled("%d %s", j, key_tokens[static_cast<std::size_t>(j)].text.c_str());
            if (ImGui::IsItemClicked()) app.sel.key = j;
            ImGui::TableSetColumnIndex(1);
            const ImVec2 pos = ImGui::GetCursorScreenPos();
            const RowVec k = K.row(j);  // (1, d_head), contiguous for the strip
            const int hov = draw_strip(ImGui::GetWindowDrawList(), pos, k.data(), dh, cell_w, cell_h, vmax, true);
            ImGui::Dummy(ImVec2(cell_w * static_cast<float>(dh), cell_h));
            if (hov >= 0) ImGui::SetTooltip("k_%d[%d] = %.7g", j, hov, static_cast<double>(K(j, hov)));
            ImGui::TableSetColumnIndex(2);
            const float score = row.scores(j);
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(diverging_color(score, score_max * 1.5f)), "%.3f", static_cast<double>(score));
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("q_%d . k_%d = %.7g", query, j, static_cast<double>(score));
            ImGui::TableSetColumnIndex(3);
            if (allowed) ImGui::Text("%.3f", static_cast<double>(score * row.logit_factor));
            else ImGui::TextDisabled("masked");
            ImGui::TableSetColumnIndex(4);
            const float wgt = row.weights(j);
            const ImVec2 bp = ImGui::GetCursorScreenPos();
            const float bw = std::max(10.0f, ImGui::GetContentRegionAvail().x);
            ImDrawList* tdl = ImGui::GetWindowDrawList();
            tdl->AddRectFilled(bp, ImVec2(bp.x + bw * std::clamp(wgt, 0.0f, 1.0f), bp.y + cell_h - 2), IM_COL32(230, 180, 40, 200));
            char buf[32];
            std::snprintf(buf, sizeof buf, allowed ? "%.3f" : "0", static_cast<double>(wgt));
            tdl->AddText(ImVec2(bp.x + 4, bp.y), IM_COL32(255, 255, 255, 255), buf);
            ImGui::Dummy(ImVec2(bw, cell_h - 2));
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("softmax weight of key %d for query %d: %.7g", j, query, static_cast<double>(wgt));
        }
    }
    ImGui::EndTable();
}

void DrawInspectorPanel(AppState& app) {
    SetNextPanelLayout(kInspectorWindow);
    // long mode too: one query's row is cheap (no full forward pass needed)
    if (ImGui::Begin(kInspectorWindow, &app.show_inspector)) inspector_panel_contents(app);
    ImGui::End();
}

}  // namespace attnviz::app
