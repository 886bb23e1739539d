// attnviz app — the window: GLFW + OpenGL 3.3 + Dear ImGui 1.86.
#include <epoxy/gl.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb_image_write.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <vector>

#include "app_state.hpp"     // [plots hook] [lecture hook]
#include "engine.hpp"
#include "panels_lecture.hpp"  // [lecture hook]
#include "panels_plots.hpp"  // [plots hook]
#include "scene_io.hpp"
#include "window.hpp"

#ifndef ATTNVIZ_SOURCE_DIR
#define ATTNVIZ_SOURCE_DIR "."
#endif

namespace attnviz::app {

std::string asset_path(const std::string& relative) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path p = exe.parent_path() / relative;
        if (fs::exists(p)) return p.string();
    }
    return (fs::path(ATTNVIZ_SOURCE_DIR) / relative).string();
}

std::string default_scene_path() { return asset_path("assets/scenes/01_adjectives_update_nouns.json"); }

namespace {

void glfw_error(int code, const char* what) { std::fprintf(stderr, "attnviz: GLFW error %d: %s\n", code, what); }

bool save_png(const std::string& path, int w, int h) {
    std::vector<unsigned char> px(static_cast<std::size_t>(w) * h * 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
    std::vector<unsigned char> flipped(px.size());
    const std::size_t stride = static_cast<std::size_t>(w) * 4;
    for (int y = 0; y < h; ++y)
        std::copy_n(px.data() + static_cast<std::size_t>(h - 1 - y) * stride, stride, flipped.data() + static_cast<std::size_t>(y) * stride);
    return stbi_write_png(path.c_str(), w, h, 4, flipped.data(), static_cast<int>(stride)) != 0;
}

}  // namespace

int run_window(const WindowOptions& opt) {
    const std::string scene_path = opt.scene_path.empty() ? default_scene_path() : opt.scene_path;
    Scene scene;
    try {
        scene = load_scene(scene_path);
    } catch (const SceneError& e) {
        std::cerr << "attnviz: " << scene_path << ": " << e.what() << "\n";
        return 2;
    }
    // [lecture hook] begin: the app state the lecture panels work on
    AppState app;
    app.scene = scene;
    app.scene_path = scene_path;
    app.recompute();
    FindLectureScenes(app);
    app.lecture.presentation = opt.presentation;
    ApplyViewPresets(app);
    // [lecture hook] end
    AppState plots_app;  // [plots hook] the plot/editor panels' state until the final window owns one
    plots_app.scene = scene;
    plots_app.recompute();

    glfwSetErrorCallback(glfw_error);
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) {
        std::cerr << "attnviz: no display (DISPLAY is not set). Run it on a desktop, or under a virtual one:\n"
                     "  xvfb-run -a -s '-screen 0 1600x900x24' attnviz ...\n";
        return 1;
    }
    if (!glfwInit()) {
        std::cerr << "attnviz: could not start GLFW (is an X display reachable?)\n";
        return 1;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    GLFWwindow* window = glfwCreateWindow(opt.width, opt.height, "attnviz", nullptr, nullptr);
    if (!window) {
        std::cerr << "attnviz: could not open an OpenGL 3.3 window\n";
        glfwTerminate();
        return 1;
    }
    glfwMakeContextCurrent(window);
    glfwSwapInterval(opt.frames > 0 ? 0 : 1);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    const std::string font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    if (std::filesystem::exists(font)) io.Fonts->AddFontFromFileTTF(font.c_str(), 18.0f);
    InitLectureFonts(app, 18.0f);  // [lecture hook] math glyphs + projector fonts
    ImGui::StyleColorsDark();
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    ImGui_ImplOpenGL3_Init("#version 330 core");

    int frame = 0;
    while (!glfwWindowShouldClose(window)) {
        glfwPollEvents();
        ImGui_ImplOpenGL3_NewFrame();
        ImGui_ImplGlfw_NewFrame();
        ImGui::NewFrame();
        const Scene& scene = app.scene;  // [lecture hook] the scene may change (presentation view)
        const Forward& fwd = app.fwd;
        HandleLectureKeys(app);          // [lecture hook] F5, ←/→ steps
        if (app.lecture.presentation) {  // [lecture hook]
            DrawPresentation(app);
        } else {

        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(io.DisplaySize);
        ImGui::Begin("attnviz", nullptr, ImGuiWindowFlags_NoDecoration);
        ImGui::Text("%s", scene.title.c_str());
        ImGui::TextWrapped("%s", scene.description.c_str());
        ImGui::Text("%d tokens, d_model %d, %d heads of %d", scene.n(), scene.d_model, scene.n_heads, scene.d_head);
        ImDrawList* dl = ImGui::GetWindowDrawList();
        const HeadResult& h = fwd.heads[0];
        const ImVec2 origin = ImGui::GetCursorScreenPos();
        const float cell = 32.0f;
        for (Eigen::Index i = 0; i < h.pattern.rows(); ++i)
            for (Eigen::Index j = 0; j < h.pattern.cols(); ++j) {
                const float v = h.pattern(i, j);
                const ImVec2 a(origin.x + 120 + j * cell, origin.y + i * cell);
                dl->AddRectFilled(a, ImVec2(a.x + cell - 1, a.y + cell - 1),
                                  ImGui::ColorConvertFloat4ToU32(ImVec4(v, v * 0.8f, 0.2f + 0.5f * (1 - v), 1)));
            }
        for (int i = 0; i < scene.n(); ++i)
            dl->AddText(ImVec2(origin.x, origin.y + i * cell + 6), IM_COL32_WHITE, scene.input.tokens[static_cast<std::size_t>(i)].text.c_str());
        ImGui::End();
        DrawMathPanel(app);  // [lecture hook]

        {  // [plots hook] the plot/editor panels (branch plots); the lead moves these into the final window
            const float W = io.DisplaySize.x, H = io.DisplaySize.y, x0 = W * 0.3f, w = (W - x0) * 0.5f, h = H * 0.6f;
            const struct { const char* title; void (*draw)(AppState&); float x, y, h; } panels[] = {
                {"Embedding shift", DrawShiftPanel, x0, 0, h}, {"Query-key plot", DrawQKPanel, x0 + w, 0, h},
                {"Weights", DrawWeightsPanel, x0, h, H - h}, {"Q/K/V inspector", DrawInspectorPanel, x0 + w, h, H - h}};
            for (const auto& p : panels) {
                ImGui::SetNextWindowPos(ImVec2(p.x, p.y), ImGuiCond_FirstUseEver);
                ImGui::SetNextWindowSize(ImVec2(w, p.h), ImGuiCond_FirstUseEver);
                if (ImGui::Begin(p.title)) p.draw(plots_app);
                ImGui::End();
            }
        }
        }  // [lecture hook] end of the normal (not presentation) view

        ImGui::Render();
        int w = 0, hgt = 0;
        glfwGetFramebufferSize(window, &w, &hgt);
        glViewport(0, 0, w, hgt);
        glClearColor(0.1f, 0.1f, 0.12f, 1.0f);
        glClear(GL_COLOR_BUFFER_BIT);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        ++frame;
        if (opt.frames > 0 && frame >= opt.frames) {
            if (!opt.screenshot.empty() && !save_png(opt.screenshot, w, hgt))
                std::cerr << "attnviz: could not write " << opt.screenshot << "\n";
            glfwSwapBuffers(window);
            break;
        }
        glfwSwapBuffers(window);
    }

    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    glfwTerminate();
    return 0;
}

}  // namespace attnviz::app
