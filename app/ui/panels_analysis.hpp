// attnviz app — the analysis panels of an open GPT-2 model: head labels (panel_head_labels.cpp),
// interventions (panel_interventions.cpp) and the logit lens (panel_logit_lens.cpp). Their options
// and results live in AppState::analysis (app/session/model_analysis.hpp); every computation runs
// on its worker, the panels only ask and draw.
#pragma once

#include <memory>
#include <string>

#include "app_state.hpp"
#include "gpt2_model.hpp"
#include "model_analysis.hpp"

namespace attnviz::app {

class ModelDoc;

extern const char* const kHeadLabelsWindow;
extern const char* const kInterventionsWindow;
extern const char* const kLogitLensWindow;

// Once a frame before the panels: makes AppState::analysis while a model is open (and forgets it
// when the model goes), adopts finished results and puts a failed job's error on the status line.
void ModelAnalysisFrame(AppState& s);
// The View menu's entries of the three panels (enabled while a model is open).
void ModelAnalysisMenuItems(AppState& s);

void DrawHeadLabelsPanel(AppState& s);
void DrawInterventionsPanel(AppState& s);
void DrawLogitLensPanel(AppState& s);

// What a panel of the open model works on: the document, the latest finished forward and the model
// it references. False (with a notice in the current window naming `what`) when no model is open
// or no forward has finished yet.
struct ModelNow {
    ModelDoc* doc = nullptr;
    std::shared_ptr<const Model> model;
    std::shared_ptr<const Gpt2Forward> fwd;
    ModelAnalysis* an = nullptr;
};
bool ModelForPanel(AppState& s, ModelNow& out, const char* what);
// A GPT-2 piece as drawn (Ġ for a space, Ċ for a newline, as vocab.json has them).
std::string piece_text(const ModelNow& m, int id);

}  // namespace attnviz::app
