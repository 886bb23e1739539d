// attnviz app — the heatmap of one head, at one stage (raw Q·Kᵀ, scaled, masked, softmax).
#include <algorithm>
#include <cmath>

#include "long_view.hpp"
#include "model_doc.hpp"
#include "panels.hpp"

namespace attnviz::app {

namespace {
const char* const kStageLabels[] = {"raw Q\xC2\xB7K\xE1\xB5\x80", "scaled /\xE2\x88\x9A" "d", "masked", "softmax"};

// short names for files and scripts
const char* const kStageKeys[] = {"raw", "scaled", "masked", "pattern"};

}  // namespace

void DrawHeatmapPanel(AppState& s) {
    SetNextPanelLayout(kHeatmapWindow);
    if (!ImGui::Begin(kHeatmapWindow, &s.show_heatmap)) {
        ImGui::End();
        return;
    }
    HeatmapView& hv = views(s).heatmap;
    // -- controls --
    const float fs = ImGui::GetFontSize();
    if (s.model) {  // a model's layer: which layer, and the title every view shows
        ModelViewHeader(s, kHeatmapWindow);
        ImGui::SameLine();
        ImGui::SetNextItemWidth(fs * 5);
        int layer = s.model->layer;
        if (ImGui::SliderInt("layer", &layer, 0, s.model->cfg().n_layers - 1)) s.model->select(layer, s.model->head);
        MarkItem(s, "heatmap.layer");
        ImGui::SameLine();
    }
    ImGui::SetNextItemWidth(fs * 5);
    int head = s.sel.head;
    if (ImGui::SliderInt("head", &head, 0, s.scene.n_heads - 1)) s.sel.head = std::clamp(head, 0, s.scene.n_heads - 1);
    MarkItem(s, "heatmap.head");
    int stage = static_cast<int>(s.view.stage);
    for (int k = 0; k < 4; ++k) {
        same_line_if_fits(ImGui::CalcTextSize(kStageLabels[k]).x + ImGui::GetFrameHeight() + fs * 0.5f);
        if (ImGui::RadioButton(kStageLabels[k], stage == k)) s.view.stage = static_cast<Stage>(k);
        MarkItem(s, std::string("stage.") + kStageKeys[k]);
    }
    ImGui::Checkbox("transpose", &s.view.transpose);
    MarkItem(s, "heatmap.transpose");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Queries as columns, keys as rows (as in the 3Blue1Brown lecture)");
    same_line_if_fits(fs * 6);
    ImGui::Checkbox("numbers", &s.view.show_values);
    same_line_if_fits(fs * 6);
    if (ImGui::Checkbox("auto range", &s.view.auto_range)) s.view.auto_range_forced = false;  // the user's own choice now
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Colour the weights from their smallest to largest value instead of 0..1 (long sequences)");
    same_line_if_fits(fs * 6);
    ImGui::SetNextItemWidth(fs * 6);
    if (ImGui::BeginCombo("##colormap", colormap_name(static_cast<Colormap>(s.view.colormap)))) {
        for (int c = 0; c < static_cast<int>(Colormap::Count); ++c)
            if (ImGui::Selectable(colormap_name(static_cast<Colormap>(c)), c == s.view.colormap)) s.view.colormap = c;
        ImGui::EndCombo();
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Colormap of the softmax weights (scores always use the diverging map)");
    same_line_if_fits(fs * 22);
    SinkColourControls(s, "heatmap");

    // -- data --
    const int h = std::clamp(s.sel.head, 0, s.scene.n_heads - 1);
    const Stage st = s.view.stage;
    hv.opt.transpose = s.view.transpose;
    hv.opt.show_values = s.view.show_values;
    const std::shared_ptr<const PatternSource> src = s.patterns();  // null while long statistics are built
    if (s.model && !src) {  // a model's first forward pass is on its way (app/session/model_doc.hpp)
        ImGui::TextDisabled("computing the model's forward pass\xE2\x80\xA6");
        ImGui::End();
        return;
    }
    const bool whole = src && src->full();  // small enough that every cell is kept: the whole matrix at once
    // else thousands of keys share a row's weight: two decimals would print 0.00 in every cell
    hv.opt.value_format = !whole && st == Stage::Pattern ? "%.1e" : "%.2f";
    if (!whole) {  // pooled overview and exact tiles, computed on the worker (app/ui/long_view.cpp)
        configure_for_stage(hv, st, s.view.colormap, s.view.auto_range);
        hv.opt.log_scale = st == Stage::Pattern && s.view.log_scale;
        DrawLongHeatmap(s, hv, h, st);
        ImGui::End();
        return;
    }
    const PatternSource& p = *src;
    auto whole_stage = [&] { return p.n() > 0 && p.m() > 0 ? p.stage_tile(h, st, 0, 0, p.n(), p.m()) : Mat(p.n(), p.m()); };
    hv.opt.transpose = s.view.transpose;
    hv.opt.show_values = s.view.show_values;
    const std::uint64_t key = view_data_key(s, h, static_cast<int>(st));
    const bool masked_stage = st == Stage::Masked || st == Stage::Pattern;
    if (hv.wants_data(key)) hv.set_data(whole_stage(), masked_stage ? &s.scene.mask : nullptr, key);
    configure_for_stage(hv, st, s.view.colormap, s.view.auto_range);
    ApplySinkColour(hv, s.view, st);

    same_line_if_fits(fs * 11);
    ExportButtons(s, std::string(kStageKeys[static_cast<int>(st)]) + "_h" + std::to_string(h),
                  whole_stage,
                  [&](const FigureOptions& o) {
                      FigureOptions with_map = o;  // the view's colour map for the weights
                      with_map.colormap = static_cast<Colormap>(std::clamp(s.view.colormap, 0, static_cast<int>(Colormap::Count) - 1));
                      return figure_stage(s.scene, *p.full(), h, st, with_map);
                  });

    same_line_if_fits(fs * 14);
    ImGui::TextDisabled("rows: %s \xC2\xB7 columns: %s", s.view.transpose ? "keys" : "queries", s.view.transpose ? "queries" : "keys");

    // -- the heatmap --
    const auto& rows = query_labels(s);
    const auto& cols = key_labels(s);
    HeatmapResult r = hv.Draw("heatmap", ImVec2(0, 0), rows, cols, s.sel.query, s.sel.key, s.sel.shown_hover_query, s.sel.shown_hover_key);
    s.ui_rects["heatmap.plot"] = {r.plot_min.x, r.plot_min.y, r.plot_max.x, r.plot_max.y};
    if (r.hovered) {
        s.sel.hover_query = r.hover_row;
        s.sel.hover_key = r.hover_col;
        CellTooltip(s, h, r.hover_row, r.hover_col);
    }
    if (r.clicked) {
        const bool same = s.sel.query == r.hover_row && s.sel.key == r.hover_col;
        s.sel.query = same ? -1 : r.hover_row;
        s.sel.key = same ? -1 : r.hover_col;
    }
    ImGui::End();
}

}  // namespace attnviz::app
