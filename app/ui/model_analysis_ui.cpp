// attnviz app — what the three analysis panels of a model share: the frame hook (make, poll,
// errors), the View menu entries, the "which model, which forward" lookup, token pieces.
#include <imgui.h>

#include "model_doc.hpp"
#include "panels.hpp"
#include "panels_analysis.hpp"

namespace attnviz::app {

void ModelAnalysisFrame(AppState& s) {
    if (!s.model) {
        s.analysis.reset();  // joins its worker: only results of a closed model were left
        return;
    }
    if (!s.analysis) s.analysis = std::make_shared<ModelAnalysis>();
    ModelAnalysis& an = *s.analysis;
    if (an.for_model != s.model->model.get()) {
        an.reset();
        an.for_model = s.model->model.get();
    }
    std::vector<std::string> errors;
    an.poll(&errors);
    if (!errors.empty()) s.set_error(errors.back());
}

void ModelAnalysisMenuItems(AppState& s) {
    const bool open = s.model != nullptr;
    // Opening one shows the "Model analysis" workspace, where the three have their places.
    const char* tip = "in the Model analysis workspace (beside the text and the next token)";
    if (ImGui::MenuItem(kHeadLabelsWindow, nullptr, &s.show_head_labels, open) && s.show_head_labels) s.workspace = kModelAnalysisWorkspace;
    MarkItem(s, "view.head_labels");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tip);
    if (ImGui::MenuItem(kInterventionsWindow, nullptr, &s.show_interventions, open) && s.show_interventions)
        s.workspace = kModelAnalysisWorkspace;
    MarkItem(s, "view.interventions");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tip);
    if (ImGui::MenuItem(kLogitLensWindow, nullptr, &s.show_logit_lens, open) && s.show_logit_lens) s.workspace = kModelAnalysisWorkspace;
    MarkItem(s, "view.logit_lens");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tip);
}

bool ModelForPanel(AppState& s, ModelNow& out, const char* what) {
    out = {};
    if (!s.model || !s.analysis) {
        ImGui::TextWrapped("%s needs a GPT-2 model: File \xE2\x86\x92 Open model, or start with --model DIR.", what);
        return false;
    }
    out.doc = s.model.get();
    out.an = s.analysis.get();
    const auto r = s.model->result();
    if (!r || !r->fwd || !r->model) {
        ImGui::TextDisabled("computing the forward pass\xE2\x80\xA6");
        return false;
    }
    out.model = r->model;
    out.fwd = r->fwd;
    return true;
}

std::string piece_text(const ModelNow& m, int id) { return m.doc ? m.doc->piece(id) : std::to_string(id); }

}  // namespace attnviz::app
