// attnviz app — a GPT-2 model as the document (app/session/model_doc.hpp): the text box and its
// GPT-2 tokens (pieces with Ġ and Ċ visible), the model's controls (layer, head, progress,
// Cancel, close), the next-token panel and the "model · layer · head" line every view shows.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <imgui.h>
#include <imgui_stdlib.h>

#include "model_doc.hpp"
#include "panels.hpp"
#include "text.hpp"

namespace attnviz::app {

namespace {
constexpr int kMaxModelChips = 400;

// The worker's progress and Cancel, or "up to date" (the views show the last finished result).
void ForwardProgress(AppState& s) {
    ModelDoc& m = *s.model;
    if (m.busy()) {
        char overlay[96];
        std::snprintf(overlay, sizeof overlay, "%s %.0f%%", m.progress_label().c_str(), m.progress() * 100.0);
        ImGui::ProgressBar(static_cast<float>(m.progress()), ImVec2(ImGui::GetFontSize() * 12, 0), overlay);
        MarkItem(s, "model.progress");
        ImGui::SameLine();
        if (ImGui::SmallButton("Cancel")) m.cancel();
        MarkItem(s, "model.cancel");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Stop this computation: the views keep the last finished result");
    } else if (!m.up_to_date()) {
        ImGui::TextDisabled("cancelled: the views show the last finished result");
    } else if (auto r = m.result()) {
        ImGui::TextDisabled("forward pass of %s: %.0f ms", count_noun(r->fwd->n(), "token").c_str(), r->seconds * 1000.0);
    }
}
}  // namespace

std::string model_view_title(const AppState& s) {
    if (!s.model) return {};
    return s.model->name() + " \xC2\xB7 layer " + std::to_string(s.model->layer) + " \xC2\xB7 head " + std::to_string(s.model->head);
}

void ModelViewHeader(AppState& s, const char* view) {
    if (!s.model) return;
    ImGui::TextColored(ImVec4(1.0f, 0.84f, 0.0f, 1.0f), "%s", model_view_title(s).c_str());
    MarkItem(s, std::string("title:") + view);
}

bool HandMadeOnlyNotice(AppState& s, const char* what) {
    if (!s.model) return false;
    ModelViewHeader(s, what);
    ImGui::TextWrapped("%s shows hand-made scenes only: a model's layer has LayerNorm and biases before its "
                       "queries, keys and values, and its weights are read-only here. The heatmap, the all-heads grid, "
                       "the masked-vs-unmasked comparison, the query-key plot, the embedding shift and the model view "
                       "show the model's selected layer.",
                       what);
    return true;
}

void DrawModelTokens(AppState& s) {
    ModelDoc& m = *s.model;
    ImGui::TextDisabled("%s \xC2\xB7 GPT-2 byte-level BPE", m.name().c_str());
    const float h = ImGui::GetTextLineHeight() * 3.5f;
    const std::string before = s.text_input;
    ImGui::InputTextMultiline("##modeltext", &s.text_input, ImVec2(-1, h));
    MarkItem(s, "tokens.text");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Type: the text is encoded with GPT-2's BPE and the model runs as you type");
    if (s.text_input != before) s.type_text("text", s.text_input);
    if (!ImGui::IsItemActive() && s.text_input != m.text) s.text_input = m.text;
    ImGui::Text("%s", count_noun(static_cast<int>(m.ids.size()), "token").c_str());
    if (m.truncated) {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(1.0f, 0.6f, 0.3f, 1.0f), "(cut to the model's %d positions)", m.cfg().n_ctx);
    }
    ImGui::SameLine();
    ForwardProgress(s);
    ImGui::Separator();
    // Chips: the pieces as vocab.json spells them (Ġ = a space, Ċ = a newline); click to select the query.
    ImGui::BeginChild("##chips", ImVec2(0, 0));
    const ImGuiStyle& st = ImGui::GetStyle();
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    const int shown = std::min(static_cast<int>(m.ids.size()), kMaxModelChips);
    for (int i = 0; i < shown; ++i) {
        const int id = m.ids[static_cast<std::size_t>(i)];
        const std::string t = m.piece(id);
        const float w = ImGui::CalcTextSize(t.c_str()).x + st.FramePadding.x * 2;
        if (i > 0) {
            ImGui::SameLine(0, 4);
            if (ImGui::GetCursorScreenPos().x + w > right) ImGui::NewLine();
        }
        const bool sel = i == s.sel.query;
        ImGui::PushStyleColor(ImGuiCol_Button, sel ? ImVec4(0.85f, 0.65f, 0.05f, 1) : ImVec4(0.22f, 0.30f, 0.45f, 1));
        ImGui::PushStyleColor(ImGuiCol_Text, sel ? ImVec4(0, 0, 0, 1) : ImVec4(1, 1, 1, 1));
        ImGui::PushStyleVar(ImGuiStyleVar_FrameRounding, 8.0f);
        ImGui::PushID(i);
        if (ImGui::Button(t.c_str())) s.sel.query = sel ? -1 : i;
        MarkItem(s, "model.chip" + std::to_string(i));
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("token %d: id %d, \"%s\"", i, id, t.c_str());
        ImGui::PopID();
        ImGui::PopStyleVar();
        ImGui::PopStyleColor(2);
    }
    if (shown < static_cast<int>(m.ids.size()))
        ImGui::TextDisabled("\xE2\x80\xA6 and %s", count_noun(static_cast<int>(m.ids.size()) - shown, "more token", "more tokens").c_str());
    ImGui::EndChild();
}

void DrawModelInfo(AppState& s) {
    ModelDoc& m = *s.model;
    const ModelConfig& c = m.cfg();
    ImGui::TextWrapped("GPT-2 model: %s", m.folder.c_str());
    ImGui::Text("%d layers \xC2\xB7 %d heads \xC2\xB7 d_model %d \xC2\xB7 d_head %d", c.n_layers, c.n_heads, c.d_model, c.d_head());
    ImGui::Text("vocabulary %d \xC2\xB7 context %d%s", c.vocab_size, c.n_ctx, c.mlp ? "" : " \xC2\xB7 attention only");
    ImGui::Separator();
    const float fs = ImGui::GetFontSize();
    int layer = m.layer, head = m.head;
    ImGui::SetNextItemWidth(fs * 8);
    if (ImGui::SliderInt("layer", &layer, 0, c.n_layers - 1)) m.select(layer, m.head);
    MarkItem(s, "model.layer");
    ImGui::SetNextItemWidth(fs * 8);
    if (ImGui::SliderInt("head##model", &head, 0, c.n_heads - 1)) {
        m.select(m.layer, head);
        s.sel.head = m.head;
    }
    MarkItem(s, "model.head");
    ImGui::TextDisabled("every view shows %s", model_view_title(s).c_str());
    ForwardProgress(s);
    if (ImGui::SmallButton("Close model")) s.close_model();
    MarkItem(s, "model.close");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Back to scenes: a new one (File \xE2\x86\x92 New or Open also close the model). The weights editor, "
                          "the model sizes and the step-by-step math are for hand-made scenes.");
}

void DrawNextTokenPanel(AppState& s) {
    if (!s.model) return;
    SetNextPanelLayout(kNextTokenWindow);
    if (!ImGui::Begin(kNextTokenWindow, &s.show_next_token)) {
        ImGui::End();
        return;
    }
    ModelDoc& m = *s.model;
    auto r = m.result();
    if (!r) {
        ImGui::TextDisabled(m.busy() ? "computing\xE2\x80\xA6" : "type a text");
        ImGui::End();
        return;
    }
    const int n = r->fwd->n();
    const std::string last = m.piece(r->in.ids.back());
    ImGui::Text("after token %d \"%s\":", n - 1, last.c_str());
    if (!m.up_to_date()) {
        ImGui::SameLine();
        ImGui::TextDisabled("(updating\xE2\x80\xA6)");
    }
    const float fs = ImGui::GetFontSize();
    if (ImGui::BeginTable("##next", 4, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg)) {
        ImGui::TableSetupColumn("token", ImGuiTableColumnFlags_WidthFixed, fs * 5);
        ImGui::TableSetupColumn("%", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("100.00%").x);
        ImGui::TableSetupColumn("probability", ImGuiTableColumnFlags_WidthStretch);
        ImGui::TableSetupColumn("id", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("50256").x);
        const float top = r->top.empty() ? 1.0f : std::max(r->top[0].prob, 1e-9f);
        for (std::size_t k = 0; k < r->top.size(); ++k) {
            const TokenProb& t = r->top[k];
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            ImGui::TextUnformatted(m.piece(t.id).c_str());
            ImGui::TableSetColumnIndex(1);
            ImGui::Text("%.2f%%", static_cast<double>(t.prob) * 100.0);
            ImGui::TableSetColumnIndex(2);
            // a bar per token, its length the probability (the most probable fills the column)
            const ImVec2 p = ImGui::GetCursorScreenPos();
            const float w = std::max(ImGui::GetContentRegionAvail().x, 1.0f), hh = ImGui::GetTextLineHeight();
            ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + 2), ImVec2(p.x + w * t.prob / top, p.y + hh - 2),
                                                      IM_COL32(70, 130, 200, 255));
            ImGui::Dummy(ImVec2(w, hh));
            MarkItem(s, "next.bar" + std::to_string(k));
            ImGui::TableSetColumnIndex(3);
            ImGui::TextDisabled("%d", t.id);
        }
        ImGui::EndTable();
    }
    ImGui::End();
}

}  // namespace attnviz::app
