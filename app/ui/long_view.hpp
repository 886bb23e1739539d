// attnviz app — long sequences, drawn (the state is app/session/long_state.hpp): scenes whose full forward pass (every n × m pattern) would not fit
// core's live budget (Limits::kLiveForwardBytes) are explored through core's PatternTiles.
//
// AppState keeps `fwd` empty in long mode. The statistics (Q, K, V, per-row softmax max and sum)
// are built on the worker thread (app/session/jobs.hpp) with a progress bar and Cancel; one-token edits
// update them in place (core/incremental.hpp), a weight edit of one head rebuilds that head on the
// worker. The heatmap shows a pooled overview of the whole pattern (max or mean per bucket) and,
// where the user zooms in, the exact cells of the visible block — both computed on the worker, on
// demand, the latest request winning. Hover numbers are single cells, computed on the UI thread.
#pragma once

#include "heatmap.hpp"
#include "long_state.hpp"

namespace attnviz::app {

// The heatmap panel's plot in long mode: head `head` at stage `st`, with progress and Cancel.
void DrawLongHeatmap(AppState& s, HeatmapView& hv, int head, Stage st);
// The all-heads grid in long mode: each head's pooled overview, filled in as they are computed.
void DrawLongGrid(AppState& s);
// A short notice for panels that need every pattern (shift plot, compare, lecture views).
void LongModeNotice(const AppState& s, const char* what);

}  // namespace attnviz::app
