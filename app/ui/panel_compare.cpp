// attnviz app — the selected head with the mask and without, and their difference, on one shared
// diverging colour scale (what the mask takes away is blue, what it gives back to allowed keys red).
#include <algorithm>
#include <cmath>

#include "long_view.hpp"
#include "panels.hpp"
#include "explain.hpp"  // format_count
#include "text.hpp"
#include "unmasked.hpp"

namespace attnviz::app {

void DrawComparePanel(AppState& s) {
    SetNextPanelLayout(kCompareWindow);
    if (!ImGui::Begin(kCompareWindow, &s.show_compare)) {
        ImGui::End();
        return;
    }
    AppState::Views& v = views(s);
    const int h = std::clamp(s.sel.head, 0, s.scene.n_heads - 1);
    const int n = s.scene.n(), m = s.scene.m();
    const std::shared_ptr<const PatternSource> src = s.patterns();
    const Forward* full = src ? src->full() : nullptr;
    if (s.model && (!full || (s.scene.mask.type != MaskType::None && s.unmasked().heads.size() != full->heads.size()))) {
        // a model's layer and its unmasked run are computed on the worker (AppState::poll_model asks for them)
        ImGui::TextDisabled(full ? "computing the same text without the mask\xE2\x80\xA6" : "computing\xE2\x80\xA6");
        ImGui::End();
        return;
    }
    // Long mode: head h's two patterns come from the statistics (masked: PatternTiles::tile;
    // unmasked: core/unmasked.hpp) when the three views' matrices fit the window's memory budget.
    std::shared_ptr<const PatternTiles> tiles;
    if (!full) {
        const std::size_t need = compare_bytes(n, m), budget = Limits::kLiveForwardBytes;
        if (need > budget) {
            ImGui::TextWrapped("Masked vs unmasked holds three %s \xC3\x97 %s matrices of head %d (masked, unmasked, difference): "
                               "3 \xC3\x97 %s \xC3\x97 %s \xC3\x97 4 bytes = %.1f MiB, more than the %.0f MiB budget the window keeps "
                               "live. Shorten the text to about %s tokens to compare.",
                               format_count(n).c_str(), format_count(m).c_str(), h, format_count(n).c_str(), format_count(m).c_str(),
                               static_cast<double>(need) / (1024.0 * 1024.0), static_cast<double>(budget) / (1024.0 * 1024.0),
                               format_count(static_cast<std::int64_t>(std::sqrt(static_cast<double>(budget) / 12.0))).c_str());
            MarkItem(s, "compare.too_large");
            ImGui::End();
            return;
        }
        tiles = long_state(s).ready(s.generation);
        if (!tiles) {
            ImGui::TextDisabled("long sequence: the statistics are being computed\xE2\x80\xA6");
            ImGui::End();
            return;
        }
    }
    ImGui::Text("head %d, mask: %s", h, mask_words(s.scene.mask.type));
    if (full) {
        const Mat& masked = full->heads[static_cast<std::size_t>(h)].pattern;
        const Mat& unmasked = s.unmasked().heads[static_cast<std::size_t>(h)].pattern;
        same_line_if_fits(ImGui::GetFontSize() * 11);
        ExportButtons(s, "mask_difference_h" + std::to_string(h), [&] { return Mat(masked - unmasked); },
                      [&](const FigureOptions& o) { return figure_compare(s.scene, s.fwd, s.unmasked(), h, o); });
    } else {
        ImGui::SameLine();
        ImGui::TextDisabled("(long sequence: %.0f MiB)", static_cast<double>(compare_bytes(n, m)) / (1024.0 * 1024.0));
    }
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
    bool wants = false;
    for (int k = 0; k < 3; ++k) wants = wants || v.compare[k].wants_data(view_data_key(s, h, 8 + k)) || v.compare[k].opt.transpose != s.view.transpose;
    if (wants) {
        // (n, m) each; in long mode computed now, held only by the views
        const Mat masked = full ? full->heads[static_cast<std::size_t>(h)].pattern : tiles->tile(h, 0, 0, n, m);
        const Mat unmasked = full ? s.unmasked().heads[static_cast<std::size_t>(h)].pattern : unmasked_pattern_rows(*tiles, h, 0, n);
        for (int k = 0; k < 3; ++k) {
            HeatmapView& hv = v.compare[k];
            const std::uint64_t key = view_data_key(s, h, 8 + k);
            hv.opt.transpose = s.view.transpose;
            if (k == 0) hv.set_data(masked, &s.scene.mask, key);
            else if (k == 1) hv.set_data(unmasked, nullptr, key);
            else hv.set_data(Mat(masked - unmasked), nullptr, key);
        }
    }
    float a = 0.0f;
    for (const auto& hv : v.compare) a = std::max({a, std::fabs(hv.data_lo), std::fabs(hv.data_hi)});
    // long sequences: thousands of keys share each row's weight, and the few rows that see one key
    // (weight 1) would leave every other cell white: the scale reaches the patterns' 99.5th percentile
    if (!full) {
        const float q = std::max(v.compare[0].upper_quantile(0.995), v.compare[1].upper_quantile(0.995));
        if (q > 0.0f) a = q;
    }
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
            float with = 0, without = 0;  // the views' exact values (long mode keeps no other copy)
            v.compare[0].exact_value(i, j, with);
            v.compare[1].exact_value(i, j, without);
            if (with == HeatmapView::kMaskedValue) with = 0.0f;  // a masked cell's weight
            ImGui::SetTooltip("query %d \xE2\x86\x92 key %d\nwith mask     %.6g\nwithout mask  %.6g\ndifference    %.6g%s", i, j,
                              static_cast<double>(with), static_cast<double>(without), static_cast<double>(with - without), s.scene.mask.allows(i, j) ? "" : "\n(masked)");
        }
    }
    ImGui::End();
}

}  // namespace attnviz::app
