// attnviz app — the selected head with the mask and without, and their difference, on one shared
// diverging colour scale (what the mask takes away is blue, what it gives back to allowed keys red).
#include <algorithm>
#include <cmath>

#include "long_view.hpp"
#include "panels.hpp"

namespace attnviz::app {

void DrawComparePanel(AppState& s) {
    SetNextPanelLayout(kCompareWindow);
    if (!ImGui::Begin(kCompareWindow, &s.show_compare)) {
        ImGui::End();
        return;
    }
    if (s.long_mode) {
        LongModeNotice(s, "The masked-vs-unmasked comparison");
        ImGui::End();
        return;
    }
    AppState::Views& v = views(s);
    const int h = std::clamp(s.sel.head, 0, s.scene.n_heads - 1);
    const Mat& masked = s.fwd.heads[static_cast<std::size_t>(h)].pattern;
    const Mat& unmasked = s.unmasked().heads[static_cast<std::size_t>(h)].pattern;
    ImGui::Text("head %d, mask: %s", h, mask_type_name(s.scene.mask.type));
    SameLineIfFits(ImGui::GetFontSize() * 11);
    ExportButtons(s, "mask_difference_h" + std::to_string(h), [&] { return Mat(masked - unmasked); });
    if (s.scene.mask.type == MaskType::None) ImGui::TextDisabled("no mask: both sides are the same (choose one in Model)");

    const char* titles[3] = {"with mask", "without mask", "with \xE2\x88\x92 without"};
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const ImGuiStyle& st = ImGui::GetStyle();
    const float title_h = ImGui::GetTextLineHeightWithSpacing();
    const float aspect = s.view.transpose ? static_cast<float>(s.scene.n()) / static_cast<float>(s.scene.m())
                                           : static_cast<float>(s.scene.m()) / static_cast<float>(s.scene.n());
    const int cols = grid_columns(3, avail.x, avail.y, title_h + st.ItemSpacing.y, aspect);
    const int rows = (3 + cols - 1) / cols;
    const float tile_w = std::floor((avail.x - st.ItemSpacing.x * static_cast<float>(cols - 1)) / static_cast<float>(cols));
    const float tile_h = std::floor((avail.y - static_cast<float>(rows) * (title_h + st.ItemSpacing.y)) / static_cast<float>(rows));
    const bool labels = std::min(tile_w, tile_h) >= 12.0f * ImGui::GetFontSize();
    // one scale for all three: symmetric around 0, as wide as the largest magnitude
    for (int k = 0; k < 3; ++k) {
        HeatmapView& hv = v.compare[k];
        const std::uint64_t key = view_data_key(s, h, 8 + k);
        if (hv.wants_data(key) || hv.opt.transpose != s.view.transpose) {
            hv.opt.transpose = s.view.transpose;
            if (k == 0) hv.set_data(masked, &s.scene.mask, key);
            else if (k == 1) hv.set_data(unmasked, nullptr, key);
            else hv.set_data(Mat(masked - unmasked), nullptr, key);
        }
    }
    float a = 0.0f;
    for (const auto& hv : v.compare) a = std::max({a, std::fabs(hv.data_lo), std::fabs(hv.data_hi)});
    const auto& qlab = query_labels(s);
    const auto& klab = key_labels(s);
    for (int k = 0; k < 3; ++k) {
        HeatmapView& hv = v.compare[k];
        hv.opt.colormap = Colormap::Diverging;
        hv.opt.vmin = -a;
        hv.opt.vmax = a;
        hv.opt.show_labels = labels;
        hv.opt.show_values = labels && s.view.show_values;
        hv.opt.show_colorbar = k == 2;
        hv.opt.interactive = false;
        if (k % cols != 0) ImGui::SameLine();
        ImGui::BeginGroup();
        ImGui::TextUnformatted(ellipsize(titles[k], tile_w).c_str());
        ImGui::PushID(k);
        const HeatmapResult r = hv.Draw("cmp", ImVec2(tile_w, tile_h), qlab, klab, s.sel.query, s.sel.key, s.sel.shown_hover_query,
                                        s.sel.shown_hover_key);
        ImGui::PopID();
        s.ui_rects["compare." + std::to_string(k)] = {r.plot_min.x, r.plot_min.y, r.plot_max.x, r.plot_max.y};
        ImGui::EndGroup();
        if (r.hovered) {
            s.sel.hover_query = r.hover_row;
            s.sel.hover_key = r.hover_col;
            const int i = r.hover_row, j = r.hover_col;
            ImGui::SetTooltip("query %d \xE2\x86\x92 key %d\nwith mask     %.6g\nwithout mask  %.6g\ndifference    %.6g%s", i, j,
                              static_cast<double>(masked(i, j)), static_cast<double>(unmasked(i, j)),
                              static_cast<double>(masked(i, j) - unmasked(i, j)), s.scene.mask.allows(i, j) ? "" : "\n(masked)");
        }
    }
    ImGui::End();
}

}  // namespace attnviz::app
