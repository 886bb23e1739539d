// attnviz app — open and save scenes: a path field, the recent files, the lecture scenes that come
// with attnviz. Errors go to the status line and the current scene stays.
#include <algorithm>
#include <filesystem>

#include <imgui.h>
#include <imgui_stdlib.h>

#include "panels.hpp"
#include "window.hpp"

namespace attnviz::app {

void DrawFilesPanel(AppState& s) {
    SetNextPanelLayout(kFilesWindow);
    if (!ImGui::Begin(kFilesWindow, &s.show_files)) {
        ImGui::End();
        return;
    }
    if (s.path_input.empty()) s.path_input = s.scene_path;
    ImGui::SetNextItemWidth(-1);
    const bool enter = ImGui::InputTextWithHint("##path", "path/to/scene.json", &s.path_input, ImGuiInputTextFlags_EnterReturnsTrue);
    if (ImGui::Button("Open") || enter) s.open_file(s.path_input);
    ImGui::SameLine();
    if (ImGui::Button("Save")) s.save_file(s.scene_path.empty() ? s.path_input : s.scene_path);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save to %s", s.scene_path.empty() ? s.path_input.c_str() : s.scene_path.c_str());
    ImGui::SameLine();
    if (ImGui::Button("Save as")) s.save_file(s.path_input);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save to the path in the field");

    if (!s.recent.empty() && ImGui::TreeNodeEx("Recent", ImGuiTreeNodeFlags_DefaultOpen)) {
        std::string open;
        for (const auto& r : s.recent) {
            if (ImGui::Selectable(std::filesystem::path(r).filename().string().c_str(), r == s.scene_path)) open = r;
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", r.c_str());
        }
        ImGui::TreePop();
        if (!open.empty()) {
            s.path_input = open;
            s.open_file(open);
        }
    }
    if (ImGui::TreeNode("Lecture scenes")) {
        namespace fs = std::filesystem;
        std::error_code ec;
        std::vector<std::string> files;
        for (const auto& e : fs::directory_iterator(asset_path("assets/scenes"), ec))
            if (e.path().extension() == ".json") files.push_back(e.path().string());
        std::sort(files.begin(), files.end());
        std::string open;
        for (const auto& f : files)
            if (ImGui::Selectable(fs::path(f).filename().string().c_str(), f == s.scene_path)) open = f;
        ImGui::TreePop();
        if (!open.empty()) {
            s.path_input = open;
            s.open_file(open);
        }
    }
    ImGui::End();
}

}  // namespace attnviz::app
