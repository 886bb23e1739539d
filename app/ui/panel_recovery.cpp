// attnviz app — the "Restore previous session?" popup (every crashed session, each with Restore
// and Discard), and the File menu's "Recover" items (sessions not answered yet, and the changes
// discarded at the last quit). Drawn last each frame, just before ImGui::Render(), because ImGui
// 1.86 asserts when a window is begun after a modal popup in the same frame: imgui#4920. The
// autosave itself is app/session/recovery.cpp.
#include <imgui.h>

#include <string>

#include "panels.hpp"
#include "recovery.hpp"

namespace attnviz::app {

void RecoveryFrame(AppState& s) {
    if (!s.recovery) return;
    auto& rec = *s.recovery;
    RecoveryAutosave(s);
    if (!rec.offer) return;
    const char* title = "Restore previous session?";
    if (!rec.popup_opened) {
        ImGui::OpenPopup(title);
        rec.popup_opened = true;
    }
    const ImVec2 centre(ImGui::GetIO().DisplaySize.x * 0.5f, ImGui::GetIO().DisplaySize.y * 0.5f);
    ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (ImGui::BeginPopupModal(title, nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
        const std::size_t crashed = rec.crashed_count();
        ImGui::TextUnformatted(crashed > 1 ? "attnviz did not close normally: these sessions were saved automatically."
                                           : "attnviz did not close normally last time.");
        if (crashed == 1) ImGui::TextUnformatted("Your last scene was saved automatically.");
        ImGui::Spacing();
        int restore = -1, decline = -1;
        for (std::size_t i = 0; i < rec.found.size(); ++i) {
            if (rec.found[i].discarded) continue;
            ImGui::PushID(static_cast<int>(i));
            ImGui::TextUnformatted(RecoveryLabel(s, i).c_str());
            if (ImGui::Button("Restore")) restore = static_cast<int>(i);
            MarkItem(s, "recovery.restore." + std::to_string(i));
            ImGui::SameLine();
            if (ImGui::Button("Discard")) decline = static_cast<int>(i);
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("Kept as the discarded copy (File > Recover) until you save a scene");
            ImGui::PopID();
        }
        ImGui::Spacing();
        const bool later = ImGui::Button("Not now");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Keep them: offered again at the next start, and in File > Recover");
        if (restore >= 0) RecoveryRestore(s, static_cast<std::size_t>(restore));  // closes the offer
        else if (decline >= 0) RecoveryDecline(s, static_cast<std::size_t>(decline));
        if (later || rec.crashed_count() == 0) rec.offer = false;
        if (!rec.offer) {
            rec.saved_revision = s.revision - 1;  // save the current scene from now on
            ImGui::CloseCurrentPopup();
        }
        ImGui::EndPopup();
    }
}

void RecoveryMenu(AppState& s) {
    if (!s.recovery || s.recovery->found.empty()) return;
    if (!ImGui::BeginMenu("Recover")) return;
    int chosen = -1;
    for (std::size_t i = 0; i < s.recovery->found.size(); ++i)
        if (ImGui::MenuItem(RecoveryLabel(s, i).c_str())) chosen = static_cast<int>(i);
    ImGui::EndMenu();
    if (chosen >= 0) {
        const std::size_t i = static_cast<std::size_t>(chosen);
        s.request_switch("recover " + RecoveryLabel(s, i), [&s, i] { RecoveryRestore(s, i); });
    }
}

}  // namespace attnviz::app
