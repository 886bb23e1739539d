// attnviz app — head labels: every head of the model scored as previous-token, induction,
// duplicate-token, first-token ("sink"), local window and entropy, in a sortable table and as a
// layers × heads map of one chosen score. A click on a row or a cell opens that head in every view.
//
// [SECTION] The map (layers × heads, coloured cells with numbers)
// [SECTION] The panel
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "colormap.hpp"
#include "model_doc.hpp"
#include "panels.hpp"
#include "panels_analysis.hpp"

namespace attnviz::app {

namespace {
// The table's score columns, in order after Layer and Head.
constexpr HeadScore kColumns[] = {HeadScore::PreviousToken, HeadScore::Induction,  HeadScore::DuplicateToken,
                                  HeadScore::FirstToken,    HeadScore::LocalWindow, HeadScore::Entropy};

const char* score_tip(HeadScore s) {
    switch (s) {
        case HeadScore::PreviousToken: return "mean weight on the token just before (this text)";
        case HeadScore::Induction:
            return "random tokens repeated twice: mean weight on the token after the earlier copy of the current one";
        case HeadScore::DuplicateToken: return "random tokens repeated twice: mean weight on the earlier copy of the current token";
        case HeadScore::FirstToken: return "mean weight on the first token, the \"attention sink\" (this text)";
        case HeadScore::LocalWindow: return "mean weight on the last 3 tokens, the current one included (this text)";
        case HeadScore::Entropy: return "mean entropy of a row in nats: 0 = one key, ln(i+1) = uniform (this text)";
        case HeadScore::Count: break;
    }
    return "";
}

// ---------------------------------------------------------------------------------------------
// [SECTION] The map
// ---------------------------------------------------------------------------------------------
// Layers down, heads across; each cell coloured by the score on the data's own range, its number
// drawn when it fits; the selected head outlined. Returns true with (layer, head) on a click.
bool DrawScoreMap(AppState& s, const std::vector<HeadLabelScores>& scores, HeadScore which, int L, int H, int sel_l, int sel_h,
                  int& click_l, int& click_h) {
    ImGui::Dummy(ImVec2(0, 0));
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float font = ImGui::GetFontSize();
    const float row_label_w = ImGui::CalcTextSize("L00").x + font * 0.5f;
    const float head_label_h = ImGui::GetTextLineHeight() + 2.0f;
    const float cell = std::max(6.0f, std::floor(std::min((avail.x - row_label_w) / static_cast<float>(H),
                                                          (avail.y - head_label_h) / static_cast<float>(L))));
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const ImVec2 plot0(origin.x + row_label_w, origin.y + head_label_h);
    const ImVec2 size(row_label_w + cell * static_cast<float>(H), head_label_h + cell * static_cast<float>(L));
    ImGui::InvisibleButton("labels.map", size);
    MarkItem(s, "labels.map");
    const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
    const bool hovered = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    double lo = 1e300, hi = -1e300;
    for (const auto& x : scores) {
        lo = std::min(lo, head_score(x, which));
        hi = std::max(hi, head_score(x, which));
    }
    const ColormapLut lut = colormap_lut(Colormap::Viridis);
    const bool numbers = cell >= ImGui::CalcTextSize("0.00").x + 4.0f;
    const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text);
    char buf[32];
    for (int h = 0; h < H; ++h) {
        std::snprintf(buf, sizeof buf, "%d", h);
        const float tw = ImGui::CalcTextSize(buf).x;
        if (tw <= cell || h % std::max(1, static_cast<int>(std::ceil((tw + 4.0f) / cell))) == 0)
            dl->AddText(ImVec2(plot0.x + cell * (static_cast<float>(h) + 0.5f) - tw * 0.5f, origin.y), text_col, buf);
    }
    const int row_step = cell >= ImGui::GetTextLineHeight() ? 1 : static_cast<int>(std::ceil(ImGui::GetTextLineHeight() / cell));
    for (int l = 0; l < L; ++l) {
        if (l % row_step == 0) {
            std::snprintf(buf, sizeof buf, "L%d", l);
            dl->AddText(ImVec2(origin.x, plot0.y + cell * static_cast<float>(l) + (cell - ImGui::GetTextLineHeight()) * 0.5f), text_col,
                        buf);
        }
    }
    for (const auto& x : scores) {
        const double v = head_score(x, which);
        const float t = hi > lo ? static_cast<float>((v - lo) / (hi - lo)) : 0.5f;
        const Rgba8 c = lut_color(lut, t);
        const ImVec2 a(plot0.x + cell * static_cast<float>(x.head), plot0.y + cell * static_cast<float>(x.layer));
        const ImVec2 b(a.x + cell, a.y + cell);
        dl->AddRectFilled(a, b, IM_COL32(c[0], c[1], c[2], 255));
        if (numbers) {
            std::snprintf(buf, sizeof buf, "%.2f", v);
            const ImVec2 ts = ImGui::CalcTextSize(buf);
            dl->AddText(ImVec2(a.x + (cell - ts.x) * 0.5f, a.y + (cell - ts.y) * 0.5f),
                        dark_text_on(c) ? IM_COL32(0, 0, 0, 255) : IM_COL32(255, 255, 255, 255), buf);
        }
    }
    if (sel_l >= 0 && sel_h >= 0 && sel_l < L && sel_h < H) {
        const ImVec2 a(plot0.x + cell * static_cast<float>(sel_h), plot0.y + cell * static_cast<float>(sel_l));
        dl->AddRect(a, ImVec2(a.x + cell, a.y + cell), IM_COL32(255, 60, 60, 255), 0.0f, 0, 2.0f);
    }
    const ImVec2 mp = ImGui::GetIO().MousePos;
    const int ml = static_cast<int>(std::floor((mp.y - plot0.y) / cell)), mh = static_cast<int>(std::floor((mp.x - plot0.x) / cell));
    const bool on_cell = ml >= 0 && ml < L && mh >= 0 && mh < H && mp.x >= plot0.x && mp.y >= plot0.y;
    if (hovered && on_cell) {
        const HeadLabelScores& x = scores[static_cast<std::size_t>(ml * H + mh)];
        ImGui::SetTooltip("layer %d, head %d\n%s %.4f\nprevious-token %.3f  induction %.3f  duplicate %.3f\nfirst-token %.3f  "
                          "local window %.3f  entropy %.3f\nclick: open this head",
                          ml, mh, head_score_name(which), head_score(x, which), x.previous_token, x.induction, x.duplicate_token,
                          x.first_token, x.local_window, x.entropy);
    }
    if (clicked && on_cell) {
        click_l = ml;
        click_h = mh;
        return true;
    }
    return false;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] The panel
// ---------------------------------------------------------------------------------------------
void DrawHeadLabelsPanel(AppState& s) {
    SetNextPanelLayout(kHeadLabelsWindow);
    if (!ImGui::Begin(kHeadLabelsWindow, &s.show_head_labels)) {
        ImGui::End();
        return;
    }
    ModelNow m;
    if (!ModelForPanel(s, m, "Head labels")) {
        ImGui::End();
        return;
    }
    ModelAnalysis& an = *m.an;
    an.want_labels(m.model, m.fwd);
    const auto labels = an.labels();
    const int L = m.model->cfg.n_layers, H = m.model->cfg.n_heads;
    ImGui::TextDisabled("on this text (%d tokens) and on %d random tokens repeated twice", m.fwd->n(), an.label_T);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("previous-token, first-token, local window and entropy are read from this text's patterns;\n"
                          "induction and duplicate-token need repeats: they are read from a random sequence of %d tokens\n"
                          "seen twice (a head that copies from earlier repeats scores high there).",
                          an.label_T);
    if (!an.labels_current()) {
        ImGui::SameLine();
        ImGui::TextDisabled("  computing\xE2\x80\xA6");
    }
    if (!labels || static_cast<int>(labels->scores.size()) != L * H) {
        ImGui::End();
        return;
    }
    const std::vector<HeadLabelScores>& sc = labels->scores;
    int open_l = -1, open_h = -1;

    // The table: sortable by any column, a click on a row opens that head.
    const float table_h = std::max(ImGui::GetContentRegionAvail().y * 0.5f, ImGui::GetTextLineHeightWithSpacing() * 4);
    const ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg |
                                  ImGuiTableFlags_BordersOuter | ImGuiTableFlags_BordersV | ImGuiTableFlags_Resizable |
                                  ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX;  // narrow panel: scroll, never squeeze
    if (ImGui::BeginTable("labels.table", 8, flags, ImVec2(0, table_h))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableSetupColumn("layer", ImGuiTableColumnFlags_DefaultSort);
        ImGui::TableSetupColumn("head");
        for (HeadScore c : kColumns) ImGui::TableSetupColumn(head_score_name(c), ImGuiTableColumnFlags_PreferSortDescending);
        ImGui::TableHeadersRow();
        for (int c = 0; c < 6; ++c)
            if (ImGui::TableGetColumnFlags(c + 2) & ImGuiTableColumnFlags_IsHovered) ImGui::SetTooltip("%s", score_tip(kColumns[c]));
        std::vector<int> order(sc.size());
        std::iota(order.begin(), order.end(), 0);
        if (const ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs && specs->SpecsCount > 0) {
            const ImGuiTableColumnSortSpecs& sp = specs->Specs[0];
            const auto value = [&](int i) {
                const HeadLabelScores& x = sc[static_cast<std::size_t>(i)];
                if (sp.ColumnIndex == 0) return static_cast<double>(x.layer * H + x.head);
                if (sp.ColumnIndex == 1) return static_cast<double>(x.head * L + x.layer);
                return head_score(x, kColumns[sp.ColumnIndex - 2]);
            };
            std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
                return sp.SortDirection == ImGuiSortDirection_Descending ? value(a) > value(b) : value(a) < value(b);
            });
        }
        for (int i : order) {
            const HeadLabelScores& x = sc[static_cast<std::size_t>(i)];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            char id[32];
            std::snprintf(id, sizeof id, "%d##row%d", x.layer, i);
            const bool selected = x.layer == m.doc->layer && x.head == m.doc->head;
            if (ImGui::Selectable(id, selected, ImGuiSelectableFlags_SpanAllColumns)) {
                open_l = x.layer;
                open_h = x.head;
            }
            MarkItem(s, "labels.row." + head_name(x.layer, x.head));
            ImGui::TableNextColumn();
            ImGui::Text("%d", x.head);
            for (HeadScore c : kColumns) {
                ImGui::TableNextColumn();
                ImGui::Text(c == HeadScore::Entropy ? "%.2f" : "%.3f", head_score(x, c));
            }
        }
        ImGui::EndTable();
    }

    // The map of one score.
    int choice = static_cast<int>(an.map_score);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
    if (ImGui::BeginCombo("map of", head_score_name(an.map_score))) {
        for (int c = 0; c < static_cast<int>(HeadScore::Count); ++c)
            if (ImGui::Selectable(head_score_name(static_cast<HeadScore>(c)), c == choice)) an.map_score = static_cast<HeadScore>(c);
        ImGui::EndCombo();
    }
    MarkItem(s, "labels.score");
    ImGui::SameLine();
    ImGui::TextDisabled("layers down, heads across; click a cell to open that head");
    int cl = -1, ch = -1;
    if (DrawScoreMap(s, sc, an.map_score, L, H, m.doc->layer, m.doc->head, cl, ch)) {
        open_l = cl;
        open_h = ch;
    }
    if (open_l >= 0) {  // every view: the document's layer/head and the views' head (as the model view does)
        m.doc->select(open_l, open_h);
        s.sel.head = m.doc->head;
    }
    ImGui::End();
}

}  // namespace attnviz::app
