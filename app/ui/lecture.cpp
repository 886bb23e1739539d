// attnviz app — lecture mode plumbing: fonts, the lecture scene list, keys, the explanation cache.
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>  // key codes (F5, letters): ImGui 1.86 has no named function keys
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "panels_lecture.hpp"
#include "scene_io.hpp"
#include "paths.hpp"

namespace attnviz::app {
namespace {

// Latin-1, Greek, dashes and …, arrows, mathematical operators (√ ∞ −), shapes (◀ ▶), ᵀ.
// Constant data the font atlas reads when it is built.

// The row of `m` as a vector, for exact change detection.
bool same_row(const RowVec& cached, const Mat& m, int row) {
    return cached.size() == m.cols() && (m.cols() == 0 || cached == m.row(row));
}

}  // namespace

void FindLectureScenes(AppState& app) {
    namespace fs = std::filesystem;
    auto& files = app.lecture.scene_files;
    files.clear();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(asset_path("assets/scenes"), ec))
        if (e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    app.lecture.scene_index = -1;
    // The open scene: the same file, else a lecture scene of the same name (a copy of assets/).
    for (std::size_t i = 0; i < files.size(); ++i)
        if (!app.scene_path.empty() && fs::equivalent(files[i], app.scene_path, ec)) app.lecture.scene_index = static_cast<int>(i);
    for (std::size_t i = 0; i < files.size() && app.lecture.scene_index < 0; ++i)
        if (!app.scene_path.empty() && fs::path(files[i]).filename() == fs::path(app.scene_path).filename())
            app.lecture.scene_index = static_cast<int>(i);
}

bool OpenLectureScene(AppState& app, int index, bool deck) {
    auto& files = app.lecture.scene_files;
    if (files.empty()) {
        app.set_error("no lecture scenes found (assets/scenes)");
        return false;
    }
    const int n = static_cast<int>(files.size());
    index = ((index % n) + n) % n;
    const std::string& path = files[static_cast<std::size_t>(index)];
    Scene s;
    try {
        s = load_scene(path);
    } catch (const SceneError& e) {
        app.set_error(path + ": " + e.what());
        return false;
    }
    // The deck shows the scene in place of the user's document (put aside, back after F5); else
    // it becomes the document (the caller asked about unsaved changes: request_switch).
    if (deck) app.present_scene(std::move(s), path);
    else app.set_scene(std::move(s), path);
    app.lecture.scene_index = index;
    app.lecture.explanation_valid = false;
    ApplyViewPresets(app);
    app.set_info("scene " + std::to_string(index + 1) + " of " + std::to_string(n) + ": " + app.scene.title);
    return true;
}

void ApplyViewPresets(AppState& app) {
    // The scene's "view" presets (see docs/lecture-scenes.md): head, query.
    app.sel.head = 0;
    app.sel.query = app.scene.n() - 1;
    app.sel.key = -1;
    if (!app.scene.view_json.empty()) {
        const auto view = nlohmann::json::parse(app.scene.view_json, nullptr, false);
        if (view.is_object()) {
            if (view.contains("head") && view["head"].is_number_integer()) app.sel.head = view["head"].get<int>();
            if (view.contains("query") && view["query"].is_number_integer()) app.sel.query = view["query"].get<int>();
        }
    }
    app.clamp_selection();
    if (app.sel.query < 0) app.sel.query = 0;
    app.lecture.explanation_valid = false;
    SetMathStep(app, app.lecture.math_step);
}

Stage StageForStep(int step) {
    switch (step) {
        case 2: return Stage::Raw;
        case 3: return Stage::Scaled;
        case 4: return Stage::Masked;
        default: return Stage::Pattern;
    }
}

void SetMathStep(AppState& app, int step) {
    app.lecture.math_step = std::clamp(step, 1, 8);
    if (app.lecture.stage_follows_step) app.view.stage = StageForStep(app.lecture.math_step);
}

void HandleLectureKeys(AppState& app) {
    const ImGuiIO& io = ImGui::GetIO();
    if (app.pending_switch.active()) return;  // the unsaved-changes question is open
    if (ImGui::IsKeyPressed(GLFW_KEY_F5, false)) {
        app.lecture.presentation = !app.lecture.presentation;
        if (app.lecture.presentation && app.sel.query < 0) app.sel.query = app.scene.n() - 1;
    }
    // Presentation has its own keys; a text field or a dragged slider keeps its arrows.
    if (app.lecture.presentation || io.WantTextInput || ImGui::IsAnyItemActive() || !app.lecture.show_math) return;
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) SetMathStep(app, app.lecture.math_step + 1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) SetMathStep(app, app.lecture.math_step - 1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) app.sel.query = std::min(app.sel.query + 1, app.scene.n() - 1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow)) && app.sel.query > 0) --app.sel.query;
}

const QueryExplanation* CurrentExplanation(AppState& app) {
    const int h = app.sel.head, q = app.sel.query;
    if (q < 0 || q >= app.scene.n() || h < 0 || h >= app.scene.n_heads ||
        h >= static_cast<int>(app.fwd.heads.size()))
        return nullptr;
    auto& L = app.lecture;
    const HeadResult& r = app.fwd.heads[static_cast<std::size_t>(h)];
    const QueryExplanation& x = L.explanation;
    // Up to date when the same head and query still have the same scores, weights, ΔE_h and E'.
    const bool fresh = L.explanation_valid && x.head == h && x.query == q && x.d_model == app.scene.d_model &&
                       x.d_head == app.scene.d_head && x.scaled == app.scene.scale &&
                       x.temperature == app.scene.temperature && x.allowed.size() == static_cast<std::size_t>(app.scene.m()) &&
                       same_row(x.weights, r.pattern, q) && same_row(x.output, app.fwd.output, q) &&
                       x.V.rows() == r.V.rows() && x.V == r.V && x.K == r.K;
    bool same_mask = fresh;
    for (int j = 0; same_mask && j < app.scene.m(); ++j)
        same_mask = (x.allowed[static_cast<std::size_t>(j)] != 0) == app.scene.mask.allows(q, j);
    if (!same_mask) {
        try {
            L.explanation = explain_query(app.scene, app.fwd, h, q);
            L.explanation_valid = true;
        } catch (const SceneError& e) {
            app.set_error(e.what());
            L.explanation_valid = false;
            return nullptr;
        }
    }
    return &L.explanation;
}

}  // namespace attnviz::app
