// attnviz app — long sequences, drawn (see long_view.hpp; the state is app/session/long_state.hpp).
//
// [SECTION] Requests: what the heatmap needs for the current view
// [SECTION] Panels: heatmap, grid, notice
#include "long_view.hpp"

#include <algorithm>
#include <cstdio>

#include <imgui.h>
#include <imgui_stdlib.h>

#include "app_state.hpp"
#include "explain.hpp"  // format_count
#include "measure.hpp"
#include "panels.hpp"
#include "scene_io.hpp"
#include "text.hpp"

namespace attnviz::app {

// ---------------------------------------------------------------------------------------------
// [SECTION] Requests
// ---------------------------------------------------------------------------------------------
namespace {
// A block around the visible one: `grow` of its size more on each side, inside [0, limit).
void grow_block(int& at, int& len, double grow, int limit) {
    const int extra = static_cast<int>(len * grow);
    const int a = std::max(0, at - extra), b = std::min(limit, at + len + extra);
    at = a;
    len = b - a;
}

bool contains(int a0, int alen, int b0, int blen) { return b0 >= a0 && b0 + blen <= a0 + alen; }

void ask_block(LongView& lv, int kind, std::uint64_t key, std::shared_ptr<const PatternTiles> tiles, int head, Stage st,
               bool exact, int row0, int col0, int rows, int cols, int tex_rows, int tex_cols, Pool pool, const char* what) {
    char label[160];
    if (exact)
        std::snprintf(label, sizeof label, "%s: exact %s \xC3\x97 %s cells of head %d", what, format_count(rows).c_str(),
                      format_count(cols).c_str(), head);
    else
        std::snprintf(label, sizeof label, "%s: %s \xC3\x97 %s cells of head %d pooled (%s) to %d \xC3\x97 %d", what,
                      format_count(rows).c_str(), format_count(cols).c_str(), head, pool == Pool::Max ? "max" : "mean", tex_rows, tex_cols);
    LongView* p = &lv;
    lv.jobs.submit(kind, label, [=](Progress& progress) {
        LongView::Result r;
        r.key = key;
        r.row0 = row0;
        r.col0 = col0;
        r.rows = rows;
        r.cols = cols;
        if (exact) {
            r.values = tiles->stage_tile(head, st, row0, col0, rows, cols);
        } else if (!tiles->overview(head, row0, col0, rows, cols, tex_cols, tex_rows, pool, r.values, &progress)) {
            return;  // cancelled
        }
        std::lock_guard<std::mutex> lock(p->mu);
        (kind == LongView::kBase ? p->base_done : p->detail_done) = std::move(r);
    });
}

// Takes a finished result into a block of the view when it is the one wanted (and, for the
// whole pattern's overview, into the minimap's base too).
void take(LongView& lv, std::optional<LongView::Result>& slot, HeatmapView& hv, HeatmapBlock& into, std::uint64_t want,
          const Mask* mask, HeatmapView* minimap = nullptr) {
    std::optional<LongView::Result> r;
    {
        std::lock_guard<std::mutex> lock(lv.mu);
        if (!slot) return;
        r = std::move(slot);
        slot.reset();
    }
    if (r->key != want) return;
    hv.set_block(into, r->values, r->row0, r->col0, r->rows, r->cols, mask, r->key);
    if (minimap) {
        minimap->opt.transpose = hv.opt.transpose;
        minimap->set_shape(r->row0 + r->rows, r->col0 + r->cols);
        minimap->set_block(minimap->base, r->values, r->row0, r->col0, r->rows, r->cols, nullptr, r->key);
        minimap->update_range();
    }
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Panels
// ---------------------------------------------------------------------------------------------
namespace {
// Progress of the worker's job and a Cancel button; returns whether something runs.
bool progress_line(AppState& s, LongView& lv) {
    const JobRunner::Status st = lv.jobs.current();
    if (!st.running) return false;
    ImGui::PushStyleColor(ImGuiCol_PlotHistogram, ImVec4(0.35f, 0.6f, 0.95f, 1.0f));
    char overlay[32];
    if (st.fraction > 0.0) std::snprintf(overlay, sizeof overlay, "%.0f%%", st.fraction * 100.0);
    else std::snprintf(overlay, sizeof overlay, "working\xE2\x80\xA6");
    ImGui::ProgressBar(static_cast<float>(st.fraction), ImVec2(ImGui::GetFontSize() * 10, 0), overlay);
    ImGui::PopStyleColor();
    MarkItem(s, "long.progress");
    ImGui::SameLine();
    if (ImGui::SmallButton("Cancel")) {
        lv.jobs.cancel(st.kind);
        if (st.kind == LongView::kBase) lv.base_cancelled = true;
    }
    MarkItem(s, "long.cancel");
    ImGui::SameLine();
    ImGui::TextDisabled("%s", st.label.c_str());
    return true;
}

void long_tooltip(const AppState& s, const PatternTiles& t, int head, int i, int j) {
    if (i < 0 || j < 0 || i >= t.n() || j >= t.m()) return;
    const HeadStats& hs = t.head(head);
    CellNumbers c;
    c.head = head;
    c.i = i;
    c.j = j;
    c.raw = t.score(head, i, j);
    c.logit = c.raw * t.logit_factor();
    c.allowed = t.mask().allows(i, j);
    c.weight = t.cell(head, i, j);
    c.has_row_stats = true;
    c.row_max = hs.row_max[static_cast<std::size_t>(i)];
    c.row_sum = hs.row_sum[static_cast<std::size_t>(i)];
    c.row_argmax = hs.row_argmax[static_cast<std::size_t>(i)];
    CellTooltip(s, c);
}
}  // namespace

// `side`: the longer side of its square-ish box; `below`: under the plot (else right of it).
static void DrawMinimap(AppState& s, HeatmapView& hv, HeatmapView& mm, float side, bool below) {
    if (!below) ImGui::SameLine();
    ImGui::BeginGroup();
    ImGui::TextDisabled("whole pattern");
    mm.opt.show_labels = false;
    mm.opt.show_colorbar = false;
    mm.opt.show_values = false;
    mm.opt.interactive = false;
    mm.opt.square_cells = false;
    mm.opt.colormap = hv.opt.colormap;
    mm.opt.vmin = 0.0f;  // its own scale: the overview's weights up to their 99.5th percentile
    mm.opt.vmax = std::max(mm.upper_quantile(0.995), 1e-12f);
    mm.view = full_view(mm.rows, mm.cols);
    // the matrix's shape (rows : columns) in a box `side` on its longer side
    const float aspect = static_cast<float>(std::max(mm.rows, 1)) / static_cast<float>(std::max(mm.cols, 1));
    const float width = aspect > 1 ? side / aspect : side, height = aspect > 1 ? side : side * aspect;
    static const std::vector<std::string> no_labels;
    const HeatmapResult r = mm.Draw("minimap", ImVec2(width, height), no_labels, no_labels);
    s.ui_rects["long.minimap"] = {r.plot_min.x, r.plot_min.y, r.plot_max.x, r.plot_max.y};
    // the visible block, outlined (at least a few pixels, so a deep zoom still shows where it is)
    const float pw = r.plot_max.x - r.plot_min.x, ph = r.plot_max.y - r.plot_min.y;
    if (mm.cols > 0 && mm.rows > 0 && pw > 0 && ph > 0) {
        ImVec2 a(r.plot_min.x + hv.view.x0 / static_cast<float>(mm.cols) * pw, r.plot_min.y + hv.view.y0 / static_cast<float>(mm.rows) * ph);
        ImVec2 b(r.plot_min.x + hv.view.x1 / static_cast<float>(mm.cols) * pw, r.plot_min.y + hv.view.y1 / static_cast<float>(mm.rows) * ph);
        const float cx = (a.x + b.x) / 2, cy = (a.y + b.y) / 2;
        if (b.x - a.x < 5) { a.x = cx - 2.5f; b.x = cx + 2.5f; }
        if (b.y - a.y < 5) { a.y = cy - 2.5f; b.y = cy + 2.5f; }
        ImDrawList* dl = ImGui::GetWindowDrawList();
        dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), IM_COL32(0, 0, 0, 200), 0, 0, 3.0f);
        dl->AddRect(a, b, IM_COL32(255, 214, 0, 255), 0, 0, 2.0f);
    }
    // a click centres the heatmap's view on that point of the whole pattern
    if (ImGui::IsMouseHoveringRect(r.plot_min, r.plot_max) && ImGui::IsMouseClicked(ImGuiMouseButton_Left) && hv.rows > 0 && hv.cols > 0) {
        const ImVec2 mp = ImGui::GetIO().MousePos;
        const float x = (mp.x - r.plot_min.x) / pw * static_cast<float>(hv.cols), y = (mp.y - r.plot_min.y) / ph * static_cast<float>(hv.rows);
        hv.view = pan_view(hv.view, x - (hv.view.x0 + hv.view.x1) / 2, y - (hv.view.y0 + hv.view.y1) / 2, hv.rows, hv.cols);
    }
    if (ImGui::IsMouseHoveringRect(r.plot_min, r.plot_max)) ImGui::SetTooltip("The whole pattern (pooled); the yellow box is what the heatmap shows. Click to go there.");
    ImGui::EndGroup();
}

void DrawLongHeatmap(AppState& s, HeatmapView& hv, int head, Stage st) {
    LongView& lv = long_state(s);
    const int n = s.scene.n(), m = s.scene.m();
    const std::int64_t cells = static_cast<std::int64_t>(n) * m;
    const bool whole_exact = cells <= kLongExactCells;
    const Pool pool = lv.pool == 0 ? Pool::Max : Pool::Mean;

    // -- controls of long mode --
    ImGui::TextColored(ImVec4(0.55f, 0.8f, 1.0f, 1.0f), "long sequence: %s \xC3\x97 %s", format_count(n).c_str(), format_count(m).c_str());
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Every pattern at once would not fit in memory: the view shows a pooled overview of the whole\n"
                          "pattern and, zoomed in, the exact cells of what you see, computed on demand from the\n"
                          "per-row softmax statistics (row max and sum, as FlashAttention keeps them).");
    if (!whole_exact) {
        ImGui::SameLine();
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
        const char* pools[] = {"max pool", "mean pool"};
        ImGui::Combo("##pool", &lv.pool, pools, 2);
        MarkItem(s, "long.pool");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Zoomed out, a pixel covers many cells: show their largest weight (max) or their mean");
    }
    // -- go to token: by index or by text (Enter again: the next match) --
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
    const bool go = ImGui::InputTextWithHint("##goto", "go to token: 1200 or a word", &lv.goto_text, ImGuiInputTextFlags_EnterReturnsTrue);
    MarkItem(s, "long.goto");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Type a token index or a word and press Enter: the view moves to that query (Enter again: the next one)");
    if (go) {
        const int i = find_token(s.scene.input.tokens, lv.goto_text, lv.goto_found);
        if (i < 0) {
            s.set_error("go to token: no token \"" + lv.goto_text + "\"");
        } else {
            lv.goto_found = i;
            s.sel.query = i;
            if (!s.scene.source) s.sel.key = i;
            // centre the view on the query's row (and, for self-attention, its own key's column)
            const bool tr = hv.opt.transpose;
            const float c = static_cast<float>(i) + 0.5f;
            const float dy = tr ? (s.scene.source ? 0.0f : c - (hv.view.y0 + hv.view.y1) / 2) : c - (hv.view.y0 + hv.view.y1) / 2;
            const float dx = tr ? c - (hv.view.x0 + hv.view.x1) / 2 : (s.scene.source ? 0.0f : c - (hv.view.x0 + hv.view.x1) / 2);
            if (hv.rows > 0 && hv.cols > 0) hv.view = pan_view(hv.view, dx, dy, hv.rows, hv.cols);
            s.set_info("token " + std::to_string(i) + ": \"" + s.scene.input.tokens[static_cast<std::size_t>(i)].text + "\"");
        }
    }
    std::shared_ptr<const PatternTiles> ready_tiles = lv.ready(s.generation);
    {
        // Export: the window as PNG, and the visible cells exactly (zoomed in far enough) as CSV
        static const char* const stage_keys[] = {"raw", "scaled", "masked", "pattern"};
        int r0 = 0, c0 = 0, vr = 0, vc = 0;
        hv.visible_data_block(r0, c0, vr, vc);
        const bool can = ready_tiles && vr > 0 && vc > 0 && static_cast<std::int64_t>(vr) * vc <= kLongExactCells;
        char what[96];
        std::snprintf(what, sizeof what, "%s_h%d_q%d-%d_k%d-%d", stage_keys[static_cast<int>(st)], head, r0, r0 + vr - 1, c0,
                      c0 + vc - 1);
        const std::string base = export_base(s, what);
        same_line_if_fits(ImGui::CalcTextSize("Export PNG Export CSV").x + ImGui::GetStyle().FramePadding.x * 4 +
                       ImGui::GetStyle().ItemSpacing.x * 2);
        const ImVec2 wmin = ImGui::GetWindowPos();
        if (ImGui::Button("Export PNG"))
            s.png_exports.push_back({base + ".png", wmin.x, wmin.y, wmin.x + ImGui::GetWindowWidth(), wmin.y + ImGui::GetWindowHeight()});
        MarkItem(s, "long.export_png");
        ImGui::SameLine();
        ImGui::BeginDisabled(!can);
        if (ImGui::Button("Export CSV")) {
            const Mat block = ready_tiles->stage_tile(head, st, r0, c0, vr, vc);
            const auto& ql = indexed_query_labels(s);  // "1000:word": index and text
            const auto& kl = indexed_key_labels(s);
            const std::vector<std::string> rl(ql.begin() + r0, ql.begin() + r0 + vr), cl(kl.begin() + c0, kl.begin() + c0 + vc);
            try {
                write_file_atomic(base + ".csv", matrix_csv(block, &rl, &cl, "query\\key"));
                s.set_info("wrote " + base + ".csv");
            } catch (const SceneError& e) {
                s.set_error(std::string("export CSV: ") + e.what());
            }
        }
        ImGui::EndDisabled();
        MarkItem(s, "long.export_csv");
        if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) {
            if (can) ImGui::SetTooltip("Save the visible cells (queries %d..%d, keys %d..%d) exactly, as %s.csv", r0, r0 + vr - 1, c0, c0 + vc - 1, base.c_str());
            else ImGui::SetTooltip("Zoom in to at most %s visible cells to export their exact values", format_count(kLongExactCells).c_str());
        }
    }
    const bool running = progress_line(s, lv);

    std::shared_ptr<const PatternTiles> tiles = std::move(ready_tiles);
    {
        std::lock_guard<std::mutex> lock(lv.mu);
        if (!tiles && !lv.build_error.empty()) {
            ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.4f, 1.0f), "could not compute the statistics: %s", lv.build_error.c_str());
        } else if (!tiles && lv.build_cancelled) {
            ImGui::TextDisabled("computing the statistics was cancelled");
        }
    }
    if (!tiles && !running && !s.long_view->jobs.busy()) {
        ImGui::SameLine();
        if (ImGui::SmallButton("Compute")) long_rebuild(s);
        MarkItem(s, "long.compute");
    }

    // -- what is shown changes: drop blocks of another head, stage or pooling --
    const bool transposed_changed = hv.opt.transpose != hv.data_transposed;
    hv.set_shape(n, m);
    if (transposed_changed || lv.shown_head != head || lv.shown_stage != static_cast<int>(st) || lv.shown_pool != lv.pool) {
        hv.base.clear();
        hv.detail.clear();
        hv.update_range();
        lv.base_asked = lv.detail_asked = 0;
        lv.base_cancelled = false;
        lv.shown_head = head;
        lv.shown_stage = static_cast<int>(st);
        lv.shown_pool = lv.pool;
    }
    if (lv.shown_generation != s.generation) {
        // an edit: the exact block is quick to recompute, the overview is kept until its update comes
        hv.detail.clear();
        hv.update_range();
        lv.detail_asked = 0;
        lv.base_cancelled = false;
        lv.shown_generation = s.generation;
    }
    const bool masked_stage = st == Stage::Masked || st == Stage::Pattern;
    const Mask* mask = masked_stage ? &s.scene.mask : nullptr;

    // -- base: the whole matrix, exact when small enough, else the pooled softmax weights --
    std::uint64_t want_base = 0;
    if (whole_exact) want_base = long_key({static_cast<std::int64_t>(s.generation), head, static_cast<int>(st), 1});
    else if (st == Stage::Pattern) want_base = long_key({static_cast<std::int64_t>(s.generation), head, 2, lv.pool});
    HeatmapView& minimap = views(s).minimap;
    if (want_base) take(lv, lv.base_done, hv, hv.base, want_base, mask, whole_exact ? nullptr : &minimap);
    if (tiles && want_base && hv.base.key != want_base && lv.base_asked != want_base && !lv.base_cancelled) {
        const int tr = whole_exact ? n : std::min(n, kLongOverviewSize), tc = whole_exact ? m : std::min(m, kLongOverviewSize);
        ask_block(lv, LongView::kBase, want_base, tiles, head, st, whole_exact, 0, 0, n, m, tr, tc, pool, "overview");
        lv.base_asked = want_base;
    }
    if (!want_base && !hv.base.empty()) {
        hv.base.clear();
        hv.update_range();
    }

    // -- detail: the visible block, exact when it is small enough, else pooled finer --
    if (!whole_exact) {
        int r0 = 0, c0 = 0, vr = 0, vc = 0;
        hv.visible_data_block(r0, c0, vr, vc);
        const std::int64_t visible = static_cast<std::int64_t>(vr) * vc;
        const bool exact = visible > 0 && visible <= kLongExactCells / 4;
        const bool finer = !exact && st == Stage::Pattern && visible > 0 && (vr * 2 <= n || vc * 2 <= m);
        const bool covered = lv.detail_asked != 0 && contains(lv.detail_row0, lv.detail_rows, r0, vr) &&
                             contains(lv.detail_col0, lv.detail_cols, c0, vc);
        // a pooled block is redone when the zoom changed by 2× (its buckets would be too coarse or too fine)
        // (and an exact block is wanted once the view is small enough, whatever pooled block is held)
        const bool scale_ok = exact ? lv.detail_exact_asked
                                    : lv.detail_exact_asked || (lv.detail_rows > 0 && vr * 2 > lv.detail_rows / 2 && vr * 2 <= lv.detail_rows * 2);
        take(lv, lv.detail_done, hv, hv.detail, lv.detail_asked, exact ? mask : nullptr);
        if (tiles && (exact || finer) && !(covered && scale_ok)) {
            int br0 = r0, bc0 = c0, brows = vr, bcols = vc;
            grow_block(br0, brows, exact ? 0.5 : 0.25, n);
            grow_block(bc0, bcols, exact ? 0.5 : 0.25, m);
            const std::uint64_t want = long_key({static_cast<std::int64_t>(s.generation), head, static_cast<int>(st), lv.pool, br0, bc0, brows,
                                                bcols, exact ? 1 : 0});
            const ImVec2 px(hv.last_layout.plot_max.x - hv.last_layout.plot_min.x, hv.last_layout.plot_max.y - hv.last_layout.plot_min.y);
            const int tr = exact ? brows : std::clamp(static_cast<int>(px.y * brows / std::max(vr, 1)), 1, std::min(brows, 2 * kLongOverviewSize));
            const int tc = exact ? bcols : std::clamp(static_cast<int>(px.x * bcols / std::max(vc, 1)), 1, std::min(bcols, 2 * kLongOverviewSize));
            ask_block(lv, LongView::kDetail, want, tiles, head, st, exact, br0, bc0, brows, bcols, tr, tc, pool, "visible block");
            lv.detail_asked = want;
            lv.detail_exact_asked = exact;
            lv.detail_row0 = br0;
            lv.detail_col0 = bc0;
            lv.detail_rows = brows;
            lv.detail_cols = bcols;
        }
        if (!exact && !finer && !hv.detail.empty()) {
            hv.detail.clear();
            hv.update_range();
            lv.detail_asked = 0;
        }
    }
    if (!whole_exact && st != Stage::Pattern && hv.detail.empty()) {
        char zoom[96];
        std::snprintf(zoom, sizeof zoom, "zoom in (mouse wheel) to at most ~%s cells to see %s", format_count(kLongExactCells / 4).c_str(),
                      stage_name(st));
        ImGui::TextDisabled("%s", zoom);
    }

    // auto range: 0 to the 99.5th percentile of what is held, so that the few large weights of a
    // long sequence (its first rows see few keys) do not leave everything else one colour
    if (s.view.auto_range && st == Stage::Pattern) {
        const float hi = hv.upper_quantile(0.995);
        if (hi > 0.0f) {
            hv.opt.vmin = 0.0f;
            hv.opt.vmax = hi;
        }
    }

    // -- the plot --
    const auto& rows = indexed_query_labels(s);  // "1000:word": where you are in a long text
    const auto& cols = indexed_key_labels(s);
    // The minimap (the whole pattern's pooled overview, the visible block outlined; a click moves
    // the view there): below the plot when the panel is taller than wide (the square plot leaves
    // room), else right of it.
    const bool show_minimap = !whole_exact && !hv.base.empty() && minimap.base.key == hv.base.key && minimap.rows == hv.rows &&
                              minimap.cols == hv.cols;
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float fs = ImGui::GetFontSize();
    const float mm_side = std::clamp(std::min(avail.x, avail.y) * 0.2f, fs * 5, fs * 12);
    const float spacing = ImGui::GetStyle().ItemSpacing.x;
    // (row labels and the colour bar take more width than the column labels take height: a panel
    // a little wider than tall still has its spare room below the plot)
    const bool below = avail.y > 0.85f * avail.x;
    ImVec2 plot_size(0, 0);
    if (show_minimap && below) plot_size = ImVec2(avail.x, std::max(avail.y - mm_side - ImGui::GetTextLineHeightWithSpacing() - spacing, 100.0f));
    if (show_minimap && !below) plot_size = ImVec2(std::max(avail.x - mm_side - spacing, 100.0f), avail.y);
    HeatmapResult r = hv.Draw("long_heatmap", plot_size, rows, cols, s.sel.query, s.sel.key, s.sel.shown_hover_query, s.sel.shown_hover_key);
    s.ui_rects["heatmap.plot"] = {r.plot_min.x, r.plot_min.y, r.plot_max.x, r.plot_max.y};
    if (show_minimap) DrawMinimap(s, hv, minimap, mm_side, below);
    // what the view shows, for the state dump (AppState::state_json)
    lv.shown_valid = true;
    lv.shown_view[0] = hv.view.x0;
    lv.shown_view[1] = hv.view.y0;
    lv.shown_view[2] = hv.view.x1;
    lv.shown_view[3] = hv.view.y1;
    lv.shown_overview = !hv.base.empty();
    lv.shown_detail_exact = hv.detail.exact();
    if (r.hovered) {
        s.sel.hover_query = r.hover_row;
        s.sel.hover_key = r.hover_col;
        if (tiles) long_tooltip(s, *tiles, head, r.hover_row, r.hover_col);
    }
    if (r.clicked) {
        const bool same = s.sel.query == r.hover_row && s.sel.key == r.hover_col;
        s.sel.query = same ? -1 : r.hover_row;
        s.sel.key = same ? -1 : r.hover_col;
    }
}

void DrawLongGrid(AppState& s) {
    LongView& lv = long_state(s);
    AppState::Views& v = views(s);
    const int heads = s.scene.n_heads, n = s.scene.n(), m = s.scene.m();
    v.grid.resize(static_cast<std::size_t>(heads));
    std::shared_ptr<const PatternTiles> tiles = lv.ready(s.generation);
    ImGui::TextDisabled("each head pooled (%s) to %d \xC3\x97 %d, its own colour scale", lv.pool == 0 ? "max" : "mean", std::min(n, kLongGridSize), std::min(m, kLongGridSize));
    const Pool pool = lv.pool == 0 ? Pool::Max : Pool::Mean;
    auto key_of = [&](int t) { return long_key({static_cast<std::int64_t>(s.generation), t, lv.pool, 3}); };
    // ask for every head's overview (one job each, after the heatmap's own requests)
    const std::uint64_t asked = long_key({static_cast<std::int64_t>(s.generation), lv.pool, heads});
    if (tiles && lv.grid_asked != asked) {
        lv.grid_asked = asked;
        {
            std::lock_guard<std::mutex> lock(lv.mu);
            lv.grid_done.clear();
        }
        LongView* p = &lv;
        for (int t = 0; t <= heads; ++t) {
            const int head = t == heads ? -1 : t;
            const std::uint64_t key = key_of(t);
            char label[96];
            if (head < 0) std::snprintf(label, sizeof label, "all heads: the average");
            else std::snprintf(label, sizeof label, "all heads: head %d", head);
            lv.jobs.submit(LongView::kGrid + t, label, [p, tiles, head, key, n, m, pool](Progress& progress) {
                LongView::Result r;
                r.key = key;
                r.rows = n;
                r.cols = m;
                if (!tiles->overview(head, 0, 0, n, m, std::min(m, kLongGridSize), std::min(n, kLongGridSize), pool, r.values, &progress)) return;
                std::lock_guard<std::mutex> lock(p->mu);
                p->grid_done.push_back(std::move(r));
            });
        }
    }
    std::vector<LongView::Result> done;
    {
        std::lock_guard<std::mutex> lock(lv.mu);
        done.swap(lv.grid_done);
    }
    const int tiles_n = heads + 1;
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float title_h = ImGui::GetTextLineHeightWithSpacing();
    const ImGuiStyle& stl = ImGui::GetStyle();
    const int cols = grid_columns(tiles_n, avail.x, avail.y, title_h + stl.ItemSpacing.y, 1.0f);
    const int rows = (tiles_n + cols - 1) / cols;
    const float tile_w = std::floor((avail.x - stl.ItemSpacing.x * static_cast<float>(cols - 1)) / static_cast<float>(cols));
    const float tile_h = std::floor((avail.y - static_cast<float>(rows) * (title_h + stl.ItemSpacing.y)) / static_cast<float>(rows));
    static const std::vector<std::string> no_labels;
    for (int t = 0; t < tiles_n; ++t) {
        const bool avg = t == heads;
        HeatmapView& hv = avg ? v.grid_average : v.grid[static_cast<std::size_t>(t)];
        hv.opt.transpose = s.view.transpose;
        hv.opt.show_labels = false;
        hv.opt.show_colorbar = false;
        hv.opt.show_values = false;
        hv.opt.interactive = false;
        hv.set_shape(n, m);
        for (const auto& r : done)
            if (r.key == key_of(t)) hv.set_block(hv.base, r.values, 0, 0, n, m, nullptr, r.key);
        configure_for_stage(hv, Stage::Pattern, s.view.colormap, true);
        if (const float hi = hv.upper_quantile(0.995); hi > 0.0f) hv.opt.vmax = hi;  // each tile its own scale
        if (t % cols != 0) ImGui::SameLine();
        ImGui::BeginGroup();
        const bool selected = !avg && t == s.sel.head;
        char title_buf[64];
        if (avg) std::snprintf(title_buf, sizeof title_buf, "average of %s", count_noun(heads, "head").c_str());
        else std::snprintf(title_buf, sizeof title_buf, "head %d%s", t, selected ? " (selected)" : "");
        const std::string title = title_buf;
        const bool current = hv.base.key == key_of(t);
        if (selected) ImGui::TextColored(ImVec4(1.0f, 0.84f, 0.0f, 1.0f), "%s%s", ellipsize(title, tile_w).c_str(), current ? "" : " \xE2\x80\xA6");
        else ImGui::Text("%s%s", ellipsize(title, tile_w).c_str(), current ? "" : " \xE2\x80\xA6");
        ImGui::PushID(t);
        const HeatmapResult r = hv.Draw("tile", ImVec2(tile_w, tile_h), no_labels, no_labels, s.sel.query, s.sel.key);
        ImGui::PopID();
        char rect_name[32];
        std::snprintf(rect_name, sizeof rect_name, avg ? "grid.average" : "grid.head%d", t);
        s.ui_rects[rect_name] = {r.plot_min.x, r.plot_min.y, r.plot_max.x, r.plot_max.y};
        if (selected)
            ImGui::GetWindowDrawList()->AddRect(ImVec2(r.plot_min.x - 3, r.plot_min.y - 3), ImVec2(r.plot_max.x + 3, r.plot_max.y + 3),
                                                IM_COL32(255, 214, 0, 255), 0, 0, 2.0f);
        ImGui::EndGroup();
        if (r.hovered && tiles && !avg) long_tooltip(s, *tiles, t, r.hover_row, r.hover_col);
        if (!avg && r.clicked) s.sel.head = t;
    }
}

void LongModeNotice(const AppState& s, const char* what) {
    // the sizes measured for this scene: a full forward pass against what the window keeps live
    const double need_mib = static_cast<double>(estimate_forward_bytes(s.scene)) / (1024.0 * 1024.0);
    const double live_mib = static_cast<double>(Limits::kLiveForwardBytes) / (1024.0 * 1024.0);
    ImGui::TextWrapped("%s needs every attention pattern of the scene at once: with %s and %s that is %.0f MiB, more "
                       "than the %.0f MiB the window keeps live. The attention heatmap and the all-heads grid show this scene tile "
                       "by tile; the Weights editor works as usual. Shorten the text (or use fewer heads) to use this view.",
                       what, count_noun(s.scene.n(), "token").c_str(), count_noun(s.scene.n_heads, "head").c_str(), need_mib,
                       live_mib);
}

}  // namespace attnviz::app
