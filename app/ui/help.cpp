#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>  // GLFW_KEY_F1: ImGui 1.86 has no named function keys
#include <imgui.h>

#include "help.hpp"

#include <algorithm>
#include <string>
#include "panels_lecture.hpp"

namespace attnviz::app {

const std::vector<HelpEntry>& help_entries() {
    static const std::vector<HelpEntry> entries = {
        {"Everywhere", "F1", "show / hide this help"},
        {"Everywhere", "F5", "presentation view on / off"},
        {"Everywhere", "Ctrl+Z", "undo (typing is undone a word at a time, or up to a pause of 1 s)"},
        {"Everywhere", "Ctrl+Y, Ctrl+Shift+Z", "redo"},
        {"Everywhere", "Ctrl+N", "new untitled scene (asks first when there are unsaved changes)"},
        {"Everywhere", "Ctrl+O", "open a scene file (the file browser)"},
        {"Everywhere", "Ctrl+S", "save (a lecture scene or an untitled one: a copy in the documents folder)"},
        {"Everywhere", "Ctrl+Q", "quit (asks Save / Discard / Cancel when there are unsaved changes)"},
        {"Everywhere", "Ctrl+Shift+L", "reset the panel layout"},
        {"Everywhere", "Ctrl+click a slider", "type an exact value"},
        {"Step-by-step math", "← / →", "previous / next step (outside text fields)"},
        {"Step-by-step math", "↑ / ↓", "previous / next query token"},
        {"Step-by-step math", "hover a key's row", "outline that cell in the heatmap"},
        {"Tokens", "click a token", "select it as the query and edit it"},
        {"Heatmaps", "hover", "the cell's numbers (score, weight, …) in a tooltip"},
        {"Heatmaps", "click", "select that query (row) and key (column); in All heads, that head"},
        {"Heatmaps", "mouse wheel", "zoom around the mouse"},
        {"Heatmaps", "right or middle drag", "pan"},
        {"Heatmaps", "double-click", "show the whole matrix again"},
        {"Shift plot", "click a token", "select it as the query"},
        {"Query–key plot", "click a point", "select that query / key"},
        {"Weights", "click a cell", "edit that weight"},
        {"Inspector", "click a key", "select it"},
        {"Presentation (F5)", "← / →", "previous / next math step; past step 8 (before step 1): next (previous) scene"},
        {"Presentation (F5)", "PgDn or Space / PgUp", "next / previous lecture scene"},
        {"Presentation (F5)", "↑ / ↓", "previous / next query token"},
        {"Presentation (F5)", "click a heatmap row", "select that query (and that head)"},
        {"Presentation (F5)", "H", "next head"},
        {"Presentation (F5)", "T", "light / dark theme"},
        {"Presentation (F5)", "C", "colour map: cividis, viridis, magma"},
        {"Presentation (F5)", "P", "positional encoding on / off"},
        {"Presentation (F5)", "1 … 9", "the scene's d_head presets (scenes that have them)"},
        {"Presentation (F5)", "+ / −", "temperature × 2 / ÷ 2"},
        {"Presentation (F5)", "Esc or F5", "back to the window"},
    };
    return entries;
}

void HandleHelpKey(AppState& s) {
    if (ImGui::IsKeyPressed(GLFW_KEY_F1, false)) s.show_help = !s.show_help;
}

void HelpMenu(AppState& s) {
    if (!ImGui::BeginMenu("Help")) return;
    if (ImGui::MenuItem("Keys and mouse", "F1", s.show_help)) s.show_help = !s.show_help;
    ImGui::EndMenu();
}

void DrawHelpWindow(AppState& s) {
    if (!s.show_help) return;
    const ImGuiIO& io = ImGui::GetIO();
    ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x * 0.5f, io.DisplaySize.y * 0.5f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    ImGui::SetNextWindowSize(ImVec2(std::min(io.DisplaySize.x * 0.9f, ImGui::GetFontSize() * 46), io.DisplaySize.y * 0.8f),
                             ImGuiCond_Appearing);
    ImGui::SetNextWindowFocus();
    if (ImGui::Begin("Help: keys and mouse (F1)", &s.show_help, ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings)) {
        const char* where = "";
        if (ImGui::BeginTable("help", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) {
            ImGui::TableSetupColumn("keys", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 13);
            ImGui::TableSetupColumn("what");
            for (const HelpEntry& e : help_entries()) {
                if (std::string(where) != e.where) {
                    where = e.where;
                    ImGui::TableNextRow();
                    ImGui::TableSetColumnIndex(0);
                    ImGui::TextColored(ImVec4(0.98f, 0.75f, 0.25f, 1.0f), "%s", e.where);
                }
                ImGui::TableNextRow();
                ImGui::TableSetColumnIndex(0);
                ImGui::TextUnformatted(e.keys);
                ImGui::TableSetColumnIndex(1);
                ImGui::TextWrapped("%s", e.action);
            }
            ImGui::EndTable();
        }
        ImGui::TextDisabled("Menus: File (open, save), Edit (undo, redo), View (panels, presentation), Export (figures, JSON, NumPy), Help.");
    }
    ImGui::End();
}

}  // namespace attnviz::app
