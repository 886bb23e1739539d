// attnviz app — the heatmap widget (see heatmap.hpp).
//
// [SECTION] Pure math: views, zoom, hit testing, label thinning, layout
// [SECTION] HeatmapView: data, GPU pass, Draw
#include "heatmap.hpp"
#include "heatmap_pass.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace attnviz::app {

// ---------------------------------------------------------------------------------------------
// [SECTION] Pure math
// ---------------------------------------------------------------------------------------------
CellView full_view(int rows, int cols) { return {0.0f, 0.0f, static_cast<float>(std::max(cols, 1)), static_cast<float>(std::max(rows, 1))}; }

namespace {
// Keeps [a, a + len) inside [0, limit] with len clamped to [min_len, limit].
void clamp_span(float& a, float& b, float limit, float min_len) {
    float len = std::clamp(b - a, std::min(min_len, limit), limit);
    a = std::clamp(a, 0.0f, limit - len);
    b = a + len;
}
}  // namespace

CellView zoom_view(const CellView& v, float cx, float cy, float factor, int rows, int cols, float min_cells) {
    if (!(factor > 0.0f)) return v;
    CellView r;
    const float w = v.width() / factor, h = v.height() / factor;
    // keep (cx, cy) at the same fraction of the view
    const float fx = v.width() > 0 ? (cx - v.x0) / v.width() : 0.5f;
    const float fy = v.height() > 0 ? (cy - v.y0) / v.height() : 0.5f;
    r.x0 = cx - fx * w;
    r.x1 = r.x0 + w;
    r.y0 = cy - fy * h;
    r.y1 = r.y0 + h;
    clamp_span(r.x0, r.x1, static_cast<float>(std::max(cols, 1)), min_cells);
    clamp_span(r.y0, r.y1, static_cast<float>(std::max(rows, 1)), min_cells);
    return r;
}

CellView pan_view(const CellView& v, float dx, float dy, int rows, int cols) {
    CellView r{v.x0 + dx, v.y0 + dy, v.x1 + dx, v.y1 + dy};
    clamp_span(r.x0, r.x1, static_cast<float>(std::max(cols, 1)), 0.0f);
    clamp_span(r.y0, r.y1, static_cast<float>(std::max(rows, 1)), 0.0f);
    return r;
}

bool cell_at(ImVec2 plot_min, ImVec2 plot_max, const CellView& v, int rows, int cols, ImVec2 p, int& row, int& col) {
    row = col = -1;
    const float w = plot_max.x - plot_min.x, h = plot_max.y - plot_min.y;
    if (w <= 0 || h <= 0) return false;
    if (p.x < plot_min.x || p.y < plot_min.y || p.x >= plot_max.x || p.y >= plot_max.y) return false;
    const float cx = v.x0 + (p.x - plot_min.x) / w * v.width();
    const float cy = v.y0 + (p.y - plot_min.y) / h * v.height();
    const int c = static_cast<int>(std::floor(cx)), r = static_cast<int>(std::floor(cy));
    if (c < 0 || r < 0 || c >= cols || r >= rows) return false;
    row = r;
    col = c;
    return true;
}

int label_step(float cell_px, float label_px) {
    if (!(cell_px > 0.0f)) return 1 << 30;
    if (label_px <= cell_px) return 1;
    return static_cast<int>(std::ceil(label_px / cell_px));
}

HeatmapLayout layout_heatmap(ImVec2 origin, ImVec2 size, float visible_rows, float visible_cols, float max_row_label_w,
                             float max_col_label_w, float font_h, bool colorbar, bool square_cells, float bar_label_w) {
    HeatmapLayout L;
    const float pad = 4.0f;
    const bool labels = font_h > 0.0f;
    visible_rows = std::max(visible_rows, 1e-3f);
    visible_cols = std::max(visible_cols, 1e-3f);
    L.row_label_w = labels ? std::min(max_row_label_w + 2 * pad, 0.3f * size.x) : 0.0f;
    if (bar_label_w <= 0.0f) bar_label_w = std::max(font_h, 8.0f) * 3.6f;
    const float bar_w = colorbar ? 16.0f + 2 * pad + 6.0f + bar_label_w : 0.0f;
    const float avail_w = std::max(size.x - L.row_label_w - bar_w, 1.0f);
    auto fit = [&](float label_h) {
        L.col_label_h = label_h;
        const float avail_h = std::max(size.y - label_h, 1.0f);
        L.cell_w = avail_w / visible_cols;
        L.cell_h = avail_h / visible_rows;
        if (square_cells) L.cell_w = L.cell_h = std::min(L.cell_w, L.cell_h);
    };
    fit(labels ? font_h + 2 * pad : 0.0f);
    L.col_mode = ColumnLabels::Horizontal;
    if (labels && max_col_label_w + pad > L.cell_w) {
        L.col_mode = ColumnLabels::Rotated;
        fit(std::min(max_col_label_w + 2 * pad, 0.3f * size.y));
    }
    L.row_step = labels ? label_step(L.cell_h, font_h) : 1;
    L.col_step = labels && L.col_mode == ColumnLabels::Rotated ? label_step(L.cell_w, font_h) : 1;
    L.plot_min = ImVec2(origin.x + L.row_label_w, origin.y + L.col_label_h);
    L.plot_max = ImVec2(L.plot_min.x + L.cell_w * visible_cols, L.plot_min.y + L.cell_h * visible_rows);
    if (colorbar) {
        L.bar_min = ImVec2(L.plot_max.x + 2 * pad, L.plot_min.y);
        L.bar_max = ImVec2(L.bar_min.x + 16.0f, L.plot_max.y);
    } else {
        L.bar_min = L.bar_max = L.plot_max;
    }
    return L;
}

int grid_columns(int count, float width, float height, float title_h, float aspect) {
    int best = 1;
    float best_side = -1.0f;
    aspect = aspect > 0.0f ? aspect : 1.0f;
    for (int c = 1; c <= std::max(count, 1); ++c) {
        const int r = (count + c - 1) / c;
        // the height of a tile's matrix when it fills the tile keeping its aspect (width / height)
        const float side = std::min(width / static_cast<float>(c) / aspect, height / static_cast<float>(r) - title_h);
        if (side > best_side + 0.5f) {
            best_side = side;
            best = c;
        }
    }
    return best;
}

bool finite_range(const float* values, std::size_t count, float& lo, float& hi) {
    bool any = false;
    lo = hi = 0.0f;
    for (std::size_t i = 0; i < count; ++i) {
        const float v = values[i];
        if (!std::isfinite(v) || std::fabs(v) > 1e37f) continue;
        if (!any) {
            lo = hi = v;
            any = true;
        } else {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    return any;
}

std::string ellipsize(const std::string& text, float width) {
    if (ImGui::CalcTextSize(text.c_str()).x <= width) return text;
    const char* ell = "\xE2\x80\xA6";  // …
    const float ell_w = ImGui::CalcTextSize(ell).x;
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        std::size_t len = 1;
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0xF0) len = 4;
        else if (c >= 0xE0) len = 3;
        else if (c >= 0xC0) len = 2;
        const std::string next = out + text.substr(i, len);
        if (ImGui::CalcTextSize(next.c_str()).x + ell_w > width) break;
        out = next;
        i += len;
    }
    return out + ell;
}

void add_text_vertical(ImDrawList* dl, ImVec2 bottom_left, ImU32 col, const char* text) {
    const int start = dl->VtxBuffer.Size;
    // ImFont::RenderText directly: AddText would cull glyphs against the clip rectangle *before*
    // the rotation; the draw command's clip rectangle still clips the rotated text on the GPU.
    const ImVec4 no_cull(-1e9f, -1e9f, 1e9f, 1e9f);
    ImGui::GetFont()->RenderText(dl, ImGui::GetFontSize(), bottom_left, col, no_cull, text, nullptr, 0.0f, false);
    // rotate (dx, dy) -> (dy, -dx) around bottom_left: the text runs upwards
    for (int i = start; i < dl->VtxBuffer.Size; ++i) {
        ImDrawVert& v = dl->VtxBuffer[i];
        const float dx = v.pos.x - bottom_left.x, dy = v.pos.y - bottom_left.y;
        v.pos = ImVec2(bottom_left.x + dy, bottom_left.y - dx);
    }
}

void heatmap_release_shared() { gl::heatmap_pass_release(); }

// ---------------------------------------------------------------------------------------------
// [SECTION] HeatmapView
// ---------------------------------------------------------------------------------------------
float HeatmapBlock::at(int r, int c) const {
    // bucket y covers cells [y·rows/tex_rows, (y+1)·rows/tex_rows) (PatternTiles::overview's rule)
    const int y = static_cast<int>((static_cast<std::int64_t>(r - r0 + 1) * tex_rows - 1) / rows);
    const int x = static_cast<int>((static_cast<std::int64_t>(c - c0 + 1) * tex_cols - 1) / cols);
    return values[static_cast<std::size_t>(y) * static_cast<std::size_t>(tex_cols) + static_cast<std::size_t>(x)];
}

void HeatmapBlock::clear() {
    values.clear();
    rows = cols = tex_rows = tex_cols = 0;
    key = ~std::uint64_t(0);
    dirty = true;
}

void HeatmapView::set_data(const Mat& m, const Mask* mask, std::uint64_t key) {
    set_shape(static_cast<int>(m.rows()), static_cast<int>(m.cols()));
    detail.clear();
    set_block(base, m, 0, 0, static_cast<int>(m.rows()), static_cast<int>(m.cols()), mask, key);
    data_key = key;
    data_hi_after_first = 0.0f;
    bool any = false;
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        for (Eigen::Index j = 1; j < m.cols(); ++j) {
            const float v = m(i, j);
            if (!std::isfinite(v) || (mask && !mask->allows(static_cast<int>(i), static_cast<int>(j)))) continue;
            data_hi_after_first = any ? std::max(data_hi_after_first, v) : v;
            any = true;
        }
}

void HeatmapView::set_shape(int n, int m) {
    const bool t = opt.transpose;
    const int new_rows = t ? m : n, new_cols = t ? n : m;
    if (new_rows != rows || new_cols != cols || t != data_transposed) {
        view = full_view(new_rows, new_cols);
        base.clear();
        detail.clear();
        update_range();
    }
    rows = new_rows;
    cols = new_cols;
    data_transposed = t;
}

void HeatmapView::set_block(HeatmapBlock& into, const Mat& m, int row0, int col0, int nrows, int ncols, const Mask* mask,
                            std::uint64_t key) {
    const bool t = data_transposed;
    const int tr = static_cast<int>(t ? m.cols() : m.rows()), tc = static_cast<int>(t ? m.rows() : m.cols());
    const bool exact = m.rows() == nrows && m.cols() == ncols;
    into.r0 = t ? col0 : row0;
    into.c0 = t ? row0 : col0;
    into.rows = t ? ncols : nrows;
    into.cols = t ? nrows : ncols;
    into.tex_rows = tr;
    into.tex_cols = tc;
    into.values.resize(static_cast<std::size_t>(tr) * static_cast<std::size_t>(tc));
    for (int r = 0; r < tr; ++r)
        for (int c = 0; c < tc; ++c) {
            const int a = t ? c : r, b = t ? r : c;  // data coordinates within the block
            float v = m(a, b);
            if ((exact && mask && !mask->allows(row0 + a, col0 + b)) || std::isnan(v) || std::isinf(v)) v = kMaskedValue;
            into.values[static_cast<std::size_t>(r) * tc + c] = v;
        }
    into.key = key;
    into.dirty = true;
    update_range();
}

void HeatmapView::update_range() {
    float lo = 0, hi = 0, l2 = 0, h2 = 0;
    const bool a = finite_range(base.values.data(), base.values.size(), lo, hi);
    const bool b = finite_range(detail.values.data(), detail.values.size(), l2, h2);
    if (a && b) {
        lo = std::min(lo, l2);
        hi = std::max(hi, h2);
    } else if (b) {
        lo = l2;
        hi = h2;
    }
    data_lo = lo;
    data_hi = hi;
    auto masked = [](const HeatmapBlock& k) { return std::any_of(k.values.begin(), k.values.end(), [](float v) { return v > 1e37f; }); };
    has_masked = masked(base) || masked(detail);
}

bool HeatmapView::exact_value(int i, int j, float& v) const {
    const int r = data_transposed ? j : i, c = data_transposed ? i : j;
    for (const HeatmapBlock* k : {&detail, &base})
        if (k->exact() && k->covers(r, c)) {
            v = k->at(r, c);
            return true;
        }
    return false;
}

float HeatmapView::upper_quantile(double q) {
    const std::uint64_t version = base.key * 31u + detail.key + base.values.size() + detail.values.size();
    if (version == quantile_version && q == quantile_q) return quantile_value;
    std::vector<float> v;
    v.reserve(base.values.size() + detail.values.size());
    // the finer block where there is one (what a zoomed-in view shows), else the base
    for (const float x : (detail.empty() ? base : detail).values)
        if (std::isfinite(x) && x < 1e37f) v.push_back(x);
    quantile_value = 0.0f;
    if (!v.empty()) {
        const auto at = static_cast<std::ptrdiff_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1));
        std::nth_element(v.begin(), v.begin() + at, v.end());
        quantile_value = v[static_cast<std::size_t>(at)];
    }
    quantile_version = version;
    quantile_q = q;
    return quantile_value;
}

void HeatmapView::visible_data_block(int& row0, int& col0, int& nrows, int& ncols) const {
    const int r0 = std::clamp(static_cast<int>(std::floor(view.y0)), 0, std::max(rows, 0));
    const int r1 = std::clamp(static_cast<int>(std::ceil(view.y1)), r0, std::max(rows, 0));
    const int c0 = std::clamp(static_cast<int>(std::floor(view.x0)), 0, std::max(cols, 0));
    const int c1 = std::clamp(static_cast<int>(std::ceil(view.x1)), c0, std::max(cols, 0));
    row0 = data_transposed ? c0 : r0;
    col0 = data_transposed ? r0 : c0;
    nrows = data_transposed ? c1 - c0 : r1 - r0;
    ncols = data_transposed ? r1 - r0 : c1 - c0;
}

void HeatmapView::range(float& lo, float& hi) const {
    if (opt.vmin == 0.0f && opt.vmax == 0.0f) {
        lo = data_lo;
        hi = data_hi;
    } else {
        lo = opt.vmin;
        hi = opt.vmax;
    }
    if (opt.log_scale) {  // log10 over the top decades: lo > 0
        hi = hi > 0.0f ? hi : 1.0f;
        lo = hi * std::pow(10.0f, -std::max(opt.log_decades, 0.5f));
    }
}

void HeatmapView::release_gpu() {
    for (HeatmapBlock* k : {&base, &detail}) {
        gl::delete_texture(k->texture);
        k->texture_rows = k->texture_cols = 0;
        k->dirty = true;
    }
    gl::delete_framebuffer(fb);
}

namespace {
constexpr ImU32 kSelectColor = IM_COL32(255, 214, 0, 255);
constexpr ImU32 kHoverColor = IM_COL32(255, 255, 255, 230);

// Uploads a block's values when they changed; false when it cannot be a texture.
bool upload(HeatmapBlock& k, std::uint64_t& version) {
    if (k.empty()) return true;
    if (!k.dirty && k.texture) return true;
    if (k.tex_cols > gl::max_texture_size() || k.tex_rows > gl::max_texture_size()) return false;
    if (!k.texture || k.texture_rows != k.tex_rows || k.texture_cols != k.tex_cols) {
        gl::delete_texture(k.texture);
        k.texture = gl::create_texture_r32f(k.tex_cols, k.tex_rows, k.values.data());
        k.texture_rows = k.tex_rows;
        k.texture_cols = k.tex_cols;
    } else {
        gl::update_texture_r32f(k.texture, k.tex_cols, k.tex_rows, k.values.data());
    }
    k.dirty = false;
    ++version;
    return true;
}

void render_cells(HeatmapView& h, ImVec2 plot_size_px, float lo, float hi) {
    if (!gl::heatmap_pass_ready()) return;
    if (!upload(h.base, h.texture_version) || !upload(h.detail, h.texture_version)) return;
    const int fw = std::max(1, static_cast<int>(std::lround(plot_size_px.x)));
    const int fh = std::max(1, static_cast<int>(std::lround(plot_size_px.y)));
    const bool resized = h.fb.width != fw || h.fb.height != fh || !h.fb.fbo;
    if (!gl::ensure_framebuffer(h.fb, fw, fh)) return;
    // the pass runs only when something it draws changed (data, view, range, colormap, size)
    const std::array<float, 9> now = {static_cast<float>(h.texture_version), h.view.x0, h.view.y0, h.view.x1, h.view.y1, lo, hi,
                                      static_cast<float>(h.opt.colormap) + (h.opt.log_scale ? 100.0f : 0.0f),
                                      static_cast<float>(fw * 16384 + fh)};
    if (!resized && now == h.rendered) return;
    h.rendered = now;
    ++h.render_passes;
    gl::HeatmapPassBlock blocks[2];
    const HeatmapBlock* ks[2] = {&h.base, &h.detail};
    for (int b = 0; b < 2; ++b) {
        const HeatmapBlock& k = *ks[b];
        if (k.empty() || !k.texture) continue;
        blocks[b] = {k.texture, static_cast<float>(k.c0), static_cast<float>(k.r0), static_cast<float>(k.cols), static_cast<float>(k.rows),
                     static_cast<float>(k.tex_cols), static_cast<float>(k.tex_rows)};
    }
    const float view[4] = {h.view.x0, h.view.y0, h.view.x1, h.view.y1};
    gl::heatmap_pass(h.fb, view, blocks[0], blocks[1], static_cast<int>(h.opt.colormap), lo, hi, h.opt.log_scale);
}

void draw_hatch(ImDrawList* dl, ImVec2 a, ImVec2 b) {
    dl->AddRectFilled(a, b, IM_COL32(80, 80, 80, 255));
    dl->PushClipRect(a, b, true);
    for (float x = a.x - (b.y - a.y); x < b.x; x += 6.0f) dl->AddLine(ImVec2(x, b.y), ImVec2(x + (b.y - a.y), a.y), IM_COL32(160, 160, 160, 255), 1.5f);
    dl->PopClipRect();
}
}  // namespace

namespace {
// The widest label's width: measured on the labels with the most bytes (O(n) length scan, a few
// text measurements), so long sequences cost no per-label text layout.
float widest_label(const std::vector<std::string>& labels) {
    std::size_t longest = 0;
    for (const auto& l : labels) longest = std::max(longest, l.size());
    float w = 0.0f;
    for (std::size_t shorter = 0; shorter <= 2 && shorter < longest; ++shorter) {  // longest first
        int measured = 0;
        for (const auto& l : labels) {
            if (l.size() != longest - shorter) continue;
            w = std::max(w, ImGui::CalcTextSize(l.c_str()).x);
            if (++measured >= 24) break;
        }
    }
    return w;
}
}  // namespace

HeatmapResult HeatmapView::Draw(const char* id, ImVec2 size, const std::vector<std::string>& row_labels_data,
                                const std::vector<std::string>& col_labels_data, int sel_row, int sel_col, int other_hover_row,
                                int other_hover_col) {
    HeatmapResult res;
    ImGui::PushID(id);
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    if (size.x <= 0) size.x = avail.x;
    if (size.y <= 0) size.y = avail.y;
    size.x = std::max(size.x, 40.0f);
    size.y = std::max(size.y, 40.0f);
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    if (rows <= 0 || cols <= 0) {
        dl->AddText(origin, ImGui::GetColorU32(ImGuiCol_TextDisabled), "(no data)");
        ImGui::Dummy(size);
        ImGui::PopID();
        return res;
    }
    // display orientation: rows are keys when transposed
    const bool t = data_transposed;
    const std::vector<std::string>& row_labels = t ? col_labels_data : row_labels_data;
    const std::vector<std::string>& col_labels = t ? row_labels_data : col_labels_data;
    const float font_h = opt.show_labels ? ImGui::GetFontSize() : 0.0f;
    float max_row_w = 0, max_col_w = 0;
    if (opt.show_labels) {
        max_row_w = widest_label(row_labels);
        max_col_w = widest_label(col_labels);
    }
    if (view.x1 > static_cast<float>(cols) || view.y1 > static_cast<float>(rows) || view.width() <= 0 || view.height() <= 0)
        view = full_view(rows, cols);
    float lo = 0, hi = 0;
    range(lo, hi);
    char buf[32];
    float tick_w = 0.0f;
    for (const float v : {lo, hi, (lo + hi) * 0.5f, lo + (hi - lo) / 3.0f}) {
        std::snprintf(buf, sizeof buf, "%.3g", static_cast<double>(v));
        tick_w = std::max(tick_w, ImGui::CalcTextSize(buf).x);
    }
    if (has_masked) tick_w = std::max(tick_w, ImGui::CalcTextSize("masked").x);
    // a colour bar that would leave the cells less than ~2/3 of the width is left out
    const bool colorbar = opt.show_colorbar && size.x >= 3.0f * (tick_w + 34.0f);
    HeatmapLayout L = layout_heatmap(origin, size, view.height(), view.width(), max_row_w, max_col_w, font_h, colorbar,
                                     opt.square_cells, tick_w + 4.0f);
    last_layout = L;
    res.plot_min = L.plot_min;
    res.plot_max = L.plot_max;
    const ImVec2 plot_size(L.plot_max.x - L.plot_min.x, L.plot_max.y - L.plot_min.y);

    // -- interaction (canvas pattern) --
    ImGui::SetCursorScreenPos(L.plot_min);
    ImGui::InvisibleButton("##canvas", ImVec2(std::max(plot_size.x, 1.0f), std::max(plot_size.y, 1.0f)),
                           ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight | ImGuiButtonFlags_MouseButtonMiddle);
    const bool hovered = ImGui::IsItemHovered();
    ImGuiIO& io = ImGui::GetIO();
    int hr = -1, hc = -1;
    if (hovered && cell_at(L.plot_min, L.plot_max, view, rows, cols, io.MousePos, hr, hc)) {
        res.hovered = true;
        res.hover_row = t ? hc : hr;
        res.hover_col = t ? hr : hc;
        if (ImGui::IsItemClicked(ImGuiMouseButton_Left)) res.clicked = true;
    }
    if (opt.interactive && hovered) {
        if (io.MouseWheel != 0.0f) {
            const float cx = view.x0 + (io.MousePos.x - L.plot_min.x) / std::max(plot_size.x, 1.0f) * view.width();
            const float cy = view.y0 + (io.MousePos.y - L.plot_min.y) / std::max(plot_size.y, 1.0f) * view.height();
            view = zoom_view(view, cx, cy, std::pow(1.25f, io.MouseWheel), rows, cols);
        }
        if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) view = full_view(rows, cols);
    }
    if (opt.interactive && ImGui::IsItemActive() &&
        (ImGui::IsMouseDragging(ImGuiMouseButton_Right, 0.0f) || ImGui::IsMouseDragging(ImGuiMouseButton_Middle, 0.0f))) {
        view = pan_view(view, -io.MouseDelta.x / std::max(L.cell_w, 1e-3f), -io.MouseDelta.y / std::max(L.cell_h, 1e-3f), rows, cols);
    }

    // -- the cells --
    const ColormapLut lut = colormap_lut(opt.colormap);
    if (gl::available()) {
        render_cells(*this, ImVec2(plot_size.x * io.DisplayFramebufferScale.x, plot_size.y * io.DisplayFramebufferScale.y), lo, hi);
        if (fb.color) {
            dl->AddImage(gl::as_imgui_texture(fb.color), L.plot_min, L.plot_max);
        } else {
            dl->AddRectFilled(L.plot_min, L.plot_max, IM_COL32(60, 30, 30, 255));
            dl->AddText(L.plot_min, IM_COL32(255, 160, 160, 255),
                        base.tex_cols > gl::max_texture_size() || base.tex_rows > gl::max_texture_size() ? "too large for a GPU texture"
                                                                                       : "heatmap shader failed (see the terminal)");
        }
    } else {
        dl->AddRectFilled(L.plot_min, L.plot_max, IM_COL32(60, 60, 70, 255));
    }

    dl->PushClipRect(L.plot_min, L.plot_max, true);
    const int r0 = std::max(0, static_cast<int>(view.y0)), r1 = std::min(rows, static_cast<int>(std::ceil(view.y1)));
    const int c0 = std::max(0, static_cast<int>(view.x0)), c1 = std::min(cols, static_cast<int>(std::ceil(view.x1)));
    auto cell_min = [&](int r, int c) {
        return ImVec2(L.plot_min.x + (static_cast<float>(c) - view.x0) * L.cell_w, L.plot_min.y + (static_cast<float>(r) - view.y0) * L.cell_h);
    };
    // numbers in the cells, black or white by the cell's brightness
    std::snprintf(buf, sizeof buf, opt.value_format, data_lo < 0.0f ? -0.888 : 0.888);
    const ImVec2 num_size = ImGui::CalcTextSize(buf);
    if (opt.show_values && L.cell_w >= num_size.x + 4 && L.cell_h >= num_size.y + 2 && (r1 - r0) * (c1 - c0) <= 4096) {
        for (int r = r0; r < r1; ++r)
            for (int c = c0; c < c1; ++c) {
                const HeatmapBlock& k = detail.exact() && detail.covers(r, c) ? detail : base;
                if (!k.exact() || !k.covers(r, c)) continue;
                const float v = k.at(r, c);
                if (v > 1e37f) continue;
                const float tt = hi > lo ? (v - lo) / (hi - lo) : 0.5f;
                const ImU32 col = dark_text_on(lut_color(lut, tt)) ? IM_COL32(0, 0, 0, 255) : IM_COL32(255, 255, 255, 255);
                std::snprintf(buf, sizeof buf, opt.value_format, static_cast<double>(v));
                const ImVec2 ts = ImGui::CalcTextSize(buf);
                const ImVec2 a = cell_min(r, c);
                dl->AddText(ImVec2(a.x + (L.cell_w - ts.x) * 0.5f, a.y + (L.cell_h - ts.y) * 0.5f), col, buf);
            }
    }
    // selection (data → display) and hover from other views
    const int sel_dr = t ? sel_col : sel_row, sel_dc = t ? sel_row : sel_col;
    const float thick = std::clamp(std::min(L.cell_w, L.cell_h) * 0.1f, 1.0f, 2.5f);  // thin on small tiles
    if (sel_dr >= 0 && sel_dr < rows) {
        const ImVec2 a = cell_min(sel_dr, 0);
        dl->AddRect(ImVec2(L.plot_min.x - 1, a.y), ImVec2(L.plot_max.x + 1, a.y + L.cell_h), kSelectColor, 0, 0, thick);
    }
    if (sel_dc >= 0 && sel_dc < cols) {
        const ImVec2 a = cell_min(0, sel_dc);
        dl->AddRect(ImVec2(a.x, L.plot_min.y - 1), ImVec2(a.x + L.cell_w, L.plot_max.y + 1), kSelectColor, 0, 0, thick);
    }
    const int oh_r = t ? other_hover_col : other_hover_row, oh_c = t ? other_hover_row : other_hover_col;
    if (!res.hovered && oh_r >= 0 && oh_c >= 0 && oh_r < rows && oh_c < cols) {
        const ImVec2 a = cell_min(oh_r, oh_c);
        dl->AddRect(a, ImVec2(a.x + L.cell_w, a.y + L.cell_h), kHoverColor, 0, 0, thick);
    }
    if (res.hovered) {
        const ImVec2 a = cell_min(hr, hc);
        dl->AddRect(a, ImVec2(a.x + L.cell_w, a.y + L.cell_h), kHoverColor, 0, 0, thick);
    }
    dl->PopClipRect();

    // -- labels --
    const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text);
    const float pad = 4.0f;
    if (opt.show_labels) {
        dl->PushClipRect(ImVec2(origin.x, L.plot_min.y), ImVec2(L.plot_min.x, L.plot_max.y), true);
        for (int r = r0; r < r1 && r < static_cast<int>(row_labels.size()); ++r) {
            if (r % L.row_step != 0 && r != sel_dr) continue;
            const std::string s = ellipsize(row_labels[static_cast<std::size_t>(r)], L.row_label_w - 2 * pad);
            const ImVec2 ts = ImGui::CalcTextSize(s.c_str());
            const ImVec2 a = cell_min(r, 0);
            dl->AddText(ImVec2(L.plot_min.x - pad - ts.x, a.y + (L.cell_h - ts.y) * 0.5f), r == sel_dr ? kSelectColor : text_col, s.c_str());
        }
        dl->PopClipRect();
        dl->PushClipRect(ImVec2(L.plot_min.x, origin.y), ImVec2(L.plot_max.x, L.plot_min.y), true);
        for (int c = c0; c < c1 && c < static_cast<int>(col_labels.size()); ++c) {
            if (c % L.col_step != 0 && c != sel_dc) continue;
            const ImU32 col = c == sel_dc ? kSelectColor : text_col;
            const ImVec2 a = cell_min(0, c);
            if (L.col_mode == ColumnLabels::Horizontal) {
                const ImVec2 ts = ImGui::CalcTextSize(col_labels[static_cast<std::size_t>(c)].c_str());
                dl->AddText(ImVec2(a.x + (L.cell_w - ts.x) * 0.5f, L.plot_min.y - pad - ts.y), col, col_labels[static_cast<std::size_t>(c)].c_str());
            } else {
                const std::string s = ellipsize(col_labels[static_cast<std::size_t>(c)], L.col_label_h - 2 * pad);
                add_text_vertical(dl, ImVec2(a.x + (L.cell_w - font_h) * 0.5f, L.plot_min.y - pad), col, s.c_str());
            }
        }
        dl->PopClipRect();
        // axis names in the corner when they fit
        char corner[96];
        std::snprintf(corner, sizeof corner, "%s\xE2\x86\x93 %s\xE2\x86\x92", t ? opt.col_axis : opt.row_axis, t ? opt.row_axis : opt.col_axis);
        const ImVec2 cs = ImGui::CalcTextSize(corner);
        if (cs.x <= L.row_label_w && cs.y <= L.col_label_h)
            dl->AddText(ImVec2(L.plot_min.x - cs.x - pad, L.plot_min.y - cs.y - pad), ImGui::GetColorU32(ImGuiCol_TextDisabled), corner);
    }

    // -- colour bar --
    if (colorbar && L.bar_max.y > L.bar_min.y) {
        const int bands = 64;
        const float bh = (L.bar_max.y - L.bar_min.y) / bands;
        for (int b = 0; b < bands; ++b) {
            const Rgba8 c = lut_color(lut, hi > lo ? 1.0f - (static_cast<float>(b) + 0.5f) / bands : 0.5f);
            dl->AddRectFilled(ImVec2(L.bar_min.x, L.bar_min.y + b * bh), ImVec2(L.bar_max.x, L.bar_min.y + (b + 1) * bh + 0.5f),
                              IM_COL32(c[0], c[1], c[2], 255));
        }
        dl->AddRect(L.bar_min, L.bar_max, IM_COL32(140, 140, 140, 255));
        const float fh = ImGui::GetFontSize();
        const int ticks = hi > lo ? std::clamp(static_cast<int>((L.bar_max.y - L.bar_min.y) / (fh * 1.6f)), 2, 5) : 1;
        for (int k = 0; k < ticks; ++k) {
            const float f = ticks == 1 ? 0.5f : static_cast<float>(k) / static_cast<float>(ticks - 1);
            const float v = ticks == 1 ? lo
                            : opt.log_scale ? hi * std::pow(lo / hi, f)  // log-spaced, as the colours
                                            : hi - f * (hi - lo);
            const float y = L.bar_min.y + f * (L.bar_max.y - L.bar_min.y);
            std::snprintf(buf, sizeof buf, "%.3g", static_cast<double>(v));
            dl->AddLine(ImVec2(L.bar_max.x, y), ImVec2(L.bar_max.x + 4, y), text_col);
            // centred on its tick, but never outside the widget
            const float ty = std::clamp(y - fh * 0.5f, origin.y, std::max(origin.y, origin.y + size.y - fh));
            dl->AddText(ImVec2(L.bar_max.x + 6, ty), text_col, buf);
        }
        if (has_masked && L.bar_max.y + fh + 6 <= origin.y + size.y &&
            L.bar_min.x + 20 + ImGui::CalcTextSize("masked").x <= origin.x + size.x) {
            const ImVec2 a(L.bar_min.x, L.bar_max.y + 6);
            draw_hatch(dl, a, ImVec2(a.x + 16, a.y + fh));
            dl->AddText(ImVec2(a.x + 20, a.y), text_col, "masked");
        }
    }

    // the widget's whole rectangle is one item for the layout
    ImGui::SetCursorScreenPos(origin);
    ImGui::Dummy(size);
    ImGui::PopID();
    return res;
}

}  // namespace attnviz::app
