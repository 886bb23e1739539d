// The presentation view (F5) and Help (F1) in ImGui frames without a renderer: sizes follow the
// window and the UI scale, side-by-side pages fill the slide, scene 6b shows all its heads, the
// masks scenes mark their own mask, the math never runs below the slide; Help lists every key the
// code handles.
#include <doctest/doctest.h>

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>  // GLFW_KEY_F1 (the GLFW backend indexes KeysDown by GLFW key)
#include <imgui.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "app_state.hpp"
#include "help.hpp"
#include "panels_lecture.hpp"
#include "scene_io.hpp"
#include "ui_helpers.hpp"

using namespace attnviz;
using namespace attnviz::app;
using attnviz::test::HeadlessImGui;

namespace {
using Rect = std::array<float, 4>;
float width(const Rect& r) { return r[2] - r[0]; }
float height(const Rect& r) { return r[3] - r[1]; }

// The presentation of lecture scene `file` at a display size and UI scale, after 2 frames (in the
// test's one HeadlessImGui context).
struct Slide {
    AppState s;
    Slide(const std::string& file, ImVec2 display, float ui_scale = 1.0f, int step = 1) {
        ImGui::GetIO().DisplaySize = display;
        s.set_scene(load_scene(std::string(ATTNVIZ_SCENES) + "/" + file), std::string(ATTNVIZ_SCENES) + "/" + file);
        FindLectureScenes(s);
        s.lecture.presentation = true;
        s.lecture.ui_scale = ui_scale;
        ApplyViewPresets(s);
        SetMathStep(s, step);
        draw();
        draw();
    }
    void draw() {
        ImGui::NewFrame();
        DrawPresentation(s);
        ImGui::Render();
    }
    const Rect& rect(const std::string& name) {
        REQUIRE(s.ui_rects.count(name) == 1);
        return s.ui_rects.at(name);
    }
};
}  // namespace

TEST_CASE("presentation: title, text and heatmaps grow with the window and with the UI scale") {
    HeadlessImGui ui;
    Slide base("01_adjectives_update_nouns.json", ImVec2(1600, 900));
    Slide big("01_adjectives_update_nouns.json", ImVec2(3200, 1800));
    Slide scaled("01_adjectives_update_nouns.json", ImVec2(1600, 900), 2.0f);
    const float t = height(base.rect("presentation.title"));
    CHECK(t >= 40.0f);  // one line of a 40 px title at 1600×900
    CHECK(height(big.rect("presentation.title")) == doctest::Approx(2 * t).epsilon(0.02));
    CHECK(height(scaled.rect("presentation.title")) >= 2 * t * 0.99f);  // two lines when it no longer fits on one
    // the text size of the explanation (before any fitting) and the heatmap double with the window
    CHECK(big.rect("presentation.fit")[0] > 1.6f * base.rect("presentation.fit")[0]);
    CHECK(width(big.rect("presentation.panel0")) == doctest::Approx(2 * width(base.rect("presentation.panel0"))).epsilon(0.05));
    CHECK(scaled.rect("presentation.fit")[0] > base.rect("presentation.fit")[0]);
}

TEST_CASE("presentation: scene 6b shows all 8 heads, and side-by-side pages fill the slide") {
    HeadlessImGui ui;
    Slide h8("06b_original_paper_h8.json", ImVec2(1600, 900));
    const Rect body = h8.rect("presentation.body");
    float lowest = 0;
    for (int k = 0; k < 8; ++k) {
        const Rect& r = h8.rect("presentation.panel" + std::to_string(k));
        CHECK(width(r) >= 100.0f);
        lowest = std::max(lowest, r[3]);
    }
    CHECK(h8.s.ui_rects.count("presentation.panel8") == 0);
    CHECK(lowest >= body[1] + 0.75f * height(body));  // the grid reaches down the slide
    CHECK(lowest <= body[3]);
    // scene 6 (3 heads side by side): cells much larger than the 11-13 px of before
    Slide h3("06_multi_head.json", ImVec2(1600, 900));
    const Rect& p0 = h3.rect("presentation.panel0");
    const int n = h3.s.scene.n();
    CHECK(width(p0) / static_cast<float>(n) >= 24.0f);
}

TEST_CASE("presentation: scenes 8a, 8b and 8c each mark their own mask among the masks") {
    HeadlessImGui ui;
    const char* files[] = {"08a_sparse_sliding_window.json", "08b_sparse_strided.json", "08c_sparse_fixed.json"};
    for (int k = 0; k < 3; ++k) {
        CAPTURE(files[k]);
        Slide sl(files[k], ImVec2(1600, 900));
        CHECK(sl.rect("presentation.marked") == sl.rect("presentation.panel" + std::to_string(k)));
        CHECK(sl.s.ui_rects.count("presentation.panel4") == 1);  // all five masks of the scene's list
    }
}

TEST_CASE("presentation: the math of every step of every lecture scene stays on the slide") {
    HeadlessImGui ui;
    int scenes = 0;
    for (const auto& e : std::filesystem::directory_iterator(ATTNVIZ_SCENES)) {
        if (e.path().extension() != ".json") continue;
        // A scene that names a GPT-2 folder ("model": scene 10) opens that model's views, not slides.
        if (!load_scene(e.path().string()).model.empty()) continue;
        ++scenes;
        for (float scale : {1.0f, 2.0f})
            for (int step = 1; step <= 8; ++step) {
                CAPTURE(e.path().filename().string());
                CAPTURE(scale);
                CAPTURE(step);
                Slide sl(e.path().filename().string(), ImVec2(1600, 900), scale, step);
                CHECK(sl.rect("presentation.text")[3] <= sl.rect("presentation.body")[3] + 0.5f);
            }
    }
    CHECK(scenes >= 9);  // the hand-made lecture scenes (1–9) were all checked
}

TEST_CASE("help: F1 opens and closes it; it lists every key the window and the presentation handle") {
    // Every key named in app/ui's key handling, and the words Help uses for it.
    const std::map<std::string, std::string> shown = {
        {"GLFW_KEY_F1", "F1"}, {"GLFW_KEY_F5", "F5"}, {"GLFW_KEY_Z", "Ctrl+Z"}, {"GLFW_KEY_Y", "Ctrl+Y"},
        {"GLFW_KEY_Q", "Ctrl+Q"}, {"GLFW_KEY_S", "Ctrl+S"}, {"GLFW_KEY_L", "Ctrl+Shift+L"}, {"GLFW_KEY_N", "Ctrl+N"}, {"GLFW_KEY_O", "Ctrl+O"}, {"GLFW_KEY_H", "H"}, {"GLFW_KEY_T", "T"},
        {"GLFW_KEY_C", "C"}, {"GLFW_KEY_P", "P"}, {"GLFW_KEY_1", "1 … 9"}, {"GLFW_KEY_EQUAL", "+"},
        {"GLFW_KEY_KP_ADD", "+"}, {"GLFW_KEY_MINUS", "−"}, {"GLFW_KEY_KP_SUBTRACT", "−"},
        {"ImGuiKey_RightArrow", "→"}, {"ImGuiKey_LeftArrow", "←"}, {"ImGuiKey_UpArrow", "↑"},
        {"ImGuiKey_DownArrow", "↓"}, {"ImGuiKey_PageDown", "PgDn"}, {"ImGuiKey_PageUp", "PgUp"},
        {"ImGuiKey_Space", "Space"}, {"ImGuiKey_Escape", "Esc"}};
    std::string all_keys;
    for (const HelpEntry& e : help_entries()) all_keys += std::string(e.keys) + " | ";
    const std::regex key_re(R"((GLFW_KEY_[A-Z0-9_]+|ImGuiKey_[A-Za-z]+))");
    std::set<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(std::string(ATTNVIZ_SOURCE_DIR) + "/app/ui")) {
        if (e.path().extension() != ".cpp" || e.path().filename() == "heatmap.cpp") continue;  // heatmap: mouse only
        std::ifstream in(e.path());
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        for (auto it = std::sregex_iterator(text.begin(), text.end(), key_re); it != std::sregex_iterator(); ++it) found.insert((*it)[1]);
    }
    CHECK(found.count("GLFW_KEY_F1") == 1);
    CHECK(found.count("ImGuiKey_PageDown") == 1);
    for (const std::string& k : found) {
        CAPTURE(k);
        REQUIRE_MESSAGE(shown.count(k) == 1, "a key the code handles has no entry in Help (app/ui/help.cpp)");
        CHECK(all_keys.find(shown.at(k)) != std::string::npos);
    }
    // mouse gestures of the heatmaps
    for (const char* g : {"mouse wheel", "right or middle drag", "double-click", "hover"}) CHECK(all_keys.find(g) != std::string::npos);
    // F1 toggles the window
    HeadlessImGui ui;
    AppState s;
    s.set_scene(load_scene(std::string(ATTNVIZ_SCENES) + "/01_adjectives_update_nouns.json"), "");
    auto frame = [&](bool f1) {
        ImGui::GetIO().KeysDown[GLFW_KEY_F1] = f1;
        ImGui::NewFrame();
        HandleHelpKey(s);
        DrawAllPanels(s);
        DrawHelpWindow(s);
        ImGui::Render();
    };
    frame(false);
    CHECK(!s.show_help);
    frame(true);
    frame(false);
    CHECK(s.show_help);
    frame(true);
    frame(false);
    CHECK(!s.show_help);
}
