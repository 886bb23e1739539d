#include "recovery.hpp"

#include <imgui.h>

#include <cstdio>
#include <memory>

#include "autosave.hpp"

namespace attnviz::app {

struct Recovery {
    std::unique_ptr<Autosave> autosave;
    Autosave::Previous previous;
    std::uint64_t saved_revision = 0;  // the revision last handed to autosave
    bool offer = false;                // the popup is (to be) shown
    bool popup_opened = false;
};

namespace {
std::string summary(const Scene& sc) {
    std::string t;
    for (const auto& tok : sc.input.tokens) {
        if (t.size() > 200) { t += " …"; break; }
        t += (t.empty() ? "" : " ") + tok.text;
    }
    return std::to_string(sc.n()) + " tokens: " + t;
}
}  // namespace

void RecoveryInit(AppState& s, const ReliabilityOptions& opt) {
    auto rec = std::make_shared<Recovery>();
    s.recovery = rec;
    rec->saved_revision = s.revision;  // the scene just loaded is not a change worth saving
    if (opt.autosave) {
        Autosave::Options ao;
        ao.dir = opt.state_dir.empty() ? default_state_dir() : opt.state_dir;
        rec->autosave = std::make_unique<Autosave>(ao);
        try {
            rec->previous = rec->autosave->start();
        } catch (const SceneError& e) {
            std::fprintf(stderr, "attnviz: autosave is off: %s\n", e.what());
            s.set_error(std::string("autosave is off: ") + e.what());
            rec->autosave.reset();
        }
    }
    if (rec->autosave && rec->previous.crashed && rec->previous.has_state) {
        std::printf("attnviz: the last session did not end normally; its scene was autosaved to %s\n",
                    rec->autosave->state_path().c_str());
        if (opt.restore) RecoveryRestore(s);
        else rec->offer = true;
        std::fflush(stdout);
    }
    if (!opt.test_edit.empty()) s.edit([&](Scene& x) { set_text(x, opt.test_edit); });
}

bool RecoveryRestore(AppState& s) {
    auto& rec = *s.recovery;
    if (!rec.autosave) return false;
    Scene restored;
    try {
        restored = rec.autosave->load_state();
    } catch (const SceneError& e) {
        s.set_error(std::string("could not restore the autosaved scene: ") + e.what());
        std::fprintf(stderr, "attnviz: could not restore the autosaved scene: %s\n", e.what());
        return false;
    }
    const std::string text = summary(restored);
    s.edit([&](Scene& x) { x = std::move(restored); });
    s.scene_path = rec.previous.scene_path;
    s.set_info("restored the autosaved scene");
    std::printf("attnviz: restored the autosaved scene (%s)\n", text.c_str());
    std::fflush(stdout);
    rec.offer = false;
    return true;
}

void RecoveryFrame(AppState& s) {
    if (!s.recovery) return;
    auto& rec = *s.recovery;
    // While the user decides, keep the crashed session's file as it is.
    if (rec.autosave && !rec.offer && s.revision != rec.saved_revision) {
        rec.autosave->schedule(s.scene, s.scene_path);
        rec.saved_revision = s.revision;
    }
    if (!rec.offer) return;
    const char* title = "Restore previous session?";
    if (!rec.popup_opened) {
        ImGui::OpenPopup(title);
        rec.popup_opened = true;
    }
    const ImVec2 centre(ImGui::GetIO().DisplaySize.x * 0.5f, ImGui::GetIO().DisplaySize.y * 0.5f);
    ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (ImGui::BeginPopupModal(title, nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
        ImGui::TextUnformatted("attnviz did not close normally last time.");
        ImGui::TextUnformatted("Your last scene was saved automatically.");
        if (!rec.previous.scene_path.empty()) ImGui::Text("It came from %s", rec.previous.scene_path.c_str());
        ImGui::Spacing();
        if (ImGui::Button("Restore")) {
            RecoveryRestore(s);
            rec.offer = false;
            ImGui::CloseCurrentPopup();
        }
        ImGui::SameLine();
        if (ImGui::Button("Start fresh")) {
            rec.offer = false;
            rec.saved_revision = s.revision - 1;  // save the current scene from now on
            ImGui::CloseCurrentPopup();
        }
        ImGui::EndPopup();
    }
}

void RecoveryShutdown(AppState& s) {
    if (!s.recovery) return;
    auto& rec = *s.recovery;
    if (rec.autosave) {
        if (!rec.offer && s.revision != rec.saved_revision) rec.autosave->schedule(s.scene, s.scene_path);
        rec.autosave->finish_clean();
        rec.autosave.reset();
    }
}

void HandleUndoKeys(AppState& s) {
    const ImGuiIO& io = ImGui::GetIO();
    // In a text field, Ctrl+Z belongs to the field's own undo.
    if (!io.KeyCtrl || io.WantTextInput) return;
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Z), false)) {
        if (io.KeyShift) s.redo();
        else s.undo();
    }
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Y), false)) s.redo();
}

}  // namespace attnviz::app
