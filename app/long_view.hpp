// attnviz app — long sequences: scenes whose full forward pass (every n × m pattern) would not fit
// core's live budget (Limits::kLiveForwardBytes) are explored through core's PatternTiles.
//
// AppState keeps `fwd` empty in long mode. The statistics (Q, K, V, per-row softmax max and sum)
// are built on the worker thread (app/jobs.hpp) with a progress bar and Cancel; one-token edits
// update them in place (core/incremental.hpp), a weight edit of one head rebuilds that head on the
// worker. The heatmap shows a pooled overview of the whole pattern (max or mean per bucket) and,
// where the user zooms in, the exact cells of the visible block — both computed on the worker, on
// demand, the latest request winning. Hover numbers are single cells, computed on the UI thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine.hpp"
#include "jobs.hpp"
#include "tiles.hpp"

namespace attnviz::app {

struct AppState;
struct HeatmapView;

struct LongView {
    // Job kinds, in the order the worker runs them.
    enum Kind { kBuild = 0, kDetail = 1, kBase = 2, kGrid = 3 };

    // One finished block of values, waiting for the UI thread.
    struct Result {
        std::uint64_t key = 0;
        Mat values;                         // data orientation
        int row0 = 0, col0 = 0, rows = 0, cols = 0;
    };

    // -- written by jobs, read by the UI thread: under `mu` --
    std::mutex mu;
    std::shared_ptr<PatternTiles> tiles;    // statistics of the scene of `tiles_generation`
    std::uint64_t tiles_generation = 0;     // AppState::generation they belong to
    bool tiles_busy = false;                // a job is changing `tiles` in place: no reads
    bool build_cancelled = false;
    std::string build_error;
    std::optional<Result> base_done, detail_done;
    std::vector<Result> grid_done;          // per head, then the average (key says which)

    // -- UI thread only --
    std::uint64_t base_asked = 0, detail_asked = 0, grid_asked = 0;  // keys last requested
    int detail_row0 = 0, detail_col0 = 0, detail_rows = 0, detail_cols = 0;  // block last requested
    bool detail_exact_asked = false;
    bool base_cancelled = false;
    std::uint64_t shown_generation = 0;     // generation the heatmap's blocks come from
    int shown_head = -1, shown_stage = -1, shown_pool = -1;
    int pool = 0;                           // 0: max, 1: mean (the overview's pooling)

    JobRunner jobs;                         // last: its thread stops before the members above go

    // The statistics when they are ready for reading on the UI thread (null while building or
    // being updated, or when they belong to another generation).
    std::shared_ptr<const PatternTiles> ready(std::uint64_t generation);
};

// Cells up to which a block is computed exactly (per request; the visible block plus a margin).
constexpr std::int64_t kLongExactCells = std::int64_t(1) << 22;   // 4M cells (16 MB)
// Texels of the pooled overview along each axis.
constexpr int kLongOverviewSize = 1024;
constexpr int kLongGridSize = 128;

// Starts building the statistics of s.scene on the worker (cancelling whatever runs).
void long_rebuild(AppState& s);
// After an edit of one token / one head's W_Q, W_K, W_V / W_O (`kind`, `index` from core's
// classify_change) that moved AppState::generation on from `from_generation`: updates the
// statistics in place (cancelling and waiting for running jobs). False when it cannot (no ready
// statistics of `from_generation`): the caller rebuilds.
bool long_update(AppState& s, std::uint64_t from_generation, int kind, int index);
// Leaves long mode: cancels every job and frees the statistics.
void long_release(AppState& s);
// The worker's current job for a progress line: false when idle.
bool long_progress(const AppState& s, std::string& label, double& fraction);

// For pictures of long sequences: true once nothing is being computed and `settle` (the caller's
// counter, starting at 0) has seen two frames since (the results reach the views the frame after).
// Always true outside long mode.
bool long_settled(const AppState& s, int& settle);

// The heatmap panel's plot in long mode: head `head` at stage `st`, with progress and Cancel.
void DrawLongHeatmap(AppState& s, HeatmapView& hv, int head, Stage st);
// The all-heads grid in long mode: each head's pooled overview, filled in as they are computed.
void DrawLongGrid(AppState& s);
// A short notice for panels that need every pattern (shift plot, compare, lecture views).
void LongModeNotice(const AppState& s, const char* what);

}  // namespace attnviz::app
