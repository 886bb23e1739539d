// attnviz app — the window: GLFW + OpenGL 3.3 + Dear ImGui 1.86. Glue only: open, poll →
// NewFrame → panels → Render → exports → swap. The off-screen renderer shares every step.
//
// [SECTION] Paths
// [SECTION] Shared set-up: GL context, fonts, style
// [SECTION] The window loop
// [SECTION] Off-screen rendering
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "app_state.hpp"
#include "fonts.hpp"
#include "gl.hpp"
#include "heatmap.hpp"
#include "help.hpp"
#include "long_view.hpp"
#include "dev_hooks.hpp"
#include "panels.hpp"
#include "panels_lecture.hpp"
#include "recovery.hpp"
#include "scene_io.hpp"
#include "window.hpp"

namespace attnviz::app {

// ---------------------------------------------------------------------------------------------
// [SECTION] Shared set-up
// ---------------------------------------------------------------------------------------------
namespace {

constexpr float kBaseFontPx = 17.0f;

void glfw_error(int code, const char* what) { std::fprintf(stderr, "attnviz: GLFW error %d: %s\n", code, what); }

bool has_display() { return std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY"); }

GLFWwindow* open_window(int width, int height, bool visible) {
    glfwSetErrorCallback(glfw_error);
    if (!has_display()) {
        std::cerr << "attnviz: no display (DISPLAY is not set). Run it on a desktop, or under a virtual one:\n"
                     "  xvfb-run -a -s '-screen 0 1600x900x24' attnviz ...\n";
        return nullptr;
    }
    if (!glfwInit()) {
        std::cerr << "attnviz: could not start GLFW (is an X display reachable?)\n";
        return nullptr;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    glfwWindowHint(GLFW_VISIBLE, visible ? GLFW_TRUE : GLFW_FALSE);
    GLFWwindow* window = glfwCreateWindow(width, height, "attnviz", nullptr, nullptr);
    if (!window) {
        std::cerr << "attnviz: could not open an OpenGL 3.3 window\n";
        glfwTerminate();
        return nullptr;
    }
    glfwMakeContextCurrent(window);
    gl::mark_available(true);
    return window;
}

// Fonts (app/ui/fonts.cpp: DejaVu Sans + Noto Sans CJK + Symbola, glyphs for the characters in
// use) and style, scaled for the monitor's DPI.
void setup_imgui(GLFWwindow* window, float content_scale, UiFonts& fonts, AppState& s) {
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    // the projector fonts are built at the largest size a slide needs (drawn smaller, never enlarged)
    FontsLoad(fonts, std::round(kBaseFontPx * content_scale), std::round(std::clamp(s.lecture.font_built_px, 16.0f, 112.0f)));
    FontsCollect(fonts, s);
    FontsBuild(fonts, s);
    ImGui::StyleColorsDark();
    ImGuiStyle& style = ImGui::GetStyle();
    style.WindowRounding = 4.0f;
    style.FrameRounding = 3.0f;
    style.ItemSpacing = ImVec2(8, 5);
    style.Colors[ImGuiCol_WindowBg].w = 1.0f;  // opaque panels: a panel over another never shows the text beneath
    style.ScaleAllSizes(content_scale);
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    ImGui_ImplOpenGL3_Init("#version 330 core");
}

void shutdown(GLFWwindow* window, AppState& s) {
    release_views(s);
    heatmap_release_shared();
    gl::release_shared();
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    gl::mark_available(false);
    glfwDestroyWindow(window);
    glfwTerminate();
}

bool load_into(AppState& s, const std::string& path) {
    try {
        s.set_scene(load_scene(path), path);
    } catch (const SceneError& e) {
        std::cerr << "attnviz: " << path << ": " << e.what() << "\n";
        return false;
    }
    return true;
}

// Writes the PNG exports the panels asked for, from the frame just drawn (before the swap).
void write_png_exports(AppState& s, int fb_w, int fb_h, ImVec2 scale) {
    for (const PngExport& e : s.png_exports) {
        const int x0 = std::clamp(static_cast<int>(std::floor(e.x0 * scale.x)), 0, fb_w);
        const int x1 = std::clamp(static_cast<int>(std::ceil(e.x1 * scale.x)), 0, fb_w);
        const int y0 = std::clamp(static_cast<int>(std::floor(e.y0 * scale.y)), 0, fb_h);
        const int y1 = std::clamp(static_cast<int>(std::ceil(e.y1 * scale.y)), 0, fb_h);
        if (x1 <= x0 || y1 <= y0) continue;
        const auto px = gl::read_pixels(x0, fb_h - y1, x1 - x0, y1 - y0);
        std::string error;
        if (gl::write_png(e.path, x1 - x0, y1 - y0, px, &error)) s.set_info("wrote " + e.path);
        else s.set_error(error);
    }
    s.png_exports.clear();
}

// Characters above U+FFFF (emoji) would reach ImGui 1.86 as U+FFFD: they wait in
// AppState::wide_chars.typed for the text field being edited (InputTextWide), and so do the
// characters typed after them, to keep the order. Everything else goes to ImGui's callback.
struct WindowContext {  // the GLFW window's user pointer
    AppState* state = nullptr;
    GLFWcharfun imgui_chars = nullptr;  // ImGui's GLFW backend's character callback (chained)
};

void char_callback(GLFWwindow* window, unsigned int c) {
    auto* ctx = static_cast<WindowContext*>(glfwGetWindowUserPointer(window));
    if (!ctx) return;
    WideChars& w = ctx->state->wide_chars;
    if (c > 0xFFFF || !w.typed.empty()) {
        if (w.typed.empty()) w.typed_age = 0;
        w.typed.push_back(static_cast<char32_t>(c));
        return;
    }
    if (ctx->imgui_chars) ctx->imgui_chars(window, c);
}

// At a frame boundary: typed characters no field took for two frames are dropped (none is
// being edited); the atlas is rebuilt when the scene or a text field uses a new character.
void fonts_frame(AppState& s, UiFonts& fonts, bool upload) {
    if (!s.wide_chars.typed.empty() && ++s.wide_chars.typed_age > 2) s.wide_chars.typed.clear();
    if (!FontsCollect(fonts, s)) return;
    if (upload) ImGui_ImplOpenGL3_DestroyFontsTexture();
    FontsBuild(fonts, s);
    if (upload) ImGui_ImplOpenGL3_CreateFontsTexture();
}


void keyboard_shortcuts(AppState& s) {
    const ImGuiIO& io = ImGui::GetIO();
    if (!io.KeyCtrl || io.WantTextInput || s.pending_switch.active()) return;  // the unsaved-changes question is open
    if (ImGui::IsKeyPressed(GLFW_KEY_Z, false)) io.KeyShift ? s.redo() : s.undo();  // Ctrl+Shift+Z redoes
    if (ImGui::IsKeyPressed(GLFW_KEY_Y, false)) s.redo();
    if (ImGui::IsKeyPressed(GLFW_KEY_Q, false)) s.request_quit();  // asks when there are unsaved changes
    if (ImGui::IsKeyPressed(GLFW_KEY_N, false)) s.request_new();
    if (ImGui::IsKeyPressed(GLFW_KEY_O, false)) OpenFileBrowser(s, false);
    if (ImGui::IsKeyPressed(GLFW_KEY_S, false)) s.save_current();  // a lecture scene: a copy in the documents folder
    if (io.KeyShift && ImGui::IsKeyPressed(GLFW_KEY_L, false)) s.reset_layout = true;  // Ctrl+Shift+L
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] The window loop
// ---------------------------------------------------------------------------------------------
int run_window(const WindowOptions& opt) {
    DevHooks dev;  // the dev-only hooks (app/dev/dev_hooks.hpp): test edit, state dump, soak, frame measurement
    DevMark(dev);
    AppState s;
    if (!load_into(s, opt.scene_path.empty() ? default_scene_path() : opt.scene_path)) return 2;
    if (!opt.model_dir.empty() && !s.open_model(opt.model_dir, opt.model_text)) {  // a malformed folder: exit 2 with its error
        std::fprintf(stderr, "attnviz: %s\n", s.status.c_str());
        return 2;
    }
    DevMark(dev);
    GLFWwindow* window = open_window(opt.width, opt.height, true);
    if (!window) return 1;
    DevMark(dev);
    glfwSwapInterval(opt.frames > 0 ? 0 : 1);
    float xs = 1.0f, ys = 1.0f;
    glfwGetWindowContentScale(window, &xs, &ys);
    UiFonts fonts;
    const float ui_scale = opt.ui_scale > 0.0f ? opt.ui_scale : std::clamp(std::max(xs, ys), 1.0f, 4.0f);
    // The projector fonts: the title at big_font_px × the UI scale on a 1600×900 slide, built for the
    // largest window this monitor can show (the presentation scales text with the window).
    s.lecture.ui_scale = ui_scale;
    float monitor_factor = 1.0f;
    if (const GLFWvidmode* mode = glfwGetPrimaryMonitor() ? glfwGetVideoMode(glfwGetPrimaryMonitor()) : nullptr)
        monitor_factor = std::clamp(std::min(mode->width / 1600.0f, mode->height / 900.0f), 1.0f, 2.0f);
    s.lecture.font_built_px = s.lecture.big_font_px * ui_scale * monitor_factor;
    setup_imgui(window, ui_scale, fonts, s);  // builds the atlas here, so start-up shows its cost apart
    WindowContext window_context{&s, nullptr};
    glfwSetWindowUserPointer(window, &window_context);
    window_context.imgui_chars = glfwSetCharCallback(window, char_callback);
    DevMark(dev);
    s.config_dir = config_dir();
    const std::string ini = s.config_dir.empty() ? std::string() : s.config_dir + "/imgui.ini";
    ImGui::GetIO().IniFilename = ini.empty() ? nullptr : ini.c_str();
    s.load_recent();
    s.add_recent(s.scene_path);
    FindLectureScenes(s);
    s.lecture.presentation = opt.presentation;
    ApplyViewPresets(s);
    if (opt.math_step > 0) SetMathStep(s, opt.math_step);
    RecoveryInit(s, opt.reliability);  // autosave; offers to restore after a crash
    DevMark(dev);
    DevStart(s, opt, dev);

    std::string title;
    int frame = 0;
    int settle = 0;  // frames drawn since the long view's worker went idle
    while (!s.quit_requested) {
        if (glfwWindowShouldClose(window)) {  // the window's close button: ask like Ctrl+Q
            glfwSetWindowShouldClose(window, GLFW_FALSE);
            s.request_quit();
            if (s.quit_requested) break;
        }
        const auto t0 = std::chrono::steady_clock::now();
        if (DevDrawsFlatOut(dev)) glfwPollEvents();  // as fast as it can draw
        else glfwWaitEventsTimeout(0.05);  // idle at ~20 frames/s, wake at once on input
        fonts_frame(s, fonts, frame > 0);  // before the first frame the backend uploads the atlas itself
        ImGui_ImplOpenGL3_NewFrame();
        ImGui_ImplGlfw_NewFrame();
        ImGui::NewFrame();
        DevFrameBegin(s, dev, frame);
        keyboard_shortcuts(s);
        HandleHelpKey(s);       // F1
        HandleLectureKeys(s);  // F5 presentation, arrows step the math
        long_report_errors(s);  // worker jobs that threw: their error on the status line
        s.poll_model();         // a model's finished forward passes (app/session/model_doc.hpp)
        if (s.lecture.presentation) DrawPresentation(s);
        else DrawAllPanels(s);
        DrawHelpWindow(s);
        if (!s.lecture.presentation) s.end_deck();  // the presentation ended: the user's document comes back
        RecoveryFrame(s);  // last: ImGui 1.86 asserts on a window begun after a modal (imgui#4920)
        DrawUnsavedDialog(s);
        ImGui::Render();
        // a window too small for the layout (100×100) must not be saved as the layout in imgui.ini
        ImGui::GetIO().IniFilename = s.layout_usable && !ini.empty() ? ini.c_str() : nullptr;
        int w = 0, h = 0;
        glfwGetFramebufferSize(window, &w, &h);
        gl::clear_target(w, h, 0.08f, 0.08f, 0.10f);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        gl::read_from_back_buffer();
        if (!s.png_exports.empty()) write_png_exports(s, w, h, ImGui::GetIO().DisplayFramebufferScale);
        ++frame;
        const bool soak_done = !DevFrameRendered(s, dev);  // the soak's next edit; the state dump
        bool last = (opt.frames > 0 && frame >= opt.frames) || soak_done;
        if (last && !soak_done && !opt.screenshot.empty() && !long_settled(s, settle)) {
            last = false;  // a long sequence's overview is still being computed: the picture waits for it
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (last && !opt.screenshot.empty()) {
            std::string error;
            if (!gl::write_png(opt.screenshot, w, h, gl::read_pixels(0, 0, w, h), &error)) std::cerr << "attnviz: " << error << "\n";
        }
        if (const std::string t = s.window_title(); t != title) {
            glfwSetWindowTitle(window, t.c_str());
            title = t;
        }
        glfwSwapBuffers(window);
        DevFrameEnd(dev, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        if (last) break;
    }
    const int code = DevFinish(s, dev);
    if (ImGui::GetIO().IniFilename) ImGui::SaveIniSettingsToDisk(ImGui::GetIO().IniFilename);
    RecoveryShutdown(s);  // a normal exit: pending autosave written, marked clean
    shutdown(window, s);
    return code;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Off-screen rendering: a hidden window's context, an FBO of the requested size, the
// same panels, three frames (auto-sized widgets settle on the second), then the PNG.
// ---------------------------------------------------------------------------------------------
int run_render(const RenderOptions& opt) {
    AppState s;
    if (!load_into(s, opt.scene_path.empty() ? default_scene_path() : opt.scene_path)) return 2;
    if (opt.head < 0 || opt.head >= s.scene.n_heads) {
        std::cerr << "attnviz: --head " << opt.head << " is out of range 0.." << s.scene.n_heads - 1 << "\n";
        return 2;
    }
    s.sel.head = opt.head;
    s.view.transpose = opt.transpose;
    if (opt.stage == "raw") s.view.stage = Stage::Raw;
    else if (opt.stage == "scaled") s.view.stage = Stage::Scaled;
    else if (opt.stage == "masked") s.view.stage = Stage::Masked;
    else s.view.stage = Stage::Pattern;
    GLFWwindow* window = open_window(std::min(opt.width, 1024), std::min(opt.height, 768), false);
    if (!window) return 1;
    if (opt.width > gl::max_texture_size() || opt.height > gl::max_texture_size()) {
        std::cerr << "attnviz: --size " << opt.width << "x" << opt.height << " is larger than the GPU allows ("
                  << gl::max_texture_size() << ")\n";
        glfwDestroyWindow(window);
        glfwTerminate();
        return 2;
    }
    UiFonts fonts;
    s.lecture.ui_scale = opt.ui_scale;
    s.lecture.font_built_px = s.lecture.big_font_px * opt.ui_scale;
    setup_imgui(window, opt.ui_scale, fonts, s);
    gl::Framebuffer target;
    if (!gl::ensure_framebuffer(target, opt.width, opt.height)) {
        shutdown(window, s);
        return 1;
    }
    std::vector<unsigned char> px;
    int settle = 0;
    for (int frame = 0;; ++frame) {
        if (frame >= 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ImGui_ImplOpenGL3_NewFrame();
        ImGui_ImplGlfw_NewFrame();
        ImGuiIO& io = ImGui::GetIO();
        io.DisplaySize = ImVec2(static_cast<float>(opt.width), static_cast<float>(opt.height));
        io.DisplayFramebufferScale = ImVec2(1, 1);
        io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
        ImGui::NewFrame();
        gl::bind_framebuffer(target.fbo);
        if (opt.view == "heatmap") DrawSoloPanel(s, SoloView::Heatmap);
        else if (opt.view == "grid") DrawSoloPanel(s, SoloView::Grid);
        else if (opt.view == "compare") DrawSoloPanel(s, SoloView::Compare);
        else if (opt.view == "shift") DrawSoloPanel(s, SoloView::Shift);
        else if (opt.view == "qk") DrawSoloPanel(s, SoloView::QK);
        else DrawAllPanels(s);
        ImGui::Render();
        gl::bind_framebuffer(target.fbo);
        gl::clear_target(opt.width, opt.height, 0.08f, 0.08f, 0.10f);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        // three frames (auto-sized widgets settle on the second); a long sequence's overview first
        const bool done = frame >= 2 && long_settled(s, settle);
        if (done) px = gl::read_pixels(0, 0, opt.width, opt.height);
        gl::bind_framebuffer(0);
        if (done) break;
    }
    std::string error;
    const bool ok = gl::write_png(opt.out, opt.width, opt.height, px, &error);
    gl::delete_framebuffer(target);
    shutdown(window, s);
    if (!ok) {
        std::cerr << "attnviz: " << error << "\n";
        return 1;
    }
    return 0;
}

}  // namespace attnviz::app
