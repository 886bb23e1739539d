// Test helper: the real panels in ImGui frames without a renderer (a context, a display size, a
// built font atlas; GL marked unavailable, so heatmaps draw no texture).
#pragma once

#include <imgui.h>

#include <array>

#include "app_state.hpp"
#include "engine.hpp"
#include "gl.hpp"
#include "helpers.hpp"
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

// The app's forward pass (and the unmasked one) equals a full recompute of its scene.
inline void check_forward_is_full_recompute(const app::AppState& s) {
    const Forward full = forward(s.scene);
    REQUIRE(s.fwd.heads.size() == full.heads.size());
    for (std::size_t h = 0; h < full.heads.size(); ++h) {
        CHECK_MAT(s.fwd.heads[h].pattern, full.heads[h].pattern, 1e-5f);
        CHECK_MAT(s.fwd.heads[h].delta, full.heads[h].delta, 1e-4f);
    }
    CHECK_MAT(s.fwd.output, full.output, 1e-4f);
    if (s.scene.mask.type != MaskType::None) {
        Scene u = s.scene;
        u.mask = Mask::none();
        const Forward fu = forward(u);
        for (std::size_t h = 0; h < fu.heads.size(); ++h)
            CHECK_MAT(s.fwd_unmasked.heads[h].pattern, fu.heads[h].pattern, 1e-5f);
    }
}

}  // namespace attnviz::test
