// attnviz app — "Unsaved changes": the modal question in front of every switch of document and
// quit (AppState::request_switch). Drawn last each frame, like the recovery popup (ImGui 1.86
// asserts when a window is begun after a modal popup in the same frame: imgui#4920).
#include <imgui.h>

#include "panels.hpp"
#include "paths.hpp"
#include "recovery.hpp"

namespace attnviz::app {

void DrawUnsavedDialog(AppState& s) {
    constexpr const char* kTitle = "Unsaved changes";
    if (!s.pending_switch.active()) return;
    if (s.recovery && s.recovery->offer) return;  // one question at a time: the restore offer first
    if (!ImGui::IsPopupOpen(kTitle)) ImGui::OpenPopup(kTitle);
    const ImVec2 centre(ImGui::GetIO().DisplaySize.x * 0.5f, ImGui::GetIO().DisplaySize.y * 0.5f);
    ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (!ImGui::BeginPopupModal(kTitle, nullptr, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings)) return;
    ImGui::Text("\"%s\" has changes that are not saved.", s.display_title().c_str());
    ImGui::Text("Save them before you %s?", s.pending_switch.what.c_str());
    if (s.scene_path.empty()) ImGui::TextDisabled("(Save puts it in your documents folder.)");
    else if (is_bundled_path(s.scene_path)) ImGui::TextDisabled("(A lecture scene is read-only: Save puts a copy in your documents folder.)");
    ImGui::Spacing();
    UnsavedChoice choice{};
    bool chosen = false;
    if (ImGui::Button("Save")) chosen = true, choice = UnsavedChoice::Save;
    MarkItem(s, "unsaved.save");
    ImGui::SameLine();
    if (ImGui::Button("Discard")) chosen = true, choice = UnsavedChoice::Discard;
    MarkItem(s, "unsaved.discard");
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false))
        chosen = true, choice = UnsavedChoice::Cancel;
    MarkItem(s, "unsaved.cancel");
    if (chosen) {
        ImGui::CloseCurrentPopup();
        s.resolve_unsaved(choice);
    }
    ImGui::EndPopup();
}

}  // namespace attnviz::app
