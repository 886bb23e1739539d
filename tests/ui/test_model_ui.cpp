// A GPT-2 model in the window's panels, without a GL context (issue 12): the default layout of a
// model's workspaces leaves no panel over another at 1280×720 and 1600×900, and the Export menu
// writes the model's own data (not the stand-in scene the views read).
#include <doctest/doctest.h>

#include <imgui.h>
#include <imgui_internal.h>  // ImGui::FindWindowByName

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "gpt2_io.hpp"
#include "model_doc.hpp"
#include "panels.hpp"
#include "panels_analysis.hpp"
#include "scene_io.hpp"
#include "ui_helpers.hpp"

using namespace attnviz;
using namespace attnviz::app;
using attnviz::test::HeadlessImGui;

namespace {
bool overlap(const PanelRect& a, const PanelRect& b) {
    const float w = std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x);
    const float h = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y);
    return w > 0.5f && h > 0.5f;
}
}  // namespace

TEST_CASE("model layout: a model's workspaces have no panel over another at 1280x720 and 1600x900") {
    HeadlessImGui ui;
    const std::vector<std::string> left = {kTokensWindow, kModelWindow, kNextTokenWindow};
    std::vector<std::vector<std::string>> workspaces = {
        {kHeatmapWindow, kModelViewWindow, kCompareWindow},              // attention patterns
        {kHeadLabelsWindow, kInterventionsWindow, kLogitLensWindow},     // model analysis
        {kHeatmapWindow, kMathWindow},                                   // step-by-step math
    };
    for (auto& w : workspaces) w.insert(w.begin(), left.begin(), left.end());
    for (const ImVec2 display : {ImVec2(1280, 720), ImVec2(1600, 900)}) {
        ImGui::GetIO().DisplaySize = display;
        ImGui::NewFrame();
        const float menu_h = ImGui::GetFrameHeight(), status_h = ImGui::GetFrameHeightWithSpacing();
        for (const auto& names : workspaces) {
            std::vector<PanelRect> r;
            for (const auto& n : names) r.push_back(default_panel_rect(n, display, menu_h, true));
            for (std::size_t i = 0; i < r.size(); ++i) {
                CAPTURE(names[i]);
                CAPTURE(display.x);
                CHECK(r[i].x >= 0.0f);
                CHECK(r[i].y >= menu_h);
                CHECK(r[i].x + r[i].w <= display.x);
                CHECK(r[i].y + r[i].h <= display.y - status_h + 0.5f);
                CHECK(r[i].w >= 200.0f);
                CHECK(r[i].h >= 150.0f);
                for (std::size_t j = i + 1; j < r.size(); ++j) {
                    CAPTURE(names[j]);
                    CHECK_FALSE(overlap(r[i], r[j]));
                }
            }
        }
        ImGui::EndFrame();
    }
}

TEST_CASE("Export menu with a model open: the model's data as `attnviz export --model` writes it") {
    test::TempDir tmp("model_export");
    // a tiny random GPT-2 folder whose vocabulary is the 256 bytes (id = byte value)
    const ModelConfig cfg = test::model_config(256, 32, 16, 2, 4, true);
    const Model model = random_gpt2_model(cfg, 11, true, 0.3f);
    std::vector<std::string> bytes;
    for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, static_cast<char>(b)));
    save_gpt2_folder(model, tmp / "tiny", bytes);

    AppState s;
    s.set_scene(load_scene(std::string(ATTNVIZ_SCENES) + "/01_adjectives_update_nouns.json"), "");
    s.export_dir = tmp / "out";
    HeadlessImGui ui;
    ui.frame(s);  // a scene first: the Model panel holds its controls, down to where the files panel begins
    const ImVec2 display = ImGui::GetIO().DisplaySize;
    const float menu_h = ImGui::GetFrameHeight();
    const ImGuiWindow* model_panel = ImGui::FindWindowByName(kModelWindow);
    REQUIRE(model_panel);
    const PanelRect scene_rect = default_panel_rect(kModelWindow, display, menu_h, false);
    CHECK(model_panel->Size.y == doctest::Approx(scene_rect.h));
    const std::string text = "hi there";
    REQUIRE(s.open_model(tmp / "tiny", text));
    for (int i = 0; i < 200 && !(s.model->result() && s.model->up_to_date()); ++i) {
        s.model->wait_idle();
        s.poll_model();
        ui.frame(s);
    }
    REQUIRE(s.model->result());
    // the model's Model panel ends where the next-token panel begins
    const PanelRect model_rect = default_panel_rect(kModelWindow, display, menu_h, true);
    CHECK(model_rect.h < scene_rect.h);
    CHECK(model_panel->Pos.y == doctest::Approx(model_rect.y));
    CHECK(model_panel->Size.y == doctest::Approx(model_rect.h));
    const ImGuiWindow* next_panel = ImGui::FindWindowByName(kNextTokenWindow);
    REQUIRE(next_panel);
    CHECK(model_panel->Pos.y + model_panel->Size.y <= next_panel->Pos.y + 0.5f);
    s.model->select(1, 2);
    ui.frame(s);
    REQUIRE(s.ui_rects.count("menu.export"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["menu.export"]));
    REQUIRE(s.ui_rects.count("export.model_json"));
    CHECK(s.ui_rects.count("export.model_layer_json"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["export.model_json"]));
    const std::string path = tmp / "out/tiny_data.json";
    INFO("status: " << s.status);
    CHECK(s.status == "wrote " + path);
    std::ifstream in(path);
    REQUIRE(in);
    const nlohmann::json j = nlohmann::json::parse(in);

    // the model's tokens (the text's bytes), not the stand-in scene's
    std::vector<int> ids;
    for (unsigned char c : text) ids.push_back(c);
    CHECK(j.at("token_ids").get<std::vector<int>>() == ids);
    CHECK(j.at("n_layers") == 2);
    CHECK(j.at("n_heads") == 4);
    REQUIRE(j.at("layers").size() == 2);
    const int n = static_cast<int>(ids.size()), dh = cfg.d_model / cfg.n_heads;
    // every head's pattern is the causal softmax of its own Q·Kᵀ/√d_head (double precision, here)
    double worst = 0;
    for (const auto& layer : j["layers"]) {
        REQUIRE(layer.at("heads").size() == 4);
        for (const auto& head : layer["heads"]) {
            const auto Q = head.at("Q").get<std::vector<std::vector<double>>>();
            const auto K = head.at("K").get<std::vector<std::vector<double>>>();
            const auto P = head.at("pattern").get<std::vector<std::vector<double>>>();
            const auto S = head.at("scores").get<std::vector<std::vector<double>>>();
            REQUIRE(Q.size() == static_cast<std::size_t>(n));
            REQUIRE(Q[0].size() == static_cast<std::size_t>(dh));
            REQUIRE(P.size() == static_cast<std::size_t>(n));
            for (int i = 0; i < n; ++i) {
                std::vector<double> e(static_cast<std::size_t>(i + 1));
                double mx = -1e300, sum = 0;
                for (int k = 0; k <= i; ++k) {
                    double d = 0;
                    for (int c = 0; c < dh; ++c) d += Q[i][c] * K[k][c];
                    worst = std::max(worst, std::fabs(S[i][k] - d) / std::max(1.0, std::fabs(d)));  // raw scores
                    e[k] = d / std::sqrt(static_cast<double>(dh));
                    mx = std::max(mx, e[k]);
                }
                for (double& x : e) sum += (x = std::exp(x - mx));
                for (int k = 0; k < n; ++k) worst = std::max(worst, std::fabs(P[i][k] - (k <= i ? e[k] / sum : 0.0)));
            }
        }
    }
    CHECK(worst < 1e-4);
    // the next-token list is the document's own top 10
    const auto r = s.model->result();
    REQUIRE(j.at("next_token").size() == r->top.size());
    for (std::size_t k = 0; k < r->top.size(); ++k) CHECK(j["next_token"][k].at("id") == r->top[k].id);

    // the selected layer alone
    ui.frame(s);
    REQUIRE(s.ui_rects.count("menu.export"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["menu.export"]));
    REQUIRE(s.ui_rects.count("export.model_layer_json"));
    ui.click(s, HeadlessImGui::centre(s.ui_rects["export.model_layer_json"]));
    std::ifstream in1(tmp / "out/tiny_layer1_data.json");
    REQUIRE(in1);
    const nlohmann::json j1 = nlohmann::json::parse(in1);
    REQUIRE(j1.at("layers").size() == 1);
    CHECK(j1["layers"][0].at("layer") == 1);
    CHECK(j1["layers"][0]["heads"][2].at("pattern") == j["layers"][1]["heads"][2]["pattern"]);
}
