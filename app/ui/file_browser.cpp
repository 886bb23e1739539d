// attnviz app — the Open / Save as browser: a modal drawn with ImGui over the session's
// FileBrowser (std::filesystem): places on the left (home, documents, lecture scenes, recent
// folders), the folder's sub-folders and scene files on the right, a path field below (typing a
// path, absolute or relative to the folder shown, still works). Odd names are shown with U+FFFD;
// a folder that cannot be read says why.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "file_browser.hpp"
#include "model_doc.hpp"
#include "panels.hpp"
#include "tokenizer.hpp"  // sanitize_utf8

namespace attnviz::app {
namespace fs = std::filesystem;

namespace {
constexpr const char* kBrowserPopup = "Scene file##browser";

void enter(AppState& s, const fs::path& dir) {
    browser_list(s.browser, dir);
    // the names shown need glyphs (CJK file names): the font atlas covers s.glyph_text
    s.glyph_text.clear();
    for (const auto& e : s.browser.entries) s.glyph_text += e.name + "\n";
}

// Opens or saves `target`; true when done (the browser closes).
bool act(AppState& s, fs::path target) {
    FileBrowser& b = s.browser;
    std::error_code ec;
    if (b.mode == FileBrowser::Mode::Model) {  // a GPT-2 folder: the one listed, or the one typed/picked
        if (target.empty()) target = b.dir;
        if (!fs::is_directory(target, ec)) target = target.parent_path();  // a file of the folder (config.json)
        if (!fs::equivalent(target, b.dir, ec) && !fs::exists(target / "config.json", ec)) {  // a folder without a model: go there
            enter(s, target);
            b.file_name.clear();
            return false;
        }
        return s.request_open_model(target.string());  // asks about unsaved changes first; errors on the status line
    }
    if (target.empty()) {
        s.set_error(b.mode == FileBrowser::Mode::Open ? "open: choose a scene file" : "save as: type a file name");
        return false;
    }
    if (fs::is_directory(target, ec)) {  // a folder typed or chosen: go there
        enter(s, target);
        b.file_name.clear();
        return false;
    }
    if (b.mode == FileBrowser::Mode::Open) return s.request_open(target.string());  // asks about unsaved changes first
    if (target.extension() != ".json") target += ".json";
    if (fs::exists(target, ec) && !b.confirm_replace) {  // never replace a file without asking
        b.confirm_replace = true;
        b.replace_target = target;
        return false;
    }
    b.confirm_replace = false;
    return s.save_file(target.string());
}
}  // namespace

void OpenFileBrowser(AppState& s, bool save_as, const std::string& suggested) {
    FileBrowser& b = s.browser;
    b.open = true;
    b.mode = save_as ? FileBrowser::Mode::SaveAs : FileBrowser::Mode::Open;
    b.confirm_replace = false;
    std::error_code ec;
    const fs::path from = save_as && !suggested.empty() ? fs::path(suggested) : fs::path(s.scene_path);
    fs::path start = from.empty() ? fs::current_path(ec) : from.parent_path();
    if (start.empty() || !fs::is_directory(start, ec)) start = fs::current_path(ec);
    enter(s, start);
    b.file_name = save_as && !from.empty() ? display_name(from) : std::string();
}

void OpenModelBrowser(AppState& s) {
    FileBrowser& b = s.browser;
    b.open = true;
    b.mode = FileBrowser::Mode::Model;
    b.confirm_replace = false;
    std::error_code ec;
    fs::path start = s.model ? fs::path(s.model->folder).parent_path() : fs::current_path(ec);
    if (start.empty() || !fs::is_directory(start, ec)) start = fs::current_path(ec);
    enter(s, start);
    b.file_name.clear();
    b.picked.clear();
}

void DrawFileBrowser(AppState& s) {
    FileBrowser& b = s.browser;
    if (!b.open) return;
    if (!ImGui::IsPopupOpen(kBrowserPopup)) ImGui::OpenPopup(kBrowserPopup);
    const ImVec2 display = ImGui::GetIO().DisplaySize;
    ImGui::SetNextWindowSize(ImVec2(std::min(display.x * 0.9f, ImGui::GetFontSize() * 46), std::min(display.y * 0.85f, ImGui::GetFontSize() * 30)),
                             ImGuiCond_Appearing);
    ImGui::SetNextWindowPos(ImVec2(display.x * 0.5f, display.y * 0.5f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    bool keep = true;
    if (!ImGui::BeginPopupModal(kBrowserPopup, &keep, ImGuiWindowFlags_NoSavedSettings)) {
        b.open = false;
        s.glyph_text.clear();
        return;
    }
    const bool model_mode = b.mode == FileBrowser::Mode::Model;
    ImGui::TextUnformatted(model_mode ? "Open a GPT-2 model folder" : b.mode == FileBrowser::Mode::Open ? "Open a scene" : "Save the scene as");
    ImGui::SameLine();
    ImGui::TextDisabled("%s", display_name(b.dir).c_str());
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", sanitize_utf8(b.dir.native()).c_str());
    ImGui::SameLine();
    const bool up = ImGui::SmallButton("Up");
    MarkItem(s, "browser.up");
    if (up && b.dir.has_parent_path() && b.dir.parent_path() != b.dir) enter(s, b.dir.parent_path());

    const float footer = ImGui::GetFrameHeightWithSpacing() * 2.2f;
    // -- places --
    ImGui::BeginChild("places", ImVec2(ImGui::GetFontSize() * 11, -footer), true);
    const auto places = browser_places(s.recent);
    for (std::size_t k = 0; k < places.size(); ++k) {
        ImGui::PushID(static_cast<int>(k));
        if (ImGui::Selectable(places[k].label.c_str(), places[k].path == b.dir)) enter(s, places[k].path);
        MarkItem(s, "browser.place:" + places[k].label);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", sanitize_utf8(places[k].path.native()).c_str());
        ImGui::PopID();
    }
    ImGui::EndChild();
    ImGui::SameLine();
    // -- the folder --
    ImGui::BeginChild("entries", ImVec2(0, -footer), true);
    if (!b.error.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.45f, 0.4f, 1.0f));
        ImGui::TextWrapped("%s", b.error.c_str());
        ImGui::PopStyleColor();
    } else if (b.entries.empty()) {
        ImGui::TextDisabled("no folders or scene files (*.json) here");
    }
    fs::path go, pick;
    for (std::size_t k = 0; k < b.entries.size(); ++k) {
        const BrowserEntry& e = b.entries[k];
        ImGui::PushID(static_cast<int>(k));
        const std::string label = e.is_dir ? e.name + "/" : e.name;
        if (e.is_dir) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.55f, 0.75f, 1.0f, 1.0f));
        const bool clicked = ImGui::Selectable(label.c_str(), b.selected == static_cast<int>(k), ImGuiSelectableFlags_AllowDoubleClick);
        if (e.is_dir) ImGui::PopStyleColor();
        MarkItem(s, "browser.entry:" + e.name);
        if (clicked) {
            if (e.is_dir) {
                go = e.path;
            } else {
                b.selected = static_cast<int>(k);
                b.file_name = e.name;
                b.picked = e.path;  // the real bytes, whatever the name shows
                if (ImGui::IsMouseDoubleClicked(0)) pick = e.path;
            }
        }
        ImGui::PopID();
    }
    ImGui::EndChild();
    if (!go.empty()) enter(s, go);

    // -- the path field: a name in this folder, or any path --
    ImGui::SetNextItemWidth(-ImGui::GetFontSize() * 10);
    const bool typed_enter = ImGui::InputTextWithHint("##browser_path", "file name or path", &b.file_name, ImGuiInputTextFlags_EnterReturnsTrue);
    MarkItem(s, "browser.path");
    if (ImGui::IsItemEdited()) b.picked.clear();  // typed: the field is the truth
    ImGui::SameLine();
    const bool ok = ImGui::Button(model_mode ? "Open this folder" : b.mode == FileBrowser::Mode::Open ? "Open" : "Save");
    if (model_mode && ImGui::IsItemHovered())
        ImGui::SetTooltip("Open the folder shown (or the one typed) as a GPT-2 model: config.json, vocab.json, merges.txt, model.safetensors");
    MarkItem(s, "browser.ok");
    ImGui::SameLine();
    const bool cancel = ImGui::Button("Cancel");
    MarkItem(s, "browser.cancel");
    bool done = false;
    if (!pick.empty()) done = act(s, pick);
    else if (ok || typed_enter) done = act(s, !b.picked.empty() && b.file_name == display_name(b.picked) ? b.picked : browser_target(b, b.file_name));
    if (b.confirm_replace) {
        ImGui::TextColored(ImVec4(1.0f, 0.8f, 0.3f, 1.0f), "%s exists. Replace it?", display_name(b.replace_target).c_str());
        ImGui::SameLine();
        if (ImGui::Button("Replace")) done = act(s, b.replace_target);
        MarkItem(s, "browser.replace");
        ImGui::SameLine();
        if (ImGui::Button("Keep it")) b.confirm_replace = false;
    }
    if (done || cancel || !keep) {
        b.open = false;
        b.confirm_replace = false;
        s.glyph_text.clear();
        ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
}

}  // namespace attnviz::app
