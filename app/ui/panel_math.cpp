// attnviz app — the step-by-step math panel: the attention formula for the selected query of
// the selected head, with the scene's real numbers (from core/explain), stepped with ←/→.
//
// Steps 1..k are shown, the current one highlighted; the per-key table grows one column per
// step (q·k, scaled, mask, weight); hovering a key row highlights that cell in the heatmap
// (sel.hover_query/hover_key), and the heatmap's stage follows the step.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "panels.hpp"
#include "long_view.hpp"
#include "panels_lecture.hpp"

namespace attnviz::app {
namespace {

const ImVec4 kCurrent(0.98f, 0.75f, 0.25f, 1.0f);   // the current step's accent
const ImVec4 kFormula(0.55f, 0.80f, 1.0f, 1.0f);

std::string key_name(const QueryExplanation& x, int j) {
    return std::to_string(j) + " " + x.key_tokens[static_cast<std::size_t>(j)];
}

// The per-key table for steps 1..5: one row per key, one column per step reached so far.
void draw_key_table(AppState& app, const QueryExplanation& x, int step) {
    const int m = static_cast<int>(x.key_tokens.size());
    int columns = 1;                 // key
    if (step == 1) columns += 2;     // k_j, v_j
    else columns += std::min(step, 5) - 1;  // q·k, scaled, mask, weight
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingFixedFit;
    const float rows_h = ImGui::GetFrameHeightWithSpacing() * (static_cast<float>(m) + 1.5f);
    const float height = std::min(rows_h, std::max(ImGui::GetContentRegionAvail().y - 8.0f, 160.0f));
    if (!ImGui::BeginTable("keys", columns, flags, ImVec2(0, height))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("key");
    if (step == 1) {
        ImGui::TableSetupColumn("k_j = X_j·W_K");
        ImGui::TableSetupColumn("v_j = X_j·W_V");
    } else {
        ImGui::TableSetupColumn("q·k_j");
        if (step >= 3) ImGui::TableSetupColumn(x.scaled ? "÷ √d_k" : "× 1");
        if (step >= 4) ImGui::TableSetupColumn("mask");
        if (step >= 5) ImGui::TableSetupColumn("softmax w_j", ImGuiTableColumnFlags_WidthFixed, 200.0f);
    }
    ImGui::TableHeadersRow();
    int best = 0;
    for (int j = 1; j < m; ++j)
        if (x.weights[j] > x.weights[best]) best = j;
    ImGuiListClipper clipper;
    clipper.Begin(m);
    while (clipper.Step())
        for (int j = clipper.DisplayStart; j < clipper.DisplayEnd; ++j) {
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            const bool masked = !x.allowed[static_cast<std::size_t>(j)];
            const std::string name = key_name(x, j);
            const bool dim = step >= 4 && masked, best_key = step >= 5 && j == best && !x.fully_masked;
            if (dim) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            else if (best_key) ImGui::PushStyleColor(ImGuiCol_Text, kCurrent);
            if (ImGui::Selectable(name.c_str(), app.sel.key == j, ImGuiSelectableFlags_SpanAllColumns)) app.sel.key = j;
            if (dim || best_key) ImGui::PopStyleColor();
            if (ImGui::IsItemHovered()) {  // the heatmap highlights this cell
                app.sel.hover_query = x.query;
                app.sel.hover_key = j;
            }
            if (step == 1) {
                ImGui::TableSetColumnIndex(1);
                ImGui::TextUnformatted(format_vector(x.K.row(j), 6).c_str());
                ImGui::TableSetColumnIndex(2);
                ImGui::TextUnformatted(format_vector(x.V.row(j), 6).c_str());
                continue;
            }
            int c = 1;
            ImGui::TableSetColumnIndex(c++);
            ImGui::TextUnformatted(format_number(x.dots[j]).c_str());
            if (step >= 3) {
                ImGui::TableSetColumnIndex(c++);
                ImGui::TextUnformatted(format_number(x.logits[j]).c_str());
            }
            if (step >= 4) {
                ImGui::TableSetColumnIndex(c++);
                if (masked) ImGui::TextColored(ImVec4(0.9f, 0.4f, 0.4f, 1), "−∞");
                else ImGui::TextUnformatted(format_number(x.masked[j]).c_str());
            }
            if (step >= 5) {
                ImGui::TableSetColumnIndex(c++);
                ImGui::ProgressBar(x.weights[j], ImVec2(-1, 0), format_number(x.weights[j]).c_str());
            }
        }
    ImGui::EndTable();
}

void draw_step_body(AppState& app, const QueryExplanation& x, const ExplainStep& st) {
    switch (st.number) {
        case 1:
            ImGui::Text("q = %s", format_vector(x.q).c_str());
            draw_key_table(app, x, 1);
            break;
        case 2:
        case 3:
        case 4:
            draw_key_table(app, x, st.number);
            break;
        case 5:
            if (x.fully_masked) ImGui::TextUnformatted("No key is allowed: every weight is 0.");
            else ImGui::Text("max = %s,   Σ exp(l − max) = %s", format_number(x.row_max).c_str(), format_number(x.row_sum).c_str());
            draw_key_table(app, x, 5);
            break;
        default:
            for (const auto& line : st.lines) TextWords(line);  // never splits a number
            break;
    }
}

}  // namespace

void DrawMathPanel(AppState& app) {
    auto& L = app.lecture;
    if (!L.show_math) return;
    SetNextPanelLayout(kMathWindow);
    if (!ImGui::Begin(kMathWindow, &L.show_math)) {
        ImGui::End();
        return;
    }
    if (HandMadeOnlyNotice(app, "The step-by-step math") || !FullForwardOrNotice(app, "The step-by-step math")) {
        ImGui::End();
        return;
    }
    const Scene& s = app.scene;
    // Head and query.
    ImGui::SetNextItemWidth(120);
    int head = app.sel.head;
    if (ImGui::SliderInt("head", &head, 0, std::max(s.n_heads - 1, 0))) app.sel.head = std::clamp(head, 0, s.n_heads - 1);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(220);
    const std::string preview =
        app.sel.query >= 0 && app.sel.query < s.n()
            ? std::to_string(app.sel.query) + " '" + s.input.tokens[static_cast<std::size_t>(app.sel.query)].text + "'"
            : std::string("(pick one)");
    if (ImGui::BeginCombo("query", preview.c_str())) {
        ImGuiListClipper clipper;
        clipper.Begin(s.n());
        while (clipper.Step())
            for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
                const std::string label = std::to_string(i) + " '" + s.input.tokens[static_cast<std::size_t>(i)].text + "'";
                if (ImGui::Selectable(label.c_str(), i == app.sel.query)) app.sel.query = i;
            }
        ImGui::EndCombo();
    }
    const QueryExplanation* x = CurrentExplanation(app);
    if (!x) {
        ImGui::TextWrapped("Pick a query token (a row of the heatmap, the list above, or ↑/↓) to see its math.");
        ImGui::End();
        return;
    }
    // Step navigation.
    if (ImGui::ArrowButton("back", ImGuiDir_Left)) SetMathStep(app, L.math_step - 1);
    ImGui::SameLine();
    ImGui::Text("step %d of 8", L.math_step);
    ImGui::SameLine();
    if (ImGui::ArrowButton("next", ImGuiDir_Right)) SetMathStep(app, L.math_step + 1);
    ImGui::SameLine();
    ImGui::Checkbox("heatmap follows", &L.stage_follows_step);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("The heatmap shows the stage of the current step (raw, scaled, masked, pattern)");
    ImGui::TextDisabled("←/→ step, ↑/↓ query");
    ImGui::Separator();

    ImGui::BeginChild("steps");
    for (const ExplainStep& st : x->steps) {
        if (st.number > L.math_step) break;
        const bool current = st.number == L.math_step;
        ImGui::PushID(st.number);
        if (current) {
            ImGui::TextColored(kCurrent, "(%d) %s", st.number, st.title.c_str());
            ImGui::TextColored(kFormula, "%s", st.formula.c_str());
            ImGui::Indent();
            draw_step_body(app, *x, st);
            ImGui::Unindent();
            if (app.lecture.scrolled_to_step != st.number) {  // follow the step once, then let the user scroll
                ImGui::SetScrollHereY(0.0f);
                app.lecture.scrolled_to_step = st.number;
            }
        } else {
            ImGui::TextDisabled("(%d) %s:  %s", st.number, st.title.c_str(), st.formula.c_str());
        }
        ImGui::PopID();
    }
    ImGui::EndChild();
    ImGui::End();
}

}  // namespace attnviz::app
