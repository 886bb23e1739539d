// attnviz app — the window: GLFW + OpenGL 3.3 + Dear ImGui 1.86. Glue only: open, poll →
// NewFrame → panels → Render → exports → swap. The off-screen renderer shares every step.
//
// [SECTION] Paths
// [SECTION] Shared set-up: GL context, fonts, style
// [SECTION] The window loop
// [SECTION] Off-screen rendering
#include <epoxy/gl.h>
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
#include "gl.hpp"
#include "heatmap.hpp"
#include "long_view.hpp"
#include "measure.hpp"
#include "panels.hpp"
#include "panels_lecture.hpp"
#include "recovery.hpp"
#include "soak.hpp"
#include "scene_io.hpp"
#include "window.hpp"

#ifndef ATTNVIZ_SOURCE_DIR
#define ATTNVIZ_SOURCE_DIR "."
#endif

namespace attnviz::app {

// ---------------------------------------------------------------------------------------------
// [SECTION] Paths
// ---------------------------------------------------------------------------------------------
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

std::string config_dir() {
    namespace fs = std::filesystem;
    fs::path base;
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) base = x;
    else if (const char* h = std::getenv("HOME"); h && *h) base = fs::path(h) / ".config";
    else return {};
    std::error_code ec;
    fs::create_directories(base / "attnviz", ec);
    if (ec) return {};
    return (base / "attnviz").string();
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Shared set-up
// ---------------------------------------------------------------------------------------------
namespace {

// Glyphs beyond Latin-1: Greek (ImGui 1.86 has no Greek preset), general punctuation (…, —), super/subscripts, arrows, math (√, −, ∞),
// phonetic extensions (ᵀ), geometric shapes.
constexpr ImWchar kExtraGlyphs[] = {0x0370, 0x03FF, 0x2000, 0x206F, 0x2070, 0x209F, 0x2190, 0x21FF, 0x2200, 0x22FF,
                                    0x1D00, 0x1DBF, 0x25A0, 0x25FF, 0};
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

// Fonts (DejaVu Sans with Greek and math glyphs) and style, scaled for the monitor's DPI.
void setup_imgui(GLFWwindow* window, float content_scale, ImVector<ImWchar>& ranges) {
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    ImFontGlyphRangesBuilder builder;
    builder.AddRanges(io.Fonts->GetGlyphRangesDefault());
    builder.AddRanges(io.Fonts->GetGlyphRangesCyrillic());
    builder.AddRanges(kExtraGlyphs);
    builder.BuildRanges(&ranges);
    const std::string font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    if (std::filesystem::exists(font)) {
        io.Fonts->AddFontFromFileTTF(font.c_str(), std::round(kBaseFontPx * content_scale), nullptr, ranges.Data);
    } else {
        std::cerr << "attnviz: " << font << " not found (install fonts-dejavu-core); using the small built-in font\n";
        io.Fonts->AddFontDefault();
    }
    ImGui::StyleColorsDark();
    ImGuiStyle& style = ImGui::GetStyle();
    style.WindowRounding = 4.0f;
    style.FrameRounding = 3.0f;
    style.ItemSpacing = ImVec2(8, 5);
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
        if (gl::write_png(e.path, x1 - x0, y1 - y0, px)) s.set_info("wrote " + e.path);
        else s.set_error("could not write " + e.path);
    }
    s.png_exports.clear();
}

constexpr std::size_t kWarmupFrames = 3;  // left out of --frame-stats: they build fonts and textures

void keyboard_shortcuts(AppState& s) {
    const ImGuiIO& io = ImGui::GetIO();
    if (!io.KeyCtrl || io.WantTextInput) return;
    if (ImGui::IsKeyPressed(GLFW_KEY_Z, false)) io.KeyShift ? s.redo() : s.undo();  // Ctrl+Shift+Z redoes
    if (ImGui::IsKeyPressed(GLFW_KEY_Y, false)) s.redo();
    if (ImGui::IsKeyPressed(GLFW_KEY_Q, false)) s.quit_requested = true;
    if (ImGui::IsKeyPressed(GLFW_KEY_S, false)) {
        if (s.scene_path.empty()) s.show_files = true;
        else s.save_file(s.scene_path);
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] The window loop
// ---------------------------------------------------------------------------------------------
int run_window(const WindowOptions& opt) {
    // start-up milestones, in ms since the process started (printed with --frame-stats)
    const double t_enter = ms_since_process_start();
    AppState s;
    if (!load_into(s, opt.scene_path.empty() ? default_scene_path() : opt.scene_path)) return 2;
    const double t_scene = ms_since_process_start();
    GLFWwindow* window = open_window(opt.width, opt.height, true);
    if (!window) return 1;
    const double t_window = ms_since_process_start();
    glfwSwapInterval(opt.frames > 0 ? 0 : 1);
    float xs = 1.0f, ys = 1.0f;
    glfwGetWindowContentScale(window, &xs, &ys);
    ImVector<ImWchar> ranges;
    const float ui_scale = opt.ui_scale > 0.0f ? opt.ui_scale : std::clamp(std::max(xs, ys), 1.0f, 4.0f);
    setup_imgui(window, ui_scale, ranges);
    InitLectureFonts(s, std::round(kBaseFontPx * ui_scale));  // math glyphs + the projector fonts
    ImGui::GetIO().Fonts->Build();  // here rather than inside the first frame, so start-up shows its cost apart
    const double t_fonts = ms_since_process_start();
    s.config_dir = config_dir();
    const std::string ini = s.config_dir.empty() ? std::string() : s.config_dir + "/imgui.ini";
    ImGui::GetIO().IniFilename = ini.empty() ? nullptr : ini.c_str();
    s.load_recent();
    s.add_recent(s.scene_path);
    FindLectureScenes(s);
    s.lecture.presentation = opt.presentation;
    ApplyViewPresets(s);
    RecoveryInit(s, opt.reliability);  // autosave; offers to restore after a crash
    const double t_ui = ms_since_process_start();
    SoakRun soak;
    const bool soaking = opt.reliability.soak > 0;
    if (soaking) SoakBegin(s, soak, opt.reliability.soak, opt.reliability.soak_seed);

    std::vector<double> frame_ms;
    double first_frame_ms = -1.0;
    std::string last_dump;
    std::string title;
    int frame = 0;
    int settle = 0;  // frames drawn since the long view's worker went idle
    std::uint64_t texture_version_start = 0, passes_start = 0;  // --animate-view: uploads must not grow, passes must
    double cpu_start_ms = 0.0;  // process CPU time when the measured frames begin
    while (!glfwWindowShouldClose(window) && !s.quit_requested) {
        const auto t0 = std::chrono::steady_clock::now();
        if (opt.animate_view) s.animate_view_frame = frame;
        if (frame == static_cast<int>(kWarmupFrames)) {
            texture_version_start = views(s).heatmap.texture_version;
            passes_start = views(s).heatmap.render_passes;
            cpu_start_ms = process_cpu_ms();
        }
        if (opt.frames > 0 || soaking || opt.animate_view) glfwPollEvents();  // as fast as it can draw
        else glfwWaitEventsTimeout(0.05);  // idle at ~20 frames/s, wake at once on input
        ImGui_ImplOpenGL3_NewFrame();
        ImGui_ImplGlfw_NewFrame();
        ImGui::NewFrame();
        keyboard_shortcuts(s);
        HandleLectureKeys(s);  // F5 presentation, arrows step the math
        if (s.lecture.presentation) DrawPresentation(s);
        else DrawAllPanels(s);
        RecoveryFrame(s);  // last: ImGui 1.86 asserts on a window begun after a modal (imgui#4920)
        ImGui::Render();
        int w = 0, h = 0;
        glfwGetFramebufferSize(window, &w, &h);
        glViewport(0, 0, w, h);
        glClearColor(0.08f, 0.08f, 0.10f, 1.0f);
        glClear(GL_COLOR_BUFFER_BIT);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        glReadBuffer(GL_BACK);
        if (!s.png_exports.empty()) write_png_exports(s, w, h, ImGui::GetIO().DisplayFramebufferScale);
        ++frame;
        const bool soak_done = soaking && !SoakFrame(s, soak);  // one random edit per rendered frame
        bool last = (opt.frames > 0 && frame >= opt.frames) || soak_done;
        if (last && !soak_done && !opt.screenshot.empty() && !long_settled(s, settle)) {
            last = false;  // a long sequence's overview is still being computed: the picture waits for it
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (last && !opt.screenshot.empty()) {
            if (!gl::write_png(opt.screenshot, w, h, gl::read_pixels(0, 0, w, h)))
                std::cerr << "attnviz: could not write " << opt.screenshot << "\n";
        }
        if (const std::string t = s.window_title(); t != title) {
            glfwSetWindowTitle(window, t.c_str());
            title = t;
        }
        if (!opt.dump_state.empty()) {
            if (std::string d = s.state_json(); d != last_dump) {
                try {
                    write_file_atomic(opt.dump_state, d + "\n");
                } catch (const SceneError& e) {
                    std::cerr << "attnviz: --dump-state: " << e.what() << "\n";
                }
                last_dump = std::move(d);
            }
        }
        glfwSwapBuffers(window);
        frame_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        if (frame == 1) first_frame_ms = ms_since_process_start();
        if (frame == 1 && opt.frame_stats) {
            // at once (flushed), so a script can time the launch to this line from outside
            std::printf("first_frame_ms %.1f  (since the process started; at run_window %.1f, scene loaded %.1f, window open %.1f, "
                        "fonts built %.1f, UI set up %.1f, first frame %.1f ms to draw)\n",
                        first_frame_ms, t_enter, t_scene, t_window, t_fonts, t_ui, frame_ms.front());
            std::fflush(stdout);
        }
        if (last) break;
    }
    if (opt.frame_stats) {
        // the first frames build fonts and textures: report them apart
        const FrameStats st = frame_stats(frame_ms, kWarmupFrames);
        const double cpu_per_frame = st.frames > 0 ? (process_cpu_ms() - cpu_start_ms) / static_cast<double>(st.frames) : 0.0;
        std::printf("frames %zu  median %.2f ms  p95 %.2f ms  max %.2f ms  (first %zu frames excluded)  fps %.1f  first_frame_ms %.1f"
                    "  cpu_ms_per_frame %.2f",
                    st.frames, st.median_ms, st.p95_ms, st.max_ms, st.skipped, st.fps, first_frame_ms, cpu_per_frame);
        if (opt.animate_view) {
            // over the measured frames: texture uploads (should be 0) and colour passes (one per frame)
            const HeatmapView& hv = views(s).heatmap;
            std::printf("  heatmap %dx%d  texture_version %llu -> %llu  colour_passes %llu", hv.rows, hv.cols,
                        static_cast<unsigned long long>(texture_version_start), static_cast<unsigned long long>(hv.texture_version),
                        static_cast<unsigned long long>(hv.render_passes - passes_start));
        }
        std::printf("\n");
        std::fflush(stdout);
    }
    if (ImGui::GetIO().IniFilename) ImGui::SaveIniSettingsToDisk(ImGui::GetIO().IniFilename);
    RecoveryShutdown(s);  // a normal exit: pending autosave written, marked clean
    shutdown(window, s);
    return soaking ? SoakFinish(soak) : 0;
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
    ImVector<ImWchar> ranges;
    setup_imgui(window, opt.ui_scale, ranges);
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
        glBindFramebuffer(GL_FRAMEBUFFER, target.fbo);
        if (opt.view == "heatmap") DrawSoloPanel(s, SoloView::Heatmap);
        else if (opt.view == "grid") DrawSoloPanel(s, SoloView::Grid);
        else if (opt.view == "compare") DrawSoloPanel(s, SoloView::Compare);
        else if (opt.view == "shift") DrawSoloPanel(s, SoloView::Shift);
        else if (opt.view == "qk") DrawSoloPanel(s, SoloView::QK);
        else DrawAllPanels(s);
        ImGui::Render();
        glBindFramebuffer(GL_FRAMEBUFFER, target.fbo);
        glViewport(0, 0, opt.width, opt.height);
        glClearColor(0.08f, 0.08f, 0.10f, 1.0f);
        glClear(GL_COLOR_BUFFER_BIT);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        // three frames (auto-sized widgets settle on the second); a long sequence's overview first
        const bool done = frame >= 2 && long_settled(s, settle);
        if (done) px = gl::read_pixels(0, 0, opt.width, opt.height);
        glBindFramebuffer(GL_FRAMEBUFFER, 0);
        if (done) break;
    }
    const bool ok = gl::write_png(opt.out, opt.width, opt.height, px);
    gl::delete_framebuffer(target);
    shutdown(window, s);
    if (!ok) {
        std::cerr << "attnviz: could not write " << opt.out << "\n";
        return 1;
    }
    return 0;
}

}  // namespace attnviz::app
