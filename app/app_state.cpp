#include "app_state.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "long_view.hpp"
#include "panels.hpp"
#include "scene_io.hpp"

namespace attnviz::app {

namespace {
// Runs f(s) with the scene's mask set aside (the compare view's unmasked forward pass) and puts
// it back, even when f throws: no copy of the scene.
template <class F>
void without_mask(Scene& s, F&& f) {
    Mask kept = std::move(s.mask);
    s.mask = Mask::none();
    try {
        f(static_cast<const Scene&>(s));
    } catch (...) {
        s.mask = std::move(kept);
        throw;
    }
    s.mask = std::move(kept);
}
}  // namespace

void AppState::recompute() {
    committed = scene;
    rebuild();
}

void AppState::rebuild() {
    ++revision;
    ++generation;
    const bool was_long = long_mode;
    long_mode = !fits_full_forward(scene, Limits::kLiveForwardBytes);
    // thousands of keys share each row's weight: the 0..1 scale would be one colour
    if (long_mode && !was_long) view.auto_range = true;
    if (long_mode) {
        fwd = Forward{};
        fwd_unmasked = Forward{};
        long_rebuild(*this);
    } else {
        long_release(*this);
        forward(scene, fwd);
        if (scene.mask.type != MaskType::None) {
            without_mask(scene, [&](const Scene& unmasked) { forward(unmasked, fwd_unmasked); });
        } else {
            fwd_unmasked = Forward{};
        }
    }
    clamp_selection();
}

void AppState::apply_change(const SceneChange& change) {
    using Kind = SceneChange::Kind;
    if (change.kind == Kind::Other) {
        rebuild();
        return;
    }
    ++revision;
    if (change.kind == Kind::None) return;
    const std::uint64_t from = generation++;
    if (long_mode) {
        if (!long_update(*this, from, static_cast<int>(change.kind), change.index)) long_rebuild(*this);
        clamp_selection();
        return;
    }
    const bool masked = scene.mask.type != MaskType::None;
    auto update = [&](const Scene& sc, Forward& f) {
        if (change.kind == Kind::Token) update_token(sc, f, change.index);
        else if (change.kind == Kind::HeadWeights) recompute_head(sc, f, change.index);
        else if (change.kind == Kind::Output) update_output(sc, f);
    };
    try {
        update(scene, fwd);
        if (masked) without_mask(scene, [&](const Scene& unmasked) { update(unmasked, fwd_unmasked); });
    } catch (const std::exception&) {
        rebuild();  // the forward pass did not match the scene after all
        return;
    }
    clamp_selection();
}

void AppState::check_committed() {
    const Scene &a = committed, &b = scene;
    if (a.n() != b.n() || a.m() != b.m() || a.d_model != b.d_model || a.n_heads != b.n_heads || a.d_head != b.d_head ||
        a.cross() != b.cross() || a.heads.size() != b.heads.size() || a.input.embeddings.rows() != b.input.embeddings.rows() ||
        a.W_O.rows() != b.W_O.rows())
        recompute();  // the forward pass was of another scene too
}

void AppState::commit(const std::string& key) {
    const SceneChange change = classify_change(committed, scene);
    if (change.kind == SceneChange::Kind::Other) {
        history.push(std::move(committed), key);  // the whole scene before: moved, not copied
        committed = scene;
    } else {
        history.push(committed, scene, change, key);  // what the edit replaced
        follow_change(committed, scene, change);
    }
    modified = true;
    apply_change(change);
}

bool AppState::undo() {
    if (!history.undo(scene)) return false;
    const SceneChange change = classify_change(committed, scene);
    follow_change(committed, scene, change);
    modified = true;
    apply_change(change);
    return true;
}

bool AppState::redo() {
    if (!history.redo(scene)) return false;
    const SceneChange change = classify_change(committed, scene);
    follow_change(committed, scene, change);
    modified = true;
    apply_change(change);
    return true;
}

void AppState::clamp_selection() {
    sel.head = std::clamp(sel.head, 0, scene.n_heads - 1);
    if (sel.query >= scene.n()) sel.query = scene.n() - 1;
    if (sel.key >= scene.m()) sel.key = scene.m() - 1;
}

void AppState::set_scene(Scene s, const std::string& path) {
    // Opening another scene is undoable: the scene the user had is not lost.
    if (generation > 0) history.push(std::move(scene), {});
    scene = std::move(s);
    scene_path = path;
    modified = false;
    sel = Selection{};
    token_edit = -1;
    recompute();
}

bool AppState::open_file(const std::string& path) {
    if (path.empty()) {
        set_error("open: no file name given");
        return false;
    }
    try {
        set_scene(load_scene(path), path);
    } catch (const SceneError& e) {
        set_error("open " + path + ": " + e.what());
        return false;
    }
    add_recent(path);
    set_info("opened " + path);
    return true;
}

bool AppState::save_file(const std::string& path) {
    if (path.empty()) {
        set_error("save: no file name given");
        return false;
    }
    try {
        attnviz::save_scene(scene, path);
    } catch (const SceneError& e) {
        set_error("save " + path + ": " + e.what());
        return false;
    }
    scene_path = path;
    modified = false;
    add_recent(path);
    set_info("saved " + path);
    return true;
}

std::string AppState::window_title() const {
    std::string t = "attnviz \xE2\x80\x94 " + (scene.title.empty() ? std::string("untitled") : scene.title);
    if (modified) t += "*";
    if (!scene_path.empty()) t += " (" + std::filesystem::path(scene_path).filename().string() + ")";
    return t;
}

std::string AppState::state_json() const {
    nlohmann::json j;
    j["tokens"] = token_texts(scene.input.tokens);
    if (scene.source) j["source_tokens"] = token_texts(scene.source->tokens);
    j["text"] = scene.input.text;
    j["n"] = scene.n();
    j["m"] = scene.m();
    j["long_mode"] = long_mode;
    if (long_mode) {
        std::string label;
        double fraction = 0.0;
        nlohmann::json l;
        l["job"] = long_progress(*this, label, fraction) ? label : "";
        l["fraction"] = fraction;
        l["busy"] = long_view && long_view->jobs.busy();
        l["ready"] = long_view && long_view->ready(generation) != nullptr;
        if (views) {
            const HeatmapView& hv = views->heatmap;
            l["view"] = {hv.view.x0, hv.view.y0, hv.view.x1, hv.view.y1};
            l["overview"] = !hv.base.empty();
            l["detail_exact"] = hv.detail.exact();
        }
        j["long"] = l;
    }
    j["d_model"] = scene.d_model;
    j["n_heads"] = scene.n_heads;
    j["d_head"] = scene.d_head;
    j["mask"] = mask_type_name(scene.mask.type);
    j["mask_size"] = scene.mask.size;
    j["scale"] = scene.scale;
    j["temperature"] = scene.temperature;
    j["positional"] = positional_name(scene.positional);
    j["seed"] = scene.seed;
    j["title"] = scene.title;
    j["scene_path"] = scene_path;
    j["modified"] = modified;
    j["head"] = sel.head;
    j["query"] = sel.query;
    j["key"] = sel.key;
    j["stage"] = stage_name(view.stage);
    j["transpose"] = view.transpose;
    j["colormap"] = view.colormap;
    j["status"] = status;
    j["status_is_error"] = status_is_error;
    j["undo"] = history.undo_size();
    j["generation"] = generation;
    j["widgets"] = ui_rects;
    return j.dump();
}

void AppState::add_recent(const std::string& path) {
    std::error_code ec;
    std::string abs = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec) abs = path;
    recent.erase(std::remove(recent.begin(), recent.end(), abs), recent.end());
    recent.insert(recent.begin(), abs);
    if (recent.size() > 10) recent.resize(10);
    save_recent();
}

void AppState::load_recent() {
    recent.clear();
    if (config_dir.empty()) return;
    std::ifstream in(config_dir + "/recent.txt");
    std::string line;
    while (std::getline(in, line) && recent.size() < 10)
        if (!line.empty()) recent.push_back(line);
}

void AppState::save_recent() const {
    if (config_dir.empty()) return;
    std::string text;
    for (const auto& r : recent) text += r + "\n";
    try {
        write_file_atomic(config_dir + "/recent.txt", text);
    } catch (const SceneError&) {
        // the recent list is a convenience; a read-only config folder must not stop the app
    }
}

}  // namespace attnviz::app
