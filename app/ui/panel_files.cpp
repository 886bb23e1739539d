// attnviz app — open and save scenes: a path field, the recent files, the lecture scenes that come
// with attnviz. Errors go to the status line and the current scene stays.
#include <algorithm>
#include <filesystem>

#include <imgui.h>
#include <imgui_stdlib.h>

#include "panels.hpp"
#include "panels_lecture.hpp"
#include "paths.hpp"

namespace attnviz::app {

void DrawFilesPanel(AppState& s) {
    SetNextPanelLayout(kFilesWindow);
    if (!ImGui::Begin(kFilesWindow, &s.show_files)) {
        ImGui::End();
        return;
    }
    // The field shows the document's path: it follows every open and save, and goes back to the
    // document's path after a failed one (the error stays on the status line).
    if (s.path_input_for != s.scene_path) {
        s.path_input = s.scene_path;
        s.path_input_for = s.scene_path;
    }
    ImGui::SetNextItemWidth(-1);
    const bool enter = ImGui::InputTextWithHint("##path", "path/to/scene.json", &s.path_input, ImGuiInputTextFlags_EnterReturnsTrue);
    MarkItem(s, "files.path");
    // Every open asks first when the document has unsaved changes (AppState::request_switch).
    if (ImGui::Button("Open") || enter) {
        s.request_open(s.path_input);
        s.path_input = s.scene_path;  // opened: follows the new path next frame; failed: the document's own
    }
    MarkItem(s, "files.open");
    ImGui::SameLine();
    if (ImGui::Button("Browse\xE2\x80\xA6")) OpenFileBrowser(s, false);
    MarkItem(s, "files.browse");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Choose a scene file in a folder (Ctrl+O)");
    ImGui::SameLine();
    const bool read_only = is_bundled_path(s.scene_path);
    if (ImGui::Button("Save")) {
        // An untitled document goes through Save as, at the typed path: the browser adds .json and
        // asks before replacing a file (the typed path may be a recent file's, left after a Cancel).
        if (s.scene_path.empty()) OpenFileBrowser(s, true, s.path_input);
        else s.save_current();
    }
    MarkItem(s, "files.save");
    if (ImGui::IsItemHovered()) {
        if (read_only) ImGui::SetTooltip("Lecture scenes are read-only: save a copy in %s", documents_dir().c_str());
        else if (s.scene_path.empty()) ImGui::SetTooltip("Untitled: choose a folder and a file name");
        else ImGui::SetTooltip("Save to %s", s.scene_path.c_str());
    }
    ImGui::SameLine();
    if (ImGui::Button("Save as\xE2\x80\xA6")) OpenFileBrowser(s, true);
    MarkItem(s, "files.save_as");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Choose a folder and a file name");

    if (!s.recent.empty() && ImGui::TreeNodeEx("Recent", ImGuiTreeNodeFlags_DefaultOpen)) {
        std::string open;
        for (const auto& r : s.recent) {
            if (ImGui::Selectable(std::filesystem::path(r).filename().string().c_str(), r == s.scene_path)) open = r;
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", r.c_str());
        }
        ImGui::TreePop();
        if (!open.empty()) {
            s.path_input = open;
            s.request_open(open);
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
            s.request_switch("open " + fs::path(open).filename().string(), [&s, open] {
                if (s.open_file(open)) FindLectureScenes(s);  // marks it as the deck's current page
            });
        }
    }
    ImGui::End();
}

}  // namespace attnviz::app
