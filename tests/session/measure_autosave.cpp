// Measures autosave and undo for the issue-9 scene: d_model 4096, 1 head, d_head 4096, every weight
// given (256 MiB of float32). Not a test (it needs ~1.5 GB and several seconds): build the target
// `measure_autosave` and run it; it prints what the UI thread pays per one-character edit, how
// long the worker's write takes, the autosave's size, the peak memory and the time to quit.
//
//   cmake --build build --target measure_autosave && build/tests/measure_autosave [STATE_DIR]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "app_state.hpp"
#include "recovery.hpp"

using namespace attnviz;
using namespace attnviz::app;
using Clock = std::chrono::steady_clock;

namespace {
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
double peak_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}
std::uintmax_t autosave_bytes(const std::string& dir) {
    std::uintmax_t b = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename().string().rfind("autosave-", 0) == 0 && e.path().extension() != ".path") b += e.file_size();
    return b;
}
}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : (std::filesystem::temp_directory_path() / "attnviz_measure_autosave").string();
    std::filesystem::remove_all(dir);
    Scene sc = make_scene({"the", "cat", "sat"}, 4096, 1, 4096, 3);
    for (int p = 0; p < 3; ++p) {
        Mat w = sc.heads[0].W[static_cast<std::size_t>(p)];  // (4096, 4096), drawn: now given
        set_weight_matrix(sc, 0, static_cast<Projection>(p), w);
    }
    Mat wo = sc.W_O;
    set_output_matrix(sc, wo);
    AppState s;
    s.set_scene(std::move(sc), "");
    std::printf("scene: d_model 4096, 1 head, d_head 4096, all weights given (%.0f MiB); peak so far %.0f MB\n",
                4.0 * 4096.0 * 4096.0 * 4.0 / 1048576.0, peak_mb());
    ReliabilityOptions opt;
    opt.state_dir = dir;
    RecoveryInit(s, opt);
    // five one-character edits inside a word, as typed (0.2 s apart; each changes one token), then
    // wait for the autosave. (An edit that adds or removes a token changes the scene's sizes: a
    // whole-scene undo step, measured after.)
    const char* texts[] = {"the cat sit", "the cat sot", "the cap sot", "the cap set", "the cop set"};
    double worst_ui = 0, total_ui = 0;
    for (const char* t : texts) {
        const auto t0 = Clock::now();
        s.edit([&](Scene& x) { set_text(x, t); });
        RecoveryAutosave(s);  // what the window does each frame
        const double ui = ms_since(t0);
        worst_ui = std::max(worst_ui, ui);
        total_ui += ui;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        RecoveryAutosave(s);
    }
    std::printf("UI thread per one-character edit (edit + autosave hand-over): mean %.1f ms, worst %.1f ms; undo steps %zu, %zu bytes\n",
                total_ui / 5.0, worst_ui, s.history.undo_size(), s.history.bytes());
    const auto t_wait = Clock::now();
    double handover_ms = 0;
    while (s.recovery->autosave->saves() == 0 && ms_since(t_wait) < 120000) {
        const auto f0 = Clock::now();
        RecoveryAutosave(s);  // one frame's share
        handover_ms = std::max(handover_ms, ms_since(f0));
        std::this_thread::sleep_for(std::chrono::milliseconds(16));
    }
    std::printf("autosave on disk %.1f s after the last edit (debounced by size: %lld ms quiet); worst frame's hand-over %.1f ms\n",
                ms_since(t_wait) / 1000.0, static_cast<long long>(s.recovery->autosave->quiet_for(scene_memory_bytes(s.scene)).count()),
                handover_ms);
    std::printf("autosave size %.1f MB; error '%s'; peak RSS %.0f MB\n", static_cast<double>(autosave_bytes(dir)) / 1e6,
                s.recovery->autosave->last_error().c_str(), peak_mb());
    {
        const auto t0 = Clock::now();
        s.edit([&](Scene& x) { set_text(x, "the cop set off"); });  // one more token: sizes change
        RecoveryAutosave(s);
        std::printf("an edit that adds a token (whole-scene undo step): %.1f ms; undo holds %zu bytes\n", ms_since(t0), s.history.bytes());
    }
    // one more edit right before quitting: a clean quit does not wait for it
    s.edit("text", [&](Scene& x) { set_text(x, "the cat sat!"); });
    RecoveryAutosave(s);
    const auto t_quit = Clock::now();
    RecoveryShutdown(s);
    std::printf("quit (RecoveryShutdown, changes saved or not discarded): %.1f ms\n", ms_since(t_quit));
    // undo of a one-character edit
    const auto t_undo = Clock::now();
    s.undo();
    std::printf("undo of one edit: %.1f ms\n", ms_since(t_undo));
    std::filesystem::remove_all(dir);
    return 0;
}
