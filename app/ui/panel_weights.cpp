// attnviz app — the weight editor: W_Q, W_K, W_V of the selected head and W_O. Small matrices are
// a grid of drag-editable numbers; large ones a map of coloured cells where a click picks a cell
// to edit. Buttons: randomize (seed), zero, identity-like, scale ×k. Every edit goes through
// AppState::edit with core's editing API (set_weight, set_weight_matrix, set_output_weight,
// set_output_matrix), so the scene stays valid and every view recomputes in the same frame.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "panels.hpp"  // MarkItem
#include "panels_plots.hpp"
#include "plot_draw.hpp"

namespace attnviz::app {
namespace {

std::string cell_name(WeightMatrix w, int head, int row, int col) {
    char buf[64];
    if (w == WeightMatrix::Output) std::snprintf(buf, sizeof buf, "W_O[%d][%d]", row, col);
    else std::snprintf(buf, sizeof buf, "heads[%d].%s[%d][%d]", head, weight_matrix_name(w), row, col);
    return buf;
}

Projection projection_of(WeightMatrix w) { return static_cast<Projection>(static_cast<int>(w)); }

// What a row of the shown matrix is, for the grid's row labels.
std::string row_label(const AppState& app, WeightMatrix w, int r) {
    char buf[32];
    if (w == WeightMatrix::Output) {
        const int dh = std::max(1, app.scene.d_head);
        std::snprintf(buf, sizeof buf, "h%d.%d", r / dh, r % dh);
    } else {
        std::snprintf(buf, sizeof buf, "d%d", r);
    }
    return buf;
}

// A darkened diverging colour: readable white text on top.
ImU32 cell_background(float v, float vmax) {
    const ImVec4 c = ImGui::ColorConvertU32ToFloat4(diverging_color(v, vmax));
    const float k = 0.55f, base = 0.14f;
    return ImGui::ColorConvertFloat4ToU32(ImVec4(base + (c.x - 0.95f * 0.5f) * k, base + (c.y - 0.95f * 0.5f) * k,
                                                 base + (c.z - 0.95f * 0.5f) * k, 1.0f));
}

void draw_small_grid(AppState& app, WeightMatrix w, int head, const Mat& M, float vmax) {
    const int rows = static_cast<int>(M.rows()), cols = static_cast<int>(M.cols());
    const float cell_w = ImGui::CalcTextSize("-0.000").x + ImGui::GetStyle().FramePadding.x * 2 + 4;
    const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_RowBg;
    if (!ImGui::BeginTable("weights_grid", cols + 1, flags, ImVec2(0, ImGui::GetContentRegionAvail().y))) return;
    ImGui::TableSetupScrollFreeze(1, 1);
    ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed);
    for (int c = 0; c < cols; ++c) {
        char name[16];
        std::snprintf(name, sizeof name, w == WeightMatrix::Output ? "d%d" : "j%d", c);
        ImGui::TableSetupColumn(name, ImGuiTableColumnFlags_WidthFixed, cell_w);
    }
    ImGui::TableHeadersRow();
    for (int r = 0; r < rows; ++r) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::TextDisabled("%s", row_label(app, w, r).c_str());
        for (int c = 0; c < cols; ++c) {
            ImGui::TableSetColumnIndex(c + 1);
            ImGui::PushID(r * cols + c);
            float v = M(r, c);
            ImGui::PushStyleColor(ImGuiCol_FrameBg, cell_background(v, vmax));
            ImGui::SetNextItemWidth(cell_w);
            const bool changed = ImGui::DragFloat("##w", &v, 0.01f, 0.0f, 0.0f, "%.3f");
            if (ImGui::IsItemActivated()) app.plots.weight_drag_edited = false;  // a new drag begins
            ImGui::PopStyleColor();
            if (ImGui::IsItemHovered() && !ImGui::IsItemActive())
                ImGui::SetTooltip("%s = %.7g\ndrag to change, ctrl+click to type", cell_name(w, head, r, c).c_str(),
                                  static_cast<double>(M(r, c)));
            ImGui::PopID();
            // Edit after the widget is done with M's cell (the edit may reallocate the matrix).
            if (changed) {
                if (edit_weight_cell(app, w, head, r, c, v, app.plots.weight_drag_edited)) app.plots.weight_drag_edited = true;
                ImGui::EndTable();
                return;  // M may now be a different matrix: draw it next frame
            }
        }
    }
    ImGui::EndTable();
}

void draw_large_map(AppState& app, WeightMatrix w, int head, const Mat& M, float vmax) {
    PlotsView& pv = app.plots;
    const int rows = static_cast<int>(M.rows()), cols = static_cast<int>(M.cols());
    const float avail_w = ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ScrollbarSize - 4;
    const float cell = std::clamp(avail_w / static_cast<float>(cols), 6.0f, 28.0f);
    const float edit_h = ImGui::GetFrameHeightWithSpacing() * 1.5f;
    const float child_h = std::max(60.0f, std::min(cell * static_cast<float>(rows) + 4, ImGui::GetContentRegionAvail().y - edit_h));
    ImGui::SetNextWindowContentSize(ImVec2(cell * static_cast<float>(cols), cell * static_cast<float>(rows)));
    ImGui::BeginChild("weights_map", ImVec2(0, child_h), true, ImGuiWindowFlags_HorizontalScrollbar);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 origin = ImGui::GetCursorScreenPos();  // scrolled already
    const ImVec2 win_min = ImGui::GetWindowPos(), win_size = ImGui::GetWindowSize();
    // Only the cells in view.
    const int c0 = std::max(0, static_cast<int>((win_min.x - origin.x) / cell));
    const int c1 = std::min(cols - 1, static_cast<int>((win_min.x + win_size.x - origin.x) / cell));
    const int r0 = std::max(0, static_cast<int>((win_min.y - origin.y) / cell));
    const int r1 = std::min(rows - 1, static_cast<int>((win_min.y + win_size.y - origin.y) / cell));
    const float gap = cell >= 10 ? 1.0f : 0.0f;
    for (int r = r0; r <= r1; ++r)
        for (int c = c0; c <= c1; ++c) {
            const ImVec2 a(origin.x + c * cell, origin.y + r * cell);
            dl->AddRectFilled(a, ImVec2(a.x + cell - gap, a.y + cell - gap), diverging_color(M(r, c), vmax));
        }
    if (pv.weight_cell_row >= 0 && pv.weight_cell_row < rows && pv.weight_cell_col >= 0 && pv.weight_cell_col < cols) {
        const ImVec2 a(origin.x + pv.weight_cell_col * cell, origin.y + pv.weight_cell_row * cell);
        dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(a.x + cell + 1, a.y + cell + 1), IM_COL32(255, 220, 60, 255), 0, 0, 2.0f);
    }
    ImGui::InvisibleButton("cells", ImVec2(cell * static_cast<float>(cols), cell * static_cast<float>(rows)));
    if (ImGui::IsItemHovered()) {
        const ImVec2 mp = ImGui::GetIO().MousePos;
        const int c = static_cast<int>((mp.x - origin.x) / cell), r = static_cast<int>((mp.y - origin.y) / cell);
        if (r >= 0 && r < rows && c >= 0 && c < cols) {
            ImGui::SetTooltip("%s = %.7g\nclick to edit", cell_name(w, head, r, c).c_str(), static_cast<double>(M(r, c)));
            if (ImGui::IsItemClicked(ImGuiMouseButton_Left)) {
                pv.weight_cell_row = r;
                pv.weight_cell_col = c;
            }
        }
    }
    ImGui::EndChild();
    if (pv.weight_cell_row >= 0 && pv.weight_cell_row < rows && pv.weight_cell_col >= 0 && pv.weight_cell_col < cols) {
        const int r = pv.weight_cell_row, c = pv.weight_cell_col;
        ImGui::Text("%s", cell_name(w, head, r, c).c_str());
        ImGui::SameLine();
        float v = M(r, c);
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 11);
        if (ImGui::InputFloat("##cell", &v, 0.01f, 0.1f, "%.6g", ImGuiInputTextFlags_EnterReturnsTrue)) edit_weight_cell(app, w, head, r, c, v);
    } else {
        ImGui::TextDisabled("click a cell to edit it");
    }
}

}  // namespace

const char* weight_matrix_name(WeightMatrix w) {
    switch (w) {
        case WeightMatrix::Query: return "W_Q";
        case WeightMatrix::Key: return "W_K";
        case WeightMatrix::Value: return "W_V";
        case WeightMatrix::Output: return "W_O";
    }
    return "";
}

const Mat& weight_matrix(const AppState& app, WeightMatrix w, int head) {
    if (w == WeightMatrix::Output) return app.scene.W_O;
    head = std::clamp(head, 0, app.scene.n_heads - 1);
    return app.scene.heads[static_cast<std::size_t>(head)].W[static_cast<std::size_t>(w)];
}

bool edit_weight_cell(AppState& app, WeightMatrix w, int head, int row, int col, float value, bool continuing) {
    if (!std::isfinite(value)) {
        app.set_error(cell_name(w, head, row, col) + ": refused " + (std::isnan(value) ? "NaN" : "infinity") +
                      " (weights must be finite numbers)");
        return false;
    }
    // The steps of one drag share a key, so the history makes them one undo step.
    if (!continuing) app.history.break_coalescing();
    return app.edit(cell_name(w, head, row, col), [&](Scene& s) {
        if (w == WeightMatrix::Output) set_output_weight(s, row, col, value);
        else set_weight(s, head, projection_of(w), row, col, value);
    });
}

bool apply_weight_action(AppState& app, WeightMatrix w, int head, WeightAction a, float k, std::uint64_t seed) {
    const std::string name = w == WeightMatrix::Output ? "W_O" : "heads[" + std::to_string(head) + "]." + weight_matrix_name(w);
    if (w != WeightMatrix::Output && (head < 0 || head >= app.scene.n_heads)) {
        app.set_error(name + ": no head " + std::to_string(head) + " (the scene has " + std::to_string(app.scene.n_heads) + ")");
        return false;
    }
    if (a == WeightAction::Scale && !std::isfinite(k)) {
        app.set_error(name + ": refused scale factor " + (std::isnan(k) ? "NaN" : "infinity") + " (must be a finite number)");
        return false;
    }
    const Mat& cur = weight_matrix(app, w, head);
    const Eigen::Index rows = cur.rows(), cols = cur.cols();
    Mat next;  // (rows, cols)
    switch (a) {
        case WeightAction::Randomize:
            next = w == WeightMatrix::Output ? drawn_output(seed, static_cast<int>(rows), app.scene.d_model)
                                             : drawn_projection(seed, head, projection_of(w), app.scene.d_model, app.scene.d_head);
            break;
        case WeightAction::Zero: next = Mat::Zero(rows, cols); break;
        case WeightAction::IdentityLike: next = Mat::Identity(rows, cols); break;
        case WeightAction::Scale: next = cur * k; break;
    }
    return app.edit([&](Scene& s) {
        if (w == WeightMatrix::Output) set_output_matrix(s, next);
        else set_weight_matrix(s, head, projection_of(w), next);
    });
}

// The panel's contents, inside its window.
static void weights_panel_contents(AppState& app) {
    PlotsView& pv = app.plots;
    app.clamp_selection();
    // ---- which matrix ----
    int which = static_cast<int>(pv.weight_matrix);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 4.5f);
    ImGui::Combo("##matrix", &which, "W_Q\0W_K\0W_V\0W_O\0");
    pv.weight_matrix = static_cast<WeightMatrix>(std::clamp(which, 0, 3));
    const WeightMatrix w = pv.weight_matrix;
    if (w != WeightMatrix::Output) {
        ImGui::SameLine();
        int head = app.sel.head;
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
        if (ImGui::SliderInt("head", &head, 0, app.scene.n_heads - 1)) app.sel.head = std::clamp(head, 0, app.scene.n_heads - 1);
    }
    const int head = app.sel.head;
    {
        const Mat& M = weight_matrix(app, w, head);
        char shape[96];
        std::snprintf(shape, sizeof shape, w == WeightMatrix::Output ? "(%d x %d) = (n_heads*d_head, d_model)" : "(%d x %d) = (d_model, d_head)",
                      static_cast<int>(M.rows()), static_cast<int>(M.cols()));
        same_line_if_fits(ImGui::CalcTextSize(shape).x);
        ImGui::TextDisabled("%s", shape);
    }

    // ---- whole-matrix actions ----
    if (ImGui::Button("Randomize")) apply_weight_action(app, w, head, WeightAction::Randomize, 1.0f, static_cast<std::uint64_t>(pv.weight_seed));
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
    ImGui::InputInt("seed", &pv.weight_seed);
    pv.weight_seed = std::max(0, pv.weight_seed);
    same_line_if_fits(ImGui::CalcTextSize("Zero").x + 2 * ImGui::GetStyle().FramePadding.x);
    const bool zero = ImGui::Button("Zero");
    MarkItem(app, "weights.zero");
    if (zero) apply_weight_action(app, w, head, WeightAction::Zero);
    same_line_if_fits(ImGui::CalcTextSize("Identity-like").x + 2 * ImGui::GetStyle().FramePadding.x);
    if (ImGui::Button("Identity-like")) apply_weight_action(app, w, head, WeightAction::IdentityLike);
    same_line_if_fits(ImGui::CalcTextSize("Scale x").x + 2 * ImGui::GetStyle().FramePadding.x);
    if (ImGui::Button("Scale x")) apply_weight_action(app, w, head, WeightAction::Scale, pv.weight_scale);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 4);
    ImGui::DragFloat("##k", &pv.weight_scale, 0.01f, -100.0f, 100.0f, "%.2f");
    if (!std::isfinite(pv.weight_scale)) pv.weight_scale = 1.0f;

    // ---- the numbers ----
    const Mat& M = weight_matrix(app, w, head);
    const float vmax = M.size() > 0 ? std::max(M.cwiseAbs().maxCoeff(), 1e-6f) : 1.0f;
    ImGui::TextDisabled("colour: blue < 0 < red, |max| %.3g", static_cast<double>(vmax));
    if (M.rows() <= 24 && M.cols() <= 12) draw_small_grid(app, w, head, M, vmax);
    else draw_large_map(app, w, head, M, vmax);
}

void DrawWeightsPanel(AppState& app) {
    SetNextPanelLayout(kWeightsWindow);
    // the editor needs only the weights: it works in long mode too
    if (ImGui::Begin(kWeightsWindow, &app.show_weights) && !HandMadeOnlyNotice(app, "The weights editor")) weights_panel_contents(app);
    ImGui::End();
}

}  // namespace attnviz::app
