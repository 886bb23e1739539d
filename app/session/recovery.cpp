#include "recovery.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "autosave.hpp"
#include "history.hpp"

namespace attnviz::app {

namespace {
std::string summary(const Scene& sc) {
    std::string t;
    for (const auto& tok : sc.input.tokens) {
        if (t.size() > 200) { t += " …"; break; }
        t += (t.empty() ? "" : " ") + tok.text;
    }
    return std::to_string(sc.n()) + " tokens: " + t;
}
// A scene above this is not written at quit (the last autosave on disk is what is kept): quitting
// never waits for a large write.
constexpr std::size_t kQuitWriteBytes = std::size_t(64) << 20;
// Scenes below this are handed to autosave on every change (the worker debounces); above it, only
// once edits have paused (Autosave::quiet_for), so a large scene is copied once per pause.
constexpr std::size_t kCopyEveryChangeBytes = std::size_t(1) << 20;
}  // namespace

std::size_t Recovery::crashed_count() const {
    std::size_t n = 0;
    for (const auto& f : found) n += f.discarded ? 0 : 1;
    return n;
}

void RecoveryInit(AppState& s, const ReliabilityOptions& opt) {
    auto rec = std::make_shared<Recovery>();
    s.recovery = rec;
    rec->saved_revision = rec->seen_revision = s.revision;  // the scene just loaded is not a change worth saving
    rec->seen_saves = s.saves;
    if (opt.autosave) {
        Autosave::Options ao;
        ao.dir = opt.state_dir.empty() ? default_state_dir() : opt.state_dir;
        rec->autosave = std::make_unique<Autosave>(ao);
        try {
            rec->found = rec->autosave->start();
        } catch (const SceneError& e) {
            std::fprintf(stderr, "attnviz: autosave is off: %s\n", e.what());
            s.set_error(std::string("autosave is off: ") + e.what());
            rec->autosave.reset();
        }
    }
    for (const auto& f : rec->found)
        if (!f.discarded)
            std::printf("attnviz: the last session did not end normally; its scene was autosaved to %s\n", f.state_path.c_str());
    if (rec->crashed_count() > 0) {
        if (opt.restore) RecoveryRestore(s, static_cast<std::size_t>(RecoveryNewestCrash(s)));
        else rec->offer = true;
    }
    std::fflush(stdout);
}

int RecoveryNewestCrash(const AppState& s) {
    if (!s.recovery) return -1;
    int newest = -1;
    for (std::size_t i = 0; i < s.recovery->found.size(); ++i)
        if (!s.recovery->found[i].discarded) newest = static_cast<int>(i);  // oldest first
    return newest;
}

std::string RecoveryLabel(const AppState& s, std::size_t index) {
    if (!s.recovery || index >= s.recovery->found.size()) return {};
    const Autosave::Found& f = s.recovery->found[index];
    std::string from = f.scene_path.empty() ? std::string("an untitled scene") : std::filesystem::path(f.scene_path).filename().string();
    return (f.discarded ? "changes discarded at a quit, from " : "crashed session, from ") + from;
}

bool RecoveryRestore(AppState& s, std::size_t index) {
    if (!s.recovery) return false;
    auto& rec = *s.recovery;
    if (!rec.autosave || index >= rec.found.size()) return false;
    const Autosave::Found f = rec.found[index];
    Scene restored;
    try {
        restored = Autosave::load(f);
    } catch (const SceneError& e) {
        s.set_error(std::string("could not restore the autosaved scene: ") + e.what());
        std::fprintf(stderr, "attnviz: could not restore the autosaved scene: %s\n", e.what());
        return false;
    }
    const std::string text = summary(restored);
    // The restored scene is a document of its own: no undo back to what was shown before (content
    // and path stay together); it is not saved to its file, so it is marked modified.
    s.set_scene(std::move(restored), f.scene_path);
    s.modified = true;
    s.set_info("restored the autosaved scene");
    std::printf("attnviz: restored the autosaved scene (%s)\n", text.c_str());
    std::fflush(stdout);
    rec.found.erase(rec.found.begin() + static_cast<std::ptrdiff_t>(index));
    // its files go once this session's autosave holds the scene (a crash before that loses nothing)
    rec.restored.emplace_back(f, rec.autosave->saves());
    rec.saved_revision = s.revision - 1;  // save it now
    rec.offer = false;
    return true;
}

void RecoveryDecline(AppState& s, std::size_t index) {
    if (!s.recovery) return;
    auto& rec = *s.recovery;
    if (!rec.autosave || index >= rec.found.size()) return;
    rec.autosave->release(rec.found[index], !rec.found[index].discarded);
    const bool crash = !rec.found[index].discarded;
    rec.found.erase(rec.found.begin() + static_cast<std::ptrdiff_t>(index));
    if (crash) {  // the crash's scene is now the discarded copy: list it as such
        for (auto it = rec.found.begin(); it != rec.found.end(); ++it)
            if (it->discarded) {
                rec.found.erase(it);
                break;
            }
        Autosave::Found d;
        d.id = "discarded";
        d.state_path = rec.autosave->discarded_path();
        d.discarded = true;
        rec.found.push_back(d);
    }
}

void RecoveryAutosave(AppState& s) {
    if (!s.recovery) return;
    auto& rec = *s.recovery;
    if (!rec.autosave) return;
    const auto now = std::chrono::steady_clock::now();
    if (s.saves != rec.seen_saves) {  // a document was saved: the discarded copy is no longer kept
        rec.seen_saves = s.saves;
        rec.autosave->drop_discarded();
        for (auto it = rec.found.begin(); it != rec.found.end();)
            it = it->discarded ? rec.found.erase(it) : it + 1;
    }
    for (auto it = rec.restored.begin(); it != rec.restored.end();) {  // restored crashes, now autosaved by us
        if (rec.autosave->saves() > it->second && !rec.autosave->busy()) {
            rec.autosave->release(it->first);
            it = rec.restored.erase(it);
        } else {
            ++it;
        }
    }
    if (s.revision != rec.seen_revision) {
        rec.seen_revision = s.revision;
        rec.last_change = now;
    }
    // While the user decides, the crashed sessions' files stay as they are (they are not ours);
    // while the presentation deck shows lecture scenes, the user's document is put aside unchanged.
    if (rec.offer || s.deck_active() || s.model || s.revision == rec.saved_revision) return;  // (a model's stand-in scene is not the user's)
    const std::size_t bytes = scene_memory_bytes(s.scene);
    if (bytes > kCopyEveryChangeBytes && (now - rec.last_change < rec.autosave->quiet_for(bytes) || rec.autosave->busy()))
        return;  // a large scene: once the edits pause and the last write is done
    rec.autosave->schedule(s.scene, s.scene_path);
    rec.saved_revision = s.revision;
}

void RecoveryShutdown(AppState& s) {
    if (!s.recovery) return;
    auto& rec = *s.recovery;
    if (!rec.autosave) return;
    // A quit that discarded changes keeps them as the discarded copy (the newest, unless the
    // scene is too large to write without making the quit wait: then the last autosave).
    const bool keep = s.discarded_changes;
    if (keep && !rec.offer && !s.deck_active() && !s.model && s.revision != rec.saved_revision && scene_memory_bytes(s.scene) <= kQuitWriteBytes)
        rec.autosave->schedule(s.scene, s.scene_path);
    for (auto& r : rec.restored) rec.autosave->release(r.first);  // a clean exit: the restored scene was the user's to save
    rec.restored.clear();
    rec.autosave->finish_clean(keep);
    rec.autosave.reset();
}

}  // namespace attnviz::app
