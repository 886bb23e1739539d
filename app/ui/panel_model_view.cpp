// attnviz app — the model view: a layers × heads grid of live attention patterns (BertViz's model
// view; every cell a texture through the heatmap widget). Click a cell to select that layer and
// head for every view. The cells' values are computed on the worker with the forward pass
// (ModelResult::thumbnails: long texts pooled into at most 96² buckets, the max of each).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "model_doc.hpp"
#include "panels.hpp"

namespace attnviz::app {


void ApplySinkColour(HeatmapView& v, const ViewOptions& o, Stage st) {
    const bool weights = st == Stage::Pattern;
    v.opt.log_scale = weights && o.log_scale;
    if (weights && o.exclude_first) {
        v.opt.vmin = 0.0f;
        v.opt.vmax = std::max(v.data_hi_after_first, 1e-6f);
    }
}

void SinkColourControls(AppState& s, const char* id) {
    ImGui::PushID(id);
    ImGui::Checkbox("log colour", &s.view.log_scale);
    MarkItem(s, std::string(id) + ".log");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Colour the weights by their logarithm (three decades below the largest): small weights stay visible "
                          "next to the first token's");
    same_line_if_fits(ImGui::GetFontSize() * 9);
    ImGui::Checkbox("range without the first token", &s.view.exclude_first);
    MarkItem(s, std::string(id) + ".exclude_first");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("The colour range ends at the largest weight on any key but the first: trained models park most "
                          "weight on the first token (an attention sink), which washes the rest out");
    ImGui::PopID();
}

void DrawModelViewPanel(AppState& s) {
    if (!s.model) return;
    SetNextPanelLayout(kModelViewWindow);
    if (!ImGui::Begin(kModelViewWindow, &s.show_model_view)) {
        ImGui::End();
        return;
    }
    ModelDoc& m = *s.model;
    const int L = m.cfg().n_layers, H = m.cfg().n_heads;
    auto r = m.result();
    ImGui::Text("%s: %d layers \xC3\x97 %d heads", m.name().c_str(), L, H);
    same_line_if_fits(ImGui::GetFontSize() * 16);
    SinkColourControls(s, "modelview");
    if (!r) {
        ImGui::TextDisabled(m.busy() ? "computing\xE2\x80\xA6" : "type a text");
        ImGui::End();
        return;
    }
    std::vector<HeatmapView>& cells = views(s).model_cells;  // layer-major: l · n_heads + h
    if (static_cast<int>(cells.size()) != L * H) {
        for (auto& c : cells) c.release_gpu();
        cells.clear();
        cells.resize(static_cast<std::size_t>(L) * static_cast<std::size_t>(H));
    }
    const int n = r->fwd->n();
    const ImGuiStyle& st = ImGui::GetStyle();
    const float label_w = ImGui::CalcTextSize("L00").x + st.ItemSpacing.x;
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float head_label_h = ImGui::GetTextLineHeightWithSpacing();
    const float gap = 3.0f;
    const float cell = std::max(8.0f, std::floor(std::min((avail.x - label_w - gap * static_cast<float>(H)) / static_cast<float>(H),
                                                           (avail.y - head_label_h - st.ItemSpacing.y * static_cast<float>(L + 1)) /
                                                               static_cast<float>(L))));
    // head numbers across the top
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImVec2 o = ImGui::GetCursorScreenPos();
    for (int h = 0; h < H; ++h) {
        char b[16];
        std::snprintf(b, sizeof b, "%d", h);
        dl->AddText(ImVec2(o.x + label_w + static_cast<float>(h) * (cell + gap) + cell * 0.5f - ImGui::CalcTextSize(b).x * 0.5f, o.y),
                    ImGui::GetColorU32(ImGuiCol_TextDisabled), b);
    }
    ImGui::Dummy(ImVec2(avail.x, head_label_h));
    static const std::vector<std::string> kNoLabels;
    for (int l = 0; l < L; ++l) {
        o = ImGui::GetCursorScreenPos();
        char b[16];
        std::snprintf(b, sizeof b, "L%d", l);
        dl->AddText(ImVec2(o.x, o.y + cell * 0.5f - ImGui::GetFontSize() * 0.5f), ImGui::GetColorU32(ImGuiCol_TextDisabled), b);
        ImGui::Dummy(ImVec2(label_w - st.ItemSpacing.x, cell));
        for (int h = 0; h < H; ++h) {
            ImGui::SameLine(0, h == 0 ? st.ItemSpacing.x : gap);
            HeatmapView& hv = cells[static_cast<std::size_t>(l * H + h)];
            hv.opt.transpose = s.view.transpose;
            hv.opt.show_labels = false;
            hv.opt.show_colorbar = false;
            hv.opt.show_values = false;
            hv.opt.interactive = false;
            hv.opt.square_cells = false;
            const std::uint64_t key = (m.generation() << 16) ^ static_cast<std::uint64_t>(l * H + h);
            const std::size_t k = static_cast<std::size_t>(l * H + h);
            if (k < r->thumbnails.size() && r->thumbnails[k].size() > 0 && hv.wants_data(key)) {
                // (≤ kThumbnail, ≤ kThumbnail): the pattern, or pooled (max) when long — computed on the worker
                const Mask& mask = r->in.opt.mask_of(l);
                hv.set_data(r->thumbnails[k], n <= ModelDoc::kThumbnail ? &mask : nullptr, key);  // NaN buckets are hatched
            }
            configure_for_stage(hv, Stage::Pattern, s.view.colormap);
            ApplySinkColour(hv, s.view, Stage::Pattern);
            ImGui::PushID(l * H + h);
            const HeatmapResult res = hv.Draw("cell", ImVec2(cell, cell), kNoLabels, kNoLabels);
            ImGui::PopID();
            s.ui_rects["modelview.L" + std::to_string(l) + "H" + std::to_string(h)] = {res.plot_min.x, res.plot_min.y, res.plot_max.x,
                                                                                      res.plot_max.y};
            const bool selected = l == m.layer && h == m.head;
            if (selected)
                dl->AddRect(ImVec2(res.plot_min.x - 2, res.plot_min.y - 2), ImVec2(res.plot_max.x + 2, res.plot_max.y + 2),
                            IM_COL32(255, 214, 0, 255), 0, 0, 2.0f);
            if (res.hovered) ImGui::SetTooltip("layer %d \xC2\xB7 head %d (click: show it in every view)", l, h);
            if (res.clicked) {
                m.select(l, h);
                s.sel.head = m.head;
            }
        }
    }
    ImGui::End();
}

}  // namespace attnviz::app
