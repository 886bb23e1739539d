// attnviz app — the Q/K/V inspector: for the selected head and query, the query vector q_i, every
// key's k_j, the dot products q_i·k_j, the logits (×1/√d_head, /temperature) and the softmax
// weights — the vectors the lecture talks about, as colour strips on one shared scale.
// Every number comes from app.fwd (core's forward pass).
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "panels_plots.hpp"
#include "plot_draw.hpp"

namespace attnviz::app {

void DrawInspectorPanel(AppState& app) {
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

    const HeadResult& hr = app.fwd.heads[static_cast<std::size_t>(app.sel.head)];
    const int dh = static_cast<int>(hr.Q.cols());
    const auto& key_tokens = s.source ? s.source->tokens : s.input.tokens;
    // One colour scale for q and every k, so their entries compare.
    float vmax = hr.Q.row(query).cwiseAbs().maxCoeff();
    if (hr.K.size() > 0) vmax = std::max(vmax, hr.K.cwiseAbs().maxCoeff());
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
        const int hov = draw_strip(dl, pos, hr.Q.row(query).data(), dh, cell_w, cell_h, vmax, true);
        ImGui::Dummy(ImVec2(cell_w * static_cast<float>(dh), cell_h));
        if (hov >= 0) ImGui::SetTooltip("q_%d[%d] = %.7g", query, hov, static_cast<double>(hr.Q(query, hov)));
    }
    ImGui::TextDisabled("colour: blue < 0 < red, |max| %.3g. logit = q.k x %.4g (1/sqrt(d_head)%s)", static_cast<double>(vmax),
                        static_cast<double>(app.fwd.logit_factor), s.temperature != 1.0f ? " / temperature" : "");

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
    float score_max = m > 0 ? hr.scores.row(query).cwiseAbs().maxCoeff() : 1.0f;
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
            const int hov = draw_strip(ImGui::GetWindowDrawList(), pos, hr.K.row(j).data(), dh, cell_w, cell_h, vmax, true);
            ImGui::Dummy(ImVec2(cell_w * static_cast<float>(dh), cell_h));
            if (hov >= 0) ImGui::SetTooltip("k_%d[%d] = %.7g", j, hov, static_cast<double>(hr.K(j, hov)));
            ImGui::TableSetColumnIndex(2);
            const float score = hr.scores(query, j);
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(diverging_color(score, score_max * 1.5f)), "%.3f", static_cast<double>(score));
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("q_%d . k_%d = %.7g", query, j, static_cast<double>(score));
            ImGui::TableSetColumnIndex(3);
            if (allowed) ImGui::Text("%.3f", static_cast<double>(score * app.fwd.logit_factor));
            else ImGui::TextDisabled("masked");
            ImGui::TableSetColumnIndex(4);
            const float wgt = hr.pattern(query, j);
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

}  // namespace attnviz::app
