// attnviz core — attention patterns of long sequences, computed on demand (see tiles.hpp).
//
// [SECTION] build
// [SECTION] cells, tiles, overview
// [SECTION] ΔE
#include "tiles.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine.hpp"
#include "parallel.hpp"
#include "tiles_internal.hpp"

namespace attnviz {

// ---------------------------------------------------------------------------------------------
// [SECTION] Helpers: key ranges and one row's softmax statistics
// ---------------------------------------------------------------------------------------------
using namespace tiles_detail;

// ---------------------------------------------------------------------------------------------
// [SECTION] build
// ---------------------------------------------------------------------------------------------
std::size_t PatternTiles::estimate_bytes(const Scene& s) {
    const std::size_t n = static_cast<std::size_t>(s.n()), m = static_cast<std::size_t>(s.m()),
                      dm = static_cast<std::size_t>(s.d_model), h = static_cast<std::size_t>(s.n_heads),
                      dh = static_cast<std::size_t>(s.d_head);
    // E and W_O, the mask's cells, and per head Q, mixed (n, d_head), K, V (m, d_head) and the
    // three per-row statistics — the same sum as bytes().
    return sizeof(float) * (n * dm + h * dh * dm) + s.mask.allowed.size() +
           h * (sizeof(float) * (2 * n * dh + 2 * m * dh) + (sizeof(float) * 2 + sizeof(int)) * n);
}

bool PatternTiles::build(const Scene& s, Progress* progress, int threads) {
    const std::size_t need = estimate_bytes(s);
    if (need > Limits::kMaxTilesBytes)
        throw SceneError("tokens", "n = " + std::to_string(s.n()) + " with " + std::to_string(s.n_heads) +
                                       " heads of " + std::to_string(s.d_head) + " would need " +
                                       std::to_string(need >> 20) + " MiB for the tile statistics, more than the " +
                                       std::to_string(Limits::kMaxTilesBytes >> 20) + " MiB limit");
    PatternTiles t;
    t.n_ = s.n();
    t.m_ = s.m();
    t.d_model_ = s.d_model;
    t.d_head_ = s.d_head;
    t.factor_ = s.logit_factor();
    t.cross_ = s.cross();
    t.mask_ = s.mask;
    t.E_ = with_positional(s.input, s);
    t.W_O_ = s.W_O;
    t.heads_.resize(static_cast<std::size_t>(s.n_heads));
    std::vector<int> all(static_cast<std::size_t>(s.n_heads));
    for (int h = 0; h < s.n_heads; ++h) all[static_cast<std::size_t>(h)] = h;
    if (progress) {
        progress->done = 0;
        progress->total = static_cast<std::int64_t>(s.n_heads) * s.n();
    }
    if (!t.build_heads(s, all, progress, threads)) return false;
    *this = std::move(t);
    return true;
}

bool PatternTiles::build_heads(const Scene& s, const std::vector<int>& which, Progress* progress, int threads) {
    const int n = n_, m = m_;
    // Threads pay off from about a millisecond of work (starting one costs ~50 µs, more when busy).
    const double work = 2.0 * n * m * d_head_ * static_cast<double>(which.size());
    const int nt = work < 4e6 ? 1 : resolve_threads(threads);
    const Mat X = cross_ ? with_positional(*s.source, s) : Mat();
    const Mat& keys_from = cross_ ? X : E_;
    const int count = static_cast<int>(which.size());
    // (1) projections
    parallel_for(count, nt, [&](int k) {
        const int h = which[static_cast<std::size_t>(k)];
        HeadStats& r = heads_[static_cast<std::size_t>(h)];
        const auto& hw = s.heads[static_cast<std::size_t>(h)];
        r.Q.noalias() = E_ * hw.W[kQuery];
        r.K.noalias() = keys_from * hw.W[kKey];
        r.V.noalias() = keys_from * hw.W[kValue];
        r.row_max.assign(static_cast<std::size_t>(n), 0.0f);
        r.row_sum.assign(static_cast<std::size_t>(n), 0.0f);
        r.row_argmax.assign(static_cast<std::size_t>(n), -1);
        r.mixed = Mat::Zero(n, d_head_);
    });
    // (2)–(6) per block of rows: scores of the keys the block may see, softmax, pattern·V
    const int blocks = (n + kTileRows - 1) / kTileRows;
    std::vector<Mat> scores(static_cast<std::size_t>(nt)), pattern(static_cast<std::size_t>(nt));
    std::atomic<bool> stopped{false};
    parallel_for_workers(count * blocks, nt, [&](int item, int worker) {
        if (stopped.load(std::memory_order_relaxed)) return;
        if (progress && progress->cancel.load(std::memory_order_relaxed)) {
            stopped = true;
            return;
        }
        const int h = which[static_cast<std::size_t>(item / blocks)];
        const int i0 = (item % blocks) * kTileRows, i1 = std::min(n, i0 + kTileRows), b = i1 - i0;
        HeadStats& r = heads_[static_cast<std::size_t>(h)];
        int clo = 0, chi = 0;
        mask_.block_key_range(i0, i1, m, clo, chi);
        const int w = chi - clo + 1;
        if (w > 0) {
            Mat& S = scores[static_cast<std::size_t>(worker)];  // (b, w)
            Mat& P = pattern[static_cast<std::size_t>(worker)];
            S.resize(b, w);
            P.resize(b, w);
            S.noalias() = r.Q.middleRows(i0, b) * r.K.middleRows(clo, w).transpose();
            for (int i = i0; i < i1; ++i) {
                const SoftmaxStats st = softmax_row(mask_, i, clo, chi, S.row(i - i0).data(), factor_,
                                                    P.row(i - i0).data());
                r.row_max[static_cast<std::size_t>(i)] = st.max;
                r.row_sum[static_cast<std::size_t>(i)] = st.sum;
                r.row_argmax[static_cast<std::size_t>(i)] = st.argmax;
            }
            r.mixed.middleRows(i0, b).noalias() = P * r.V.middleRows(clo, w);
        }
        if (progress) progress->done += b;
    });
    if (stopped) {
        *this = PatternTiles();
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] cells, tiles, overview
// ---------------------------------------------------------------------------------------------
void PatternTiles::check_head(int head) const {
    if (head < 0 || head >= n_heads())
        throw std::out_of_range("head " + std::to_string(head) + " is out of range 0.." + std::to_string(n_heads() - 1));
}

const HeadStats& PatternTiles::head(int h) const {
    check_head(h);
    return heads_[static_cast<std::size_t>(h)];
}

namespace {
void check_block(int n, int m, int row0, int col0, int rows, int cols) {
    auto bad = [](const char* what, int v, int lo, int hi) {
        return std::out_of_range(std::string(what) + " " + std::to_string(v) + " is out of range " +
                                 std::to_string(lo) + ".." + std::to_string(hi));
    };
    if (row0 < 0 || row0 > n) throw bad("row0", row0, 0, n);
    if (col0 < 0 || col0 > m) throw bad("col0", col0, 0, m);
    if (rows < 0 || rows > n - row0) throw bad("rows", rows, 0, n - row0);
    if (cols < 0 || cols > m - col0) throw bad("cols", cols, 0, m - col0);
}
}  // namespace

float PatternTiles::score(int head, int i, int j) const {
    check_head(head);
    check_block(n_, m_, i, j, 1, 1);
    const HeadStats& r = heads_[static_cast<std::size_t>(head)];
    return r.Q.row(i).dot(r.K.row(j));
}

float PatternTiles::cell(int head, int i, int j) const {
    const float x = score(head, i, j);
    const HeadStats& r = heads_[static_cast<std::size_t>(head)];
    const float sum = r.row_sum[static_cast<std::size_t>(i)];
    if (sum == 0.0f || !mask_.allows(i, j)) return 0.0f;
    return softmax_weight(x, factor_, r.row_max[static_cast<std::size_t>(i)], sum,
                          r.row_argmax[static_cast<std::size_t>(i)] == j);
}

Mat PatternTiles::score_tile(int head, int row0, int col0, int rows, int cols) const {
    check_head(head);
    check_block(n_, m_, row0, col0, rows, cols);
    const HeadStats& r = heads_[static_cast<std::size_t>(head)];
    Mat S(rows, cols);  // (rows, cols)
    if (rows > 0 && cols > 0) S.noalias() = r.Q.middleRows(row0, rows) * r.K.middleRows(col0, cols).transpose();
    return S;
}

namespace tiles_detail {
// Pattern values of rows [row0, row0+rows) × columns [col0, col0+cols) from raw scores S, in place.
void scores_to_pattern(const PatternTiles& t, const HeadStats& r, int row0, int col0, Mat& S) {
    const Mask& mask = t.mask();
    const float f = t.logit_factor();
    const int rows = static_cast<int>(S.rows()), cols = static_cast<int>(S.cols());
    for (int a = 0; a < rows; ++a) {
        const int i = row0 + a;
        float* row = S.row(a).data();
        const float sum = r.row_sum[static_cast<std::size_t>(i)];
        int lo = 0, hi = 0;
        mask.key_range(i, t.m(), lo, hi);
        lo = std::max(lo, col0) - col0;
        hi = std::min(hi, col0 + cols - 1) - col0;
        if (sum == 0.0f || hi < lo) {
            std::fill(row, row + cols, 0.0f);
            continue;
        }
        std::fill(row, row + lo, 0.0f);
        std::fill(row + hi + 1, row + cols, 0.0f);
        softmax_weights(row + lo, hi - lo + 1, f, r.row_max[static_cast<std::size_t>(i)], sum,
                        r.row_argmax[static_cast<std::size_t>(i)] - col0 - lo);
        if (!mask.dense_band())
            for (int j = lo; j <= hi; ++j)
                if (!mask.allows(i, col0 + j)) row[j] = 0.0f;
    }
}
}  // namespace tiles_detail

Mat PatternTiles::tile(int head, int row0, int col0, int rows, int cols) const {
    Mat S = score_tile(head, row0, col0, rows, cols);
    scores_to_pattern(*this, heads_[static_cast<std::size_t>(head)], row0, col0, S);
    return S;
}

Mat PatternTiles::stage_tile(int head, Stage st, int row0, int col0, int rows, int cols) const {
    if (st == Stage::Pattern) return tile(head, row0, col0, rows, cols);
    Mat S = score_tile(head, row0, col0, rows, cols);  // (rows, cols) raw q_i·k_j
    if (st == Stage::Raw) return S;
    S *= factor_;
    if (st == Stage::Masked)
        for (int a = 0; a < rows; ++a)
            for (int b = 0; b < cols; ++b)
                if (!mask_.allows(row0 + a, col0 + b)) S(a, b) = -std::numeric_limits<float>::infinity();
    return S;
}

bool PatternTiles::overview(int head, int width, int height, Pool pool, Mat& out, Progress* progress,
                            int threads) const {
    return overview(head, 0, 0, n_, m_, width, height, pool, out, progress, threads);
}

bool PatternTiles::overview(int head, int row0, int col0, int rows, int cols, int width, int height, Pool pool,
                            Mat& out, Progress* progress, int threads) const {
    if (head != -1) check_head(head);
    check_block(n_, m_, row0, col0, rows, cols);
    if (rows == 0 || cols == 0 || heads_.empty()) {
        out.resize(0, 0);
        return true;
    }
    width = std::clamp(width, 1, cols);
    height = std::clamp(height, 1, rows);
    Mat result = Mat::Zero(height, width);  // (height, width)
    std::vector<int> col_start(static_cast<std::size_t>(width) + 1);  // key columns, absolute
    for (int x = 0; x <= width; ++x)
        col_start[static_cast<std::size_t>(x)] = col0 + static_cast<int>(static_cast<std::int64_t>(x) * cols / width);
    const int col_end = col0 + cols;  // one past the block's last key
    const int h0 = head == -1 ? 0 : head, h1 = head == -1 ? n_heads() : head + 1;
    const float head_weight = 1.0f / static_cast<float>(h1 - h0);
    if (progress) {
        progress->done = 0;
        progress->total = rows;
    }
    const double work = 2.0 * rows * cols * d_head_ * (h1 - h0);
    const int nt = work < 4e6 ? 1 : resolve_threads(threads);
    std::vector<Mat> tiles(static_cast<std::size_t>(nt)), sums(static_cast<std::size_t>(nt));
    std::atomic<bool> stopped{false};
    parallel_for_workers(height, nt, [&](int y, int worker) {
        if (stopped.load(std::memory_order_relaxed)) return;
        const int r0 = row0 + static_cast<int>(static_cast<std::int64_t>(y) * rows / height);
        const int r1 = row0 + static_cast<int>(static_cast<std::int64_t>(y + 1) * rows / height);
        float* bucket = result.row(y).data();
        Mat& acc = sums[static_cast<std::size_t>(worker)];
        for (int c0 = r0; c0 < r1; c0 += kTileRows) {
            if (progress && progress->cancel.load(std::memory_order_relaxed)) {
                stopped = true;
                return;
            }
            const int c1 = std::min(r1, c0 + kTileRows), b = c1 - c0;
            int clo = 0, chi = 0;
            mask_.block_key_range(c0, c1, m_, clo, chi);
            clo = std::max(clo, col0);  // only the keys of the block
            chi = std::min(chi, col_end - 1);
            const int w = chi - clo + 1;
            if (w <= 0) continue;  // every cell masked or outside the block: 0
            acc = Mat::Zero(b, w);  // (b, w) pattern averaged over the heads asked for
            for (int h = h0; h < h1; ++h) {
                const HeadStats& r = heads_[static_cast<std::size_t>(h)];
                Mat& S = tiles[static_cast<std::size_t>(worker)];
                S.resize(b, w);
                S.noalias() = r.Q.middleRows(c0, b) * r.K.middleRows(clo, w).transpose();
                scores_to_pattern(*this, r, c0, clo, S);
                if (h1 - h0 == 1) acc.swap(S);
                else acc += S * head_weight;
            }
            for (int x = 0; x < width; ++x) {
                const int j0 = std::max(col_start[static_cast<std::size_t>(x)], clo) - clo;
                const int j1 = std::min(col_start[static_cast<std::size_t>(x) + 1], chi + 1) - clo;
                if (j1 <= j0) continue;
                const auto block = acc.middleCols(j0, j1 - j0);
                if (pool == Pool::Max) bucket[x] = std::max(bucket[x], block.maxCoeff());
                else bucket[x] += block.sum();
            }
        }
        if (pool == Pool::Mean)
            for (int x = 0; x < width; ++x) {
                const double cells = static_cast<double>(r1 - r0) *
                                     (col_start[static_cast<std::size_t>(x) + 1] - col_start[static_cast<std::size_t>(x)]);
                bucket[x] = static_cast<float>(bucket[x] / cells);
            }
        // Buckets where the mask allows no cell at all are NaN (a view draws them as masked, not as
        // weight 0). The keys rows r0..r1 may see lie in [lo, hi]; for a dense band (none, causal,
        // sliding window) every key of that interval is allowed to some row, else look cell by cell.
        int lo = 0, hi = -1;
        mask_.block_key_range(r0, r1, m_, lo, hi);
        for (int x = 0; x < width; ++x) {
            const int j0 = std::max(col_start[static_cast<std::size_t>(x)], lo);
            const int j1 = std::min(col_start[static_cast<std::size_t>(x) + 1], hi + 1);
            bool reached = j1 > j0;
            if (reached && !mask_.dense_band()) {
                reached = false;
                for (int i = r0; i < r1 && !reached; ++i)
                    for (int j = j0; j < j1; ++j)
                        if (mask_.allows(i, j)) {
                            reached = true;
                            break;
                        }
            }
            if (!reached) bucket[x] = std::numeric_limits<float>::quiet_NaN();
        }
        if (progress) progress->done += r1 - r0;
    });
    if (stopped) return false;
    out = std::move(result);
    return true;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] ΔE
// ---------------------------------------------------------------------------------------------
RowVec PatternTiles::delta_row(int i) const {
    if (i < 0 || i >= n_) throw std::out_of_range("row " + std::to_string(i) + " is out of range 0.." + std::to_string(n_ - 1));
    RowVec d = RowVec::Zero(d_model_);
    for (int h = 0; h < n_heads(); ++h)
        d.noalias() += heads_[static_cast<std::size_t>(h)].mixed.row(i) *
                       W_O_.middleRows(static_cast<Eigen::Index>(h) * d_head_, d_head_);
    return d;
}

RowVec PatternTiles::output_row(int i) const { return E_.row(i) + delta_row(i); }

Mat PatternTiles::delta_rows(int row0, int rows) const {
    check_block(n_, m_, row0, 0, rows, 0);
    Mat mixed(rows, n_heads() * d_head_);  // (rows, H·d_head) the heads' mixed side by side
    for (int h = 0; h < n_heads(); ++h)
        mixed.middleCols(static_cast<Eigen::Index>(h) * d_head_, d_head_) =
            heads_[static_cast<std::size_t>(h)].mixed.middleRows(row0, rows);
    Mat d(rows, d_model_);  // (rows, d_model)
    d.noalias() = mixed * W_O_;
    return d;
}

Mat PatternTiles::delta(int threads) const {
    Mat d(n_, d_model_);  // (n, d_model)
    const int blocks = (n_ + 255) / 256;
    const double work = 2.0 * n_ * W_O_.rows() * d_model_;
    parallel_for(blocks, work < 4e6 ? 1 : resolve_threads(threads), [&](int b) {
        const int i0 = b * 256, rows = std::min(n_ - i0, 256);
        d.middleRows(i0, rows) = delta_rows(i0, rows);
    });
    return d;
}

std::size_t PatternTiles::bytes() const {
    std::size_t b = sizeof(float) * static_cast<std::size_t>(E_.size() + W_O_.size());
    b += mask_.allowed.size();
    for (const auto& r : heads_) {
        b += sizeof(float) * static_cast<std::size_t>(r.Q.size() + r.K.size() + r.V.size() + r.mixed.size());
        b += (sizeof(float) * 2 + sizeof(int)) * r.row_max.size();
    }
    return b;
}

}  // namespace attnviz
