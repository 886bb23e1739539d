// attnviz session — long sequences (the state; the drawing is app/ui/long_view.hpp): scenes whose full forward pass (every n × m pattern) would not fit
// core's live budget (Limits::kLiveForwardBytes) are explored through core's PatternTiles.
//
// AppState keeps `fwd` empty in long mode. The statistics (Q, K, V, per-row softmax max and sum)
// are built on the worker thread (app/session/jobs.hpp) with a progress bar and Cancel; one-token edits
// update them in place (core/incremental.hpp), a weight edit of one head rebuilds that head on the
// worker. The heatmap shows a pooled overview of the whole pattern (max or mean per bucket) and,
// where the user zooms in, the exact cells of the visible block — both computed on the worker, on
// demand, the latest request winning. Hover numbers are single cells, computed on the UI thread.
#pragma once

#include <cstdint>
#include <initializer_list>
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
    // What the heatmap shows (written by the heatmap widget each frame, read by state_json)
    bool shown_valid = false;
    float shown_view[4] = {0, 0, 0, 0};     // x0, y0, x1, y1 in cells
    bool shown_overview = false, shown_detail_exact = false;
    std::string goto_text;                  // the "go to token" field
    int goto_found = -1;                    // the token it found last (the next search starts after it)

    JobRunner jobs;                         // last: its thread stops before the members above go

    // The statistics when they are ready for reading on the UI thread (null while building or
    // being updated, or when they belong to another generation).
    std::shared_ptr<const PatternTiles> ready(std::uint64_t generation);
};

// "Go to token": `what` as an index ("1200") when it is a number in 0..n-1, else the first token
// after `after` (wrapping around) whose text, without surrounding spaces, equals `what` (then: contains
// it). -1 when none.
int find_token(const std::vector<Token>& tokens, const std::string& what, int after = -1);

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

// Errors of worker jobs that threw go to the status line (called once a frame).
void long_report_errors(AppState& s);
// The long-sequence state of `s`, created when missing.
LongView& long_state(AppState& s);
// A key from a few numbers (FNV-1a over their bytes): different requests, different keys; never 0.
std::uint64_t long_key(std::initializer_list<std::int64_t> parts);

}  // namespace attnviz::app
