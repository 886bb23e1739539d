// Test helper: the real panels in ImGui frames without a renderer (a context, a display size, a
// built font atlas; GL marked unavailable, so heatmaps draw no texture).
#pragma once

#include <imgui.h>

#include <array>

#include "app_state.hpp"
#include "gl.hpp"
#include "panels.hpp"

namespace attnviz::test {

struct HeadlessImGui {
    HeadlessImGui() {
        gl::mark_available(false);
        ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.DisplaySize = ImVec2(1280, 720);
        io.DeltaTime = 1.0f / 60.0f;
        io.IniFilename = nullptr;
        unsigned char* px = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&px, &w, &h);
    }
    ~HeadlessImGui() { ImGui::DestroyContext(); }
    void frame(app::AppState& s) {
        ImGui::NewFrame();
        app::DrawAllPanels(s);
        ImGui::Render();
    }
    // The centre of cell (r, c) of an n_rows × n_cols plot whose rectangle is `rect`.
    static ImVec2 cell_centre(const std::array<float, 4>& rect, int r, int c, int n_rows, int n_cols) {
        return ImVec2(rect[0] + (static_cast<float>(c) + 0.5f) * (rect[2] - rect[0]) / static_cast<float>(n_cols),
                      rect[1] + (static_cast<float>(r) + 0.5f) * (rect[3] - rect[1]) / static_cast<float>(n_rows));
    }
    static ImVec2 centre(const std::array<float, 4>& rect) { return ImVec2((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2); }
    void click(app::AppState& s, ImVec2 p) {
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = p;
        frame(s);
        io.MouseDown[0] = true;
        frame(s);
        io.MouseDown[0] = false;
        frame(s);
    }
};

}  // namespace attnviz::test
