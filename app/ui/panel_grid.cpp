// attnviz app — every head's pattern at once (small multiples on the shared 0..1 scale), plus the
// average over heads. Click a tile to select that head.
#include <algorithm>
#include <cstdio>

#include "long_view.hpp"
#include "panels.hpp"
#include "text.hpp"

namespace attnviz::app {

void DrawGridPanel(AppState& s) {
    SetNextPanelLayout(kGridWindow);
    if (!ImGui::Begin(kGridWindow, &s.show_grid)) {
        ImGui::End();
        return;
    }
    const std::shared_ptr<const PatternSource> src = s.patterns();
    const Forward* full = src ? src->full() : nullptr;  // every head's pattern at once, when kept
    if (!full) {  // else each head's pooled overview, computed on the worker (app/ui/long_view.cpp)
        if (s.model) ImGui::TextDisabled("computing the model's forward pass\xE2\x80\xA6");
        else DrawLongGrid(s);
        ImGui::End();
        return;
    }
    AppState::Views& v = views(s);
    ModelViewHeader(s, kGridWindow);
    const int heads = s.scene.n_heads;
    if (static_cast<int>(v.grid.size()) > heads) {
        for (std::size_t h = static_cast<std::size_t>(heads); h < v.grid.size(); ++h) v.grid[h].release_gpu();
        v.grid.resize(static_cast<std::size_t>(heads));
    }
    v.grid.resize(static_cast<std::size_t>(heads));
    ImGui::TextDisabled("weights, one scale 0\xE2\x80\xA6" "1");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Every head's softmax weights on the same 0..1 scale. Click a head to select it.");
    same_line_if_fits(ImGui::GetFontSize() * 11);
    ExportButtons(s, "average", [&] { return average_pattern(*full); },
                  [&](const FigureOptions& o) { return figure_heads(s.scene, *full, o); });

    const int tiles = heads + 1;  // + the average
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float title_h = ImGui::GetTextLineHeightWithSpacing();
    const ImGuiStyle& st = ImGui::GetStyle();
    const float aspect = s.view.transpose ? static_cast<float>(s.scene.n()) / static_cast<float>(s.scene.m())
                                           : static_cast<float>(s.scene.m()) / static_cast<float>(s.scene.n());
    const int cols = grid_columns(tiles, avail.x, avail.y, title_h + st.ItemSpacing.y, aspect);
    const int rows = (tiles + cols - 1) / cols;
    const float tile_w = std::floor((avail.x - st.ItemSpacing.x * static_cast<float>(cols - 1)) / static_cast<float>(cols));
    const float tile_h = std::floor((avail.y - static_cast<float>(rows) * (title_h + st.ItemSpacing.y)) / static_cast<float>(rows));
    const bool labels = std::min(tile_w, tile_h) >= 13.0f * ImGui::GetFontSize();
    const auto& qlab = query_labels(s);
    const auto& klab = key_labels(s);
    for (int t = 0; t < tiles; ++t) {
        const bool avg = t == heads;
        HeatmapView& hv = avg ? v.grid_average : v.grid[static_cast<std::size_t>(t)];
        hv.opt.transpose = s.view.transpose;
        hv.opt.show_labels = labels;
        hv.opt.show_colorbar = avg;
        hv.opt.show_values = labels && s.view.show_values;
        hv.opt.interactive = false;
        const std::uint64_t key = view_data_key(s, avg ? 0xFFFF : t, 3);
        if (hv.wants_data(key)) hv.set_data(avg ? average_pattern(*full) : full->heads[static_cast<std::size_t>(t)].pattern, &s.scene.mask, key);
        configure_for_stage(hv, Stage::Pattern, s.view.colormap);
        ApplySinkColour(hv, s.view, Stage::Pattern);
        if (t % cols != 0) ImGui::SameLine();
        ImGui::BeginGroup();
        char title[64];
        if (avg) std::snprintf(title, sizeof title, "average of %s", count_noun(heads, "head").c_str());
        else std::snprintf(title, sizeof title, "head %d", t);
        const bool selected = !avg && t == s.sel.head;
        const std::string shown = ellipsize(selected ? std::string(title) + " (selected)" : std::string(title), tile_w);
        if (selected) ImGui::TextColored(ImVec4(1.0f, 0.84f, 0.0f, 1.0f), "%s", shown.c_str());
        else ImGui::TextUnformatted(shown.c_str());
        ImGui::PushID(t);
        const HeatmapResult r = hv.Draw("tile", ImVec2(tile_w, tile_h), qlab, klab, s.sel.query, s.sel.key, s.sel.shown_hover_query,
                                        s.sel.shown_hover_key);
        ImGui::PopID();
        s.ui_rects[avg ? std::string("grid.average") : "grid.head" + std::to_string(t)] = {r.plot_min.x, r.plot_min.y, r.plot_max.x, r.plot_max.y};
        if (selected) ImGui::GetWindowDrawList()->AddRect(ImVec2(r.plot_min.x - 3, r.plot_min.y - 3), ImVec2(r.plot_max.x + 3, r.plot_max.y + 3),
                                                          IM_COL32(255, 214, 0, 255), 0, 0, 2.0f);
        ImGui::EndGroup();
        if (r.hovered) {
            s.sel.hover_query = r.hover_row;
            s.sel.hover_key = r.hover_col;
            if (!avg) CellTooltip(s, t, r.hover_row, r.hover_col);
            else {
                const Mat a = average_pattern(*full);
                ImGui::SetTooltip("average over heads: query %d \xE2\x86\x92 key %d  weight %.6g", r.hover_row, r.hover_col,
                                  static_cast<double>(a(r.hover_row, r.hover_col)));
            }
        }
        if (!avg && r.clicked) s.sel.head = t;
    }
    ImGui::End();
}

}  // namespace attnviz::app
