#include "pattern_source.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnviz {

namespace {
void check_cell(const PatternSource& p, int head, int i, int j) {
    if (head < 0 || head >= p.n_heads()) throw std::out_of_range("PatternSource: head " + std::to_string(head));
    if (i < 0 || i >= p.n()) throw std::out_of_range("PatternSource: query " + std::to_string(i));
    if (j < 0 || j >= p.m()) throw std::out_of_range("PatternSource: key " + std::to_string(j));
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// ForwardSource: read from the kept matrices
// ---------------------------------------------------------------------------------------------
PatternCell ForwardSource::cell(int head, int i, int j) const {
    check_cell(*this, head, i, j);
    const HeadResult& h = f_.heads[static_cast<std::size_t>(head)];
    PatternCell c;
    c.allowed = s_.mask.allows(i, j);
    // masked cells' scores may have been skipped (Forward::masked_scores_computed): q_i·k_j again
    c.raw = c.allowed || f_.masked_scores_computed ? h.scores(i, j) : h.Q.row(i).dot(h.K.row(j));
    c.logit = c.raw * f_.logit_factor;
    c.weight = h.pattern(i, j);
    return c;
}

RowStats ForwardSource::row_stats(int head, int i) const {
    check_cell(*this, head, i, 0);
    const HeadResult& h = f_.heads[static_cast<std::size_t>(head)];
    RowStats r;
    float mx = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < m(); ++j)
        if (s_.mask.allows(i, j) && h.scores(i, j) * f_.logit_factor > mx) {
            mx = h.scores(i, j) * f_.logit_factor;
            r.argmax = j;
        }
    if (r.argmax < 0) return r;
    double sum = 0.0;
    for (int j = 0; j < m(); ++j)
        if (s_.mask.allows(i, j)) sum += std::exp(static_cast<double>(h.scores(i, j) * f_.logit_factor) - mx);
    r.max = mx;
    r.sum = static_cast<float>(sum);
    return r;
}

Mat ForwardSource::stage_tile(int head, Stage st, int row0, int col0, int rows, int cols) const {
    check_cell(*this, head, 0, 0);
    if (row0 < 0 || col0 < 0 || rows < 0 || cols < 0 || row0 + rows > n() || col0 + cols > m())
        throw std::out_of_range("PatternSource::stage_tile: block outside the pattern");
    const HeadResult& h = f_.heads[static_cast<std::size_t>(head)];
    if (st == Stage::Pattern) return h.pattern.block(row0, col0, rows, cols);
    return stage_matrix(s_, h, st).block(row0, col0, rows, cols);
}

bool ForwardSource::overview(int head, int row0, int col0, int rows, int cols, int width, int height, Pool pool, Mat& out,
                             Progress* progress) const {
    if (head != -1) check_cell(*this, head, 0, 0);
    if (row0 < 0 || col0 < 0 || rows < 0 || cols < 0 || row0 + rows > n() || col0 + cols > m())
        throw std::out_of_range("PatternSource::overview: block outside the pattern");
    if (rows == 0 || cols == 0 || f_.heads.empty()) {
        out.resize(0, 0);
        return true;
    }
    width = std::clamp(width, 1, cols);
    height = std::clamp(height, 1, rows);
    const int h0 = head < 0 ? 0 : head, h1 = head < 0 ? n_heads() : head + 1;
    auto weight = [&](int i, int j) {
        float w = 0.0f;
        for (int h = h0; h < h1; ++h) w += f_.heads[static_cast<std::size_t>(h)].pattern(i, j);
        return w / static_cast<float>(h1 - h0);
    };
    out.resize(height, width);
    for (int y = 0; y < height; ++y) {
        if (progress && progress->cancel) return false;
        const int r0 = row0 + static_cast<int>(static_cast<std::int64_t>(y) * rows / height);
        const int r1 = row0 + static_cast<int>(static_cast<std::int64_t>(y + 1) * rows / height);
        for (int x = 0; x < width; ++x) {
            const int c0 = col0 + static_cast<int>(static_cast<std::int64_t>(x) * cols / width);
            const int c1 = col0 + static_cast<int>(static_cast<std::int64_t>(x + 1) * cols / width);
            bool any = false;
            double acc = 0.0;
            float mx = 0.0f;
            for (int i = r0; i < r1; ++i)
                for (int j = c0; j < c1; ++j) {
                    any = any || s_.mask.allows(i, j);
                    const float w = weight(i, j);
                    acc += w;
                    mx = std::max(mx, w);
                }
            out(y, x) = !any ? std::numeric_limits<float>::quiet_NaN()
                        : pool == Pool::Max ? mx
                                            : static_cast<float>(acc / (static_cast<double>(r1 - r0) * (c1 - c0)));
        }
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// TilesSource: computed on demand from the statistics
// ---------------------------------------------------------------------------------------------
PatternCell TilesSource::cell(int head, int i, int j) const {
    check_cell(*this, head, i, j);
    PatternCell c;
    c.allowed = t_->mask().allows(i, j);
    c.raw = t_->score(head, i, j);
    c.logit = c.raw * t_->logit_factor();
    c.weight = t_->cell(head, i, j);
    return c;
}

RowStats TilesSource::row_stats(int head, int i) const {
    check_cell(*this, head, i, 0);
    const HeadStats& h = t_->head(head);
    const auto k = static_cast<std::size_t>(i);
    return {h.row_max[k], h.row_sum[k], h.row_argmax[k]};
}

Mat TilesSource::stage_tile(int head, Stage st, int row0, int col0, int rows, int cols) const {
    return t_->stage_tile(head, st, row0, col0, rows, cols);
}

bool TilesSource::overview(int head, int row0, int col0, int rows, int cols, int width, int height, Pool pool, Mat& out,
                           Progress* progress) const {
    return t_->overview(head, row0, col0, rows, cols, width, height, pool, out, progress);
}

// ---------------------------------------------------------------------------------------------
// Gpt2LayerSource: one layer of a GPT-2-style forward pass
// ---------------------------------------------------------------------------------------------
Gpt2LayerSource::Gpt2LayerSource(std::shared_ptr<const Gpt2Forward> f, int layer) : f_(std::move(f)), layer_(layer) {
    if (!f_) throw std::invalid_argument("Gpt2LayerSource: no forward pass");
    if (layer < 0 || layer >= f_->n_layers()) throw std::out_of_range("Gpt2LayerSource: layer " + std::to_string(layer));
}

Gpt2LayerSource::~Gpt2LayerSource() = default;

PatternCell Gpt2LayerSource::cell(int head, int i, int j) const {
    check_cell(*this, head, i, j);
    PatternCell c;
    c.allowed = mask().allows(i, j);
    c.raw = f_->Q(layer_, head).row(i).dot(f_->K(layer_, head).row(j));
    c.logit = c.raw * f_->logit_factor();
    if (f_->pattern_kept(layer_, head)) {
        c.weight = f_->kept_pattern(layer_, head)(i, j);  // one cell: no copy of the (n, n) pattern
    } else {
        Mat row;  // (1, n)
        head_pattern_rows(f_->Q(layer_, head), f_->K(layer_, head), mask(), f_->logit_factor(), i, i + 1, row);
        c.weight = row(0, j);
    }
    return c;
}

RowStats Gpt2LayerSource::row_stats(int head, int i) const {
    check_cell(*this, head, i, 0);
    const auto Q = f_->Q(layer_, head);
    const auto K = f_->K(layer_, head);
    const Mask& mk = mask();
    const float factor = f_->logit_factor();
    RowStats r;
    std::vector<float> logit(static_cast<std::size_t>(m()));
    float mx = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < m(); ++j) {
        if (!mk.allows(i, j)) continue;
        const float raw = Q.row(i).dot(K.row(j));
        logit[static_cast<std::size_t>(j)] = raw * factor;
        if (logit[static_cast<std::size_t>(j)] > mx) {
            mx = logit[static_cast<std::size_t>(j)];
            r.argmax = j;
        }
    }
    if (r.argmax < 0) return r;
    double sum = 0.0;
    for (int j = 0; j < m(); ++j)
        if (mk.allows(i, j)) sum += std::exp(static_cast<double>(logit[static_cast<std::size_t>(j)]) - mx);
    r.max = mx;
    r.sum = static_cast<float>(sum);
    return r;
}

Mat Gpt2LayerSource::stage_tile(int head, Stage st, int row0, int col0, int rows, int cols) const {
    check_cell(*this, head, 0, 0);
    if (row0 < 0 || col0 < 0 || rows < 0 || cols < 0 || row0 + rows > n() || col0 + cols > m())
        throw std::out_of_range("PatternSource::stage_tile: block outside the pattern");
    if (st == Stage::Pattern) {
        if (f_->pattern_kept(layer_, head)) return f_->kept_pattern(layer_, head).block(row0, col0, rows, cols);
        Mat P;  // (rows, m)
        head_pattern_rows(f_->Q(layer_, head), f_->K(layer_, head), mask(), f_->logit_factor(), row0, row0 + rows, P);
        return P.middleCols(col0, cols);
    }
    // (rows, cols) raw Q·Kᵀ of the block
    Mat out = f_->Q(layer_, head).middleRows(row0, rows) * f_->K(layer_, head).middleRows(col0, cols).transpose();
    if (st == Stage::Raw) return out;
    out *= f_->logit_factor();
    if (st == Stage::Masked) {
        const Mask& mk = mask();
        for (int i = 0; i < rows; ++i)
            for (int j = 0; j < cols; ++j)
                if (!mk.allows(row0 + i, col0 + j)) out(i, j) = -std::numeric_limits<float>::infinity();
    }
    return out;
}

bool Gpt2LayerSource::overview(int head, int row0, int col0, int rows, int cols, int width, int height, Pool pool, Mat& out,
                               Progress* progress) const {
    if (head != -1) check_cell(*this, head, 0, 0);
    if (row0 < 0 || col0 < 0 || rows < 0 || cols < 0 || row0 + rows > n() || col0 + cols > m())
        throw std::out_of_range("PatternSource::overview: block outside the pattern");
    if (rows == 0 || cols == 0) {
        out.resize(0, 0);
        return true;
    }
    width = std::clamp(width, 1, cols);
    height = std::clamp(height, 1, rows);
    const int h0 = head < 0 ? 0 : head, h1 = head < 0 ? n_heads() : head + 1;
    Mat avg = Mat::Zero(rows, cols);  // (rows, cols) the block of the pattern (averaged over heads)
    for (int h = h0; h < h1; ++h) {
        if (progress && progress->cancel) return false;
        avg += stage_tile(h, Stage::Pattern, row0, col0, rows, cols);
    }
    avg /= static_cast<float>(h1 - h0);
    const Mask& mk = mask();
    out.resize(height, width);
    for (int y = 0; y < height; ++y) {
        if (progress && progress->cancel) return false;
        const int r0 = static_cast<int>(static_cast<std::int64_t>(y) * rows / height);
        const int r1 = static_cast<int>(static_cast<std::int64_t>(y + 1) * rows / height);
        for (int x = 0; x < width; ++x) {
            const int c0 = static_cast<int>(static_cast<std::int64_t>(x) * cols / width);
            const int c1 = static_cast<int>(static_cast<std::int64_t>(x + 1) * cols / width);
            bool any = false;
            double acc = 0.0;
            float mx = 0.0f;
            for (int i = r0; i < r1; ++i)
                for (int j = c0; j < c1; ++j) {
                    any = any || mk.allows(row0 + i, col0 + j);
                    acc += avg(i, j);
                    mx = std::max(mx, avg(i, j));
                }
            out(y, x) = !any ? std::numeric_limits<float>::quiet_NaN()
                        : pool == Pool::Max ? mx
                                            : static_cast<float>(acc / (static_cast<double>(r1 - r0) * (c1 - c0)));
        }
    }
    return true;
}

const Forward* Gpt2LayerSource::full() const {
    std::call_once(full_once_, [this] {
        auto fw = std::make_unique<Forward>();
        const Gpt2Forward& f = *f_;
        const int l = layer_, H = f.n_heads(), dh = f.d_head();
        fw->E = f.resid(l);
        fw->X = fw->E;
        fw->logit_factor = f.logit_factor();
        fw->masked_scores_computed = true;
        fw->heads.resize(static_cast<std::size_t>(H));
        for (int h = 0; h < H; ++h) {
            HeadResult& r = fw->heads[static_cast<std::size_t>(h)];
            r.Q = f.Q(l, h);
            r.K = f.K(l, h);
            r.V = f.V(l, h);
            r.scores = f.scores(l, h);
            r.pattern = f.pattern(l, h);
            r.mixed = f.mixed(l).middleCols(h * dh, dh);
            r.delta = f.delta(l, h);
            // the softmax statistics of each row, from the raw scores (as row_stats does them)
            r.row_max.assign(static_cast<std::size_t>(n()), 0.0f);
            r.row_sum.assign(static_cast<std::size_t>(n()), 0.0f);
            const Mask& mk = mask();
            const float factor = f.logit_factor();
            for (int i = 0; i < n(); ++i) {
                float mx = -std::numeric_limits<float>::infinity();
                bool any = false;
                for (int j = 0; j < m(); ++j)
                    if (mk.allows(i, j)) {
                        mx = std::max(mx, r.scores(i, j) * factor);
                        any = true;
                    }
                if (!any) continue;
                double sum = 0.0;
                for (int j = 0; j < m(); ++j)
                    if (mk.allows(i, j)) sum += std::exp(static_cast<double>(r.scores(i, j) * factor) - mx);
                r.row_max[static_cast<std::size_t>(i)] = mx;
                r.row_sum[static_cast<std::size_t>(i)] = static_cast<float>(sum);
            }
        }
        fw->output = fw->E + f.attn_out(l);
        fw->delta = fw->output - fw->E;
        const Mask& mk = mask();
        for (int i = 0; i < n(); ++i) {
            bool any = false;
            for (int j = 0; j < m() && !any; ++j) any = mk.allows(i, j);
            if (!any) fw->fully_masked_rows.push_back(i);
        }
        full_ = std::move(fw);
    });
    return full_.get();
}

}  // namespace attnviz
