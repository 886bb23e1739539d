// attnviz app — interventions: ablate heads (zero their output ΔE_h) and/or put a mask on one layer
// or on the whole model, and see what changes: the next-token top-k before and after side by side,
// KL(before ‖ after), the logit difference of a chosen token, and the selected head's pattern
// difference (after − before) on a diverging scale. Reset undoes every intervention. The document
// itself is not changed: the "after" forward is the panel's own, computed on the analysis worker.
//
// [SECTION] Choosing the intervention (heads grid, mask, Reset)
// [SECTION] Before / after
// [SECTION] The panel
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "model_doc.hpp"
#include "panels.hpp"
#include "panels_analysis.hpp"

#include <imgui_stdlib.h>  // after imgui.h (panels.hpp)

namespace attnviz::app {

namespace {
constexpr int kTopK = 10;

// The mask choices: index 0 leaves the masks as they are.
constexpr const char* kMaskChoices[] = {"unchanged", "causal", "sliding window", "strided", "fixed"};

std::optional<Mask> mask_of_choice(int choice, int size) {
    switch (choice) {
        case 1: return Mask::causal();
        case 2: return Mask::sliding_window(size);
        case 3: return Mask::strided(size);
        case 4: return Mask::fixed(size);
        default: return std::nullopt;
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Choosing the intervention
// ---------------------------------------------------------------------------------------------
void AblationGrid(AppState& s, ModelAnalysis& an, int L, int H, float height) {
    ImGui::TextUnformatted("ablate (zero the head's output):");
    ImGui::SameLine();
    ImGui::TextDisabled("%d of %d heads", static_cast<int>(an.intervention.ablate.size()), L * H);
    ImGui::BeginChild("ablate.grid", ImVec2(0, height), true, ImGuiWindowFlags_HorizontalScrollbar);
    const float box = ImGui::GetFrameHeight();
    const float label_w = ImGui::CalcTextSize("L00").x + ImGui::GetStyle().ItemSpacing.x;
    const float step = box + ImGui::GetStyle().ItemInnerSpacing.x;
    // head numbers across
    const float x0 = ImGui::GetCursorPosX() + label_w;
    for (int h = 0; h < H; ++h) {
        ImGui::SameLine(h == 0 ? x0 : x0 + step * static_cast<float>(h));
        ImGui::TextDisabled("%d", h);
    }
    auto& ab = an.intervention.ablate;
    for (int l = 0; l < L; ++l) {
        ImGui::TextDisabled("L%d", l);
        for (int h = 0; h < H; ++h) {
            ImGui::SameLine(x0 + step * static_cast<float>(h));
            const auto it = std::find(ab.begin(), ab.end(), std::make_pair(l, h));
            bool on = it != ab.end();
            ImGui::PushID(l * H + h);
            ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(0, 0));
            if (ImGui::Checkbox("##ablate", &on)) {
                if (on) {
                    ab.emplace_back(l, h);
                    std::sort(ab.begin(), ab.end());
                } else {
                    ab.erase(std::find(ab.begin(), ab.end(), std::make_pair(l, h)));
                }
            }
            ImGui::PopStyleVar();
            ImGui::PopID();
            MarkItem(s, "ablate." + head_name(l, h));
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("layer %d, head %d: %s", l, h, on ? "ablated" : "as trained");
        }
    }
    ImGui::EndChild();
}

void MaskChooser(AppState& s, ModelAnalysis& an, int L) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
    if (ImGui::BeginCombo("mask", kMaskChoices[an.mask_choice])) {
        for (int c = 0; c < static_cast<int>(std::size(kMaskChoices)); ++c)
            if (ImGui::Selectable(kMaskChoices[c], c == an.mask_choice)) an.mask_choice = c;
        ImGui::EndCombo();
    }
    MarkItem(s, "intervene.mask");
    if (an.mask_choice >= 2) {
        ImGui::SameLine();
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
        ImGui::InputInt(an.mask_choice == 2 ? "width" : an.mask_choice == 3 ? "stride" : "block", &an.mask_size);
        an.mask_size = std::max(1, an.mask_size);
        MarkItem(s, "intervene.mask_size");
    }
    if (an.mask_choice >= 1) {
        ImGui::SameLine();
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
        const std::string shown = an.intervention.mask_layer < 0 ? "every layer" : "layer " + std::to_string(an.intervention.mask_layer);
        if (ImGui::BeginCombo("on", shown.c_str())) {
            if (ImGui::Selectable("every layer", an.intervention.mask_layer < 0)) an.intervention.mask_layer = -1;
            for (int l = 0; l < L; ++l)
                if (ImGui::Selectable(("layer " + std::to_string(l)).c_str(), an.intervention.mask_layer == l)) an.intervention.mask_layer = l;
            ImGui::EndCombo();
        }
        MarkItem(s, "intervene.mask_layer");
    }
    an.intervention.mask = mask_of_choice(an.mask_choice, an.mask_size);
    if (an.intervention.mask_layer >= L) an.intervention.mask_layer = -1;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Before / after
// ---------------------------------------------------------------------------------------------
// `height`: the table's height (0: all its rows; less: it scrolls, the header kept).
void TopKSideBySide(AppState& s, const ModelNow& m, ModelAnalysis& an, const InterventionComparison& c, float height) {
    ImGuiTableFlags flags = ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
    if (height > 0) flags |= ImGuiTableFlags_ScrollY;
    if (!ImGui::BeginTable("intervene.topk", 4, flags, ImVec2(0, height))) return;
    if (height > 0) ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("before");
    ImGui::TableSetupColumn("p", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("after");
    ImGui::TableSetupColumn("p ", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableHeadersRow();
    const std::size_t rows = std::max(c.before_top.size(), c.after_top.size());
    for (std::size_t r = 0; r < rows; ++r) {
        ImGui::TableNextRow();
        for (int side = 0; side < 2; ++side) {
            const auto& top = side == 0 ? c.before_top : c.after_top;
            ImGui::TableNextColumn();
            if (r >= top.size()) {
                ImGui::TableNextColumn();
                continue;
            }
            const TokenProb& t = top[r];
            ImGui::PushID(static_cast<int>(r) * 2 + side);
            if (ImGui::Selectable(piece_text(m, t.id).c_str(), t.id == c.token)) {
                an.token = t.id;
                an.token_text.clear();
            }
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("token %d, logit %.3f\nclick: show its logit difference", t.id, t.logit);
            ImGui::PopID();
            if (side == 0 && r == 0) MarkItem(s, "intervene.before_top");
            ImGui::TableNextColumn();
            ImGui::Text("%.3f", t.prob);
        }
    }
    ImGui::EndTable();
}

// The selected head's pattern difference (after − before) at c.layer, uploaded to its heatmap when
// it changed (with the tokens' pieces as labels); null when there is none to show. `largest`: its
// largest |change| (0 when nothing changed).
const Mat* SelectedDifference(AppState& s, const ModelNow& m, ModelAnalysis& an, const InterventionComparison& c, float& largest) {
    const int l = c.layer, h = m.doc->head;
    if (l < 0 || h < 0 || h >= static_cast<int>(c.pattern_diff.size())) return nullptr;
    const Mat& diff = c.pattern_diff[static_cast<std::size_t>(h)];  // (n, n)
    AppState::Views& v = views(s);
    HeatmapView& hv = v.intervention_diff;
    const std::uint64_t key = (an.generation() << 16) ^ static_cast<std::uint64_t>(h);
    if (hv.wants_data(key)) {
        hv.set_data(diff, nullptr, key);
        v.intervention_labels.clear();
        for (int id : m.fwd->ids()) v.intervention_labels.push_back(piece_text(m, id));
    }
    largest = diff.size() ? diff.cwiseAbs().maxCoeff() : 0.0f;
    return &diff;
}

// The height the difference's heatmap needs at `width` with square cells: the widget's own layout
// (its labels and colour bar, as HeatmapView::Draw measures them) asked with no height limit.
float DifferenceHeight(const std::vector<std::string>& labels, float a, float width) {
    float label_w = 0.0f, tick_w = 0.0f;
    for (const auto& t : labels) label_w = std::max(label_w, ImGui::CalcTextSize(t.c_str()).x);
    char buf[32];
    for (const float x : {-a, a, 0.0f, -a + 2.0f * a / 3.0f}) {
        std::snprintf(buf, sizeof buf, "%.3g", static_cast<double>(x));
        tick_w = std::max(tick_w, ImGui::CalcTextSize(buf).x);
    }
    const float n = static_cast<float>(std::max<std::size_t>(labels.size(), 1));
    const bool bar = width >= 3.0f * (tick_w + 34.0f);
    const HeatmapLayout L =
        layout_heatmap(ImVec2(0, 0), ImVec2(width, 1e5f), n, n, label_w, label_w, ImGui::GetFontSize(), bar, true, tick_w + 4.0f);
    return L.plot_max.y + 2.0f;
}

// The difference across the panel's width with square cells, `height` tall (DifferenceHeight),
// coloured from −a to a; hovering a cell shows the weight before and after.
void PatternDifference(AppState& s, const ModelNow& m, const InterventionComparison& c, const Mat& diff, float largest, float a,
                       float height) {
    const int l = c.layer, h = m.doc->head;
    AppState::Views& v = views(s);
    HeatmapView& hv = v.intervention_diff;
    hv.opt.colormap = Colormap::Diverging;
    hv.opt.vmin = -a;
    hv.opt.vmax = a;
    hv.opt.value_format = "%+.2f";
    hv.opt.interactive = true;
    ImGui::Text("layer %d, head %d: pattern after \xE2\x88\x92 before", l, h);
    same_line_if_fits(ImGui::GetFontSize() * 16);
    if (largest == 0.0f) ImGui::TextDisabled("(no weight changed: every cell's difference is exactly 0)");
    else ImGui::TextDisabled("(largest change %.3g; red = more weight after)", static_cast<double>(largest));
    const float width = std::max(ImGui::GetContentRegionAvail().x, ImGui::GetFontSize() * 12);
    const HeatmapResult r = hv.Draw("intervene.diff", ImVec2(width, std::max(height, 40.0f)), v.intervention_labels, v.intervention_labels);
    s.ui_rects["intervene.diff"] = {r.plot_min.x, r.plot_min.y, r.plot_max.x, r.plot_max.y};
    if (r.hovered && r.hover_row >= 0 && r.hover_col >= 0 && r.hover_row < diff.rows() && r.hover_col < diff.cols()) {
        // the weight before: row `hover_row` of the head's pattern, from the document's forward
        const Gpt2Forward& f = *m.fwd;
        Mat row;  // (1, n)
        head_pattern_rows(f.Q(l, h), f.K(l, h), f.options().mask_of(l), f.logit_factor(), r.hover_row, r.hover_row + 1, row);
        const float before = row(0, r.hover_col), change = diff(r.hover_row, r.hover_col);
        ImGui::SetTooltip("layer %d, head %d\nquery %d (%s), key %d (%s)\nweight before %.5f, after %.5f\nafter \xE2\x88\x92 before: %+.5f",
                          l, h, r.hover_row, v.intervention_labels[static_cast<std::size_t>(r.hover_row)].c_str(), r.hover_col,
                          v.intervention_labels[static_cast<std::size_t>(r.hover_col)].c_str(), static_cast<double>(before),
                          static_cast<double>(before + change), static_cast<double>(change));
    }
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] The panel
// ---------------------------------------------------------------------------------------------
void DrawInterventionsPanel(AppState& s) {
    SetNextPanelLayout(kInterventionsWindow);
    if (!ImGui::Begin(kInterventionsWindow, &s.show_interventions)) {
        ImGui::End();
        return;
    }
    ModelNow m;
    if (!ModelForPanel(s, m, "Interventions")) {
        ImGui::End();
        return;
    }
    ModelAnalysis& an = *m.an;
    const int L = m.model->cfg.n_layers, H = m.model->cfg.n_heads;
    const float grid_h = std::min(ImGui::GetContentRegionAvail().y * 0.3f,
                                  (ImGui::GetFrameHeight() + ImGui::GetStyle().ItemSpacing.y) * static_cast<float>(L + 1) +
                                      ImGui::GetStyle().WindowPadding.y * 2 + ImGui::GetStyle().ScrollbarSize);
    AblationGrid(s, an, L, H, grid_h);
    MaskChooser(s, an, L);
    ImGui::SameLine();
    if (ImGui::Button("Reset")) {
        an.intervention = {};
        an.mask_choice = 0;
    }
    MarkItem(s, "intervene.reset");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("no head ablated, every mask as the document has it");

    // The token whose logit difference is shown: a click in the top-k, or typed.
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
    if (ImGui::InputTextWithHint("token", "type a token", &an.token_text, ImGuiInputTextFlags_EnterReturnsTrue) ||
        ImGui::IsItemDeactivatedAfterEdit()) {
        if (an.token_text.empty()) {
            an.token = -1;
        } else {
            std::vector<int> ids;
            try {
                ids = m.doc->tokenizer.encode(an.token_text);
            } catch (const std::exception& e) {
                s.set_error(std::string("token: ") + e.what());
            }
            if (ids.size() == 1) an.token = ids[0];
            else if (!ids.empty())
                s.set_error("\"" + an.token_text + "\" is " + std::to_string(ids.size()) +
                            " tokens; type one token (a leading space is part of it: \" the\")");
        }
    }
    MarkItem(s, "intervene.token");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the token whose logit before and after is compared (or click one in the lists)");

    an.want_comparison(m.model, m.fwd, an.intervention, kTopK, an.token, m.doc->layer);
    const auto cmp = an.comparison();
    if (!an.comparison_current()) {
        ImGui::SameLine();
        ImGui::TextDisabled("computing\xE2\x80\xA6");
    }
    if (!cmp || cmp->before != m.fwd.get()) {
        ImGui::End();
        return;
    }
    const InterventionComparison& c = cmp->c;
    ImGui::Separator();
    ImGui::Text("KL(before \xE2\x80\x96 after) = %.4g nats", c.kl);
    MarkItem(s, "intervene.kl");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("\xCE\xA3 p_before \xC2\xB7 log(p_before / p_after) over the whole vocabulary, next token after the last position");
    if (c.token >= 0) {
        ImGui::Text("%s: logit %.3f \xE2\x86\x92 %.3f (%+.3f), p %.4f \xE2\x86\x92 %.4f", piece_text(m, c.token).c_str(),
                    static_cast<double>(c.logit_before), static_cast<double>(c.logit_after), static_cast<double>(c.logit_diff()),
                    static_cast<double>(c.prob_before), static_cast<double>(c.prob_after));
    }
    // The pattern difference takes the panel's width with square cells; the top-k lists below it
    // fill what is left (at least 4 rows; they scroll, and the panel does when it is shorter).
    float largest = 0.0f;
    if (const Mat* diff = SelectedDifference(s, m, an, c, largest)) {
        ImGui::Separator();
        const float a = std::max(largest, 1e-6f);  // the colour range, symmetric around 0 (an unchanged pattern still has one)
        PatternDifference(s, m, c, *diff, largest, a,
                          DifferenceHeight(views(s).intervention_labels, a, ImGui::GetContentRegionAvail().x));
    }
    ImGui::Separator();
    const float row_h = ImGui::GetTextLineHeightWithSpacing() + ImGui::GetStyle().CellPadding.y * 2;
    const std::size_t rows = std::max(c.before_top.size(), c.after_top.size());
    const float full_h = row_h * static_cast<float>(rows + 1);
    const float table_h = std::clamp(ImGui::GetContentRegionAvail().y, std::min(row_h * 5, full_h), full_h);
    TopKSideBySide(s, m, an, c, table_h < full_h ? table_h : 0.0f);
    ImGui::End();
}

}  // namespace attnviz::app
