// attnviz app — the logit lens: at a chosen position, the residual stream after each block read
// through the final LayerNorm and the unembedding, as if the model stopped there. One row per stage
// (the embeddings, then after each layer), the top tokens as GPT-2 pieces (Ġ = a space) with their
// probabilities, each cell coloured by its probability; the last column follows the model's own
// final prediction through the layers.
#include <algorithm>
#include <cstdio>

#include "colormap.hpp"
#include "model_doc.hpp"
#include "panels.hpp"
#include "panels_analysis.hpp"

namespace attnviz::app {

namespace {
// Background and text colours of a cell showing probability p.
void ProbabilityCell(const ColormapLut& lut, float p, const char* text) {
    const Rgba8 c = lut_color(lut, std::clamp(p, 0.0f, 1.0f));
    ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, IM_COL32(c[0], c[1], c[2], 255));
    ImGui::PushStyleColor(ImGuiCol_Text, dark_text_on(c) ? IM_COL32(0, 0, 0, 255) : IM_COL32(255, 255, 255, 255));
    ImGui::TextUnformatted(text);
    ImGui::PopStyleColor();
}
}  // namespace

void DrawLogitLensPanel(AppState& s) {
    SetNextPanelLayout(kLogitLensWindow);
    if (!ImGui::Begin(kLogitLensWindow, &s.show_logit_lens)) {
        ImGui::End();
        return;
    }
    ModelNow m;
    if (!ModelForPanel(s, m, "The logit lens")) {
        ImGui::End();
        return;
    }
    ModelAnalysis& an = *m.an;
    const int n = m.fwd->n();
    int pos = an.lens_pos < 0 || an.lens_pos >= n ? n - 1 : an.lens_pos;
    ImGui::SetNextItemWidth(std::min(ImGui::GetFontSize() * 14, ImGui::GetContentRegionAvail().x * 0.5f));
    if (ImGui::SliderInt("position", &pos, 0, n - 1)) an.lens_pos = pos == n - 1 ? -1 : pos;  // −1 follows the text's end
    MarkItem(s, "lens.pos");
    ImGui::SameLine();
    ImGui::Text("next token after \"%s\"", piece_text(m, m.fwd->ids()[static_cast<std::size_t>(pos)]).c_str());
    an.want_lens(m.model, m.fwd, an.lens_pos, an.lens_k);
    const auto lens = an.lens();
    if (!an.lens_current()) {
        ImGui::SameLine();
        ImGui::TextDisabled("  computing\xE2\x80\xA6");
    }
    if (!lens || lens->f != m.fwd.get() || lens->rows.empty()) {
        ImGui::End();
        return;
    }
    const int k = lens->k;
    const int final_id = lens->rows.back().top.empty() ? -1 : lens->rows.back().top.front().id;
    ImGui::TextDisabled("each row: the residual stream after that block through ln_f and the unembedding; "
                        "last column: p of the final top token \"%s\"",
                        final_id >= 0 ? piece_text(m, final_id).c_str() : "");
    const ColormapLut lut = colormap_lut(Colormap::Viridis);
    const ImGuiTableFlags flags = ImGuiTableFlags_BordersInner | ImGuiTableFlags_BordersOuter | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingStretchSame;
    if (ImGui::BeginTable("lens.table", k + 2, flags)) {
        ImGui::TableSetupScrollFreeze(1, 1);
        ImGui::TableSetupColumn("stage", ImGuiTableColumnFlags_WidthFixed);
        for (int c = 0; c < k; ++c) ImGui::TableSetupColumn(("top " + std::to_string(c + 1)).c_str());
        ImGui::TableSetupColumn("p(final)", ImGuiTableColumnFlags_WidthFixed);
        ImGui::TableHeadersRow();
        char buf[160];
        for (const LensRow& row : lens->rows) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            if (row.layer < 0) ImGui::TextUnformatted("embeddings");
            else ImGui::Text("after L%d", row.layer);
            for (int c = 0; c < k; ++c) {
                ImGui::TableNextColumn();
                if (c >= static_cast<int>(row.top.size())) continue;
                const TokenProb& t = row.top[static_cast<std::size_t>(c)];
                std::snprintf(buf, sizeof buf, "%s %.3f", piece_text(m, t.id).c_str(), static_cast<double>(t.prob));
                ProbabilityCell(lut, t.prob, buf);
                if (ImGui::IsItemHovered()) ImGui::SetTooltip("token %d, logit %.3f, p %.5f", t.id, static_cast<double>(t.logit),
                                                              static_cast<double>(t.prob));
            }
            ImGui::TableNextColumn();
            std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(row.final_prob));
            ProbabilityCell(lut, row.final_prob, buf);
        }
        ImGui::EndTable();
    }
    ImGui::End();
}

}  // namespace attnviz::app
