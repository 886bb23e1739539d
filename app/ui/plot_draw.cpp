#include "plot_draw.hpp"
#include "text.hpp"

#include <algorithm>
#include <cmath>
#include <cfloat>
#include <cstdio>

namespace attnviz::app {

PlotFrame fit_frame(ImVec2 a, ImVec2 b, float lo_x, float lo_y, float hi_x, float hi_y, float pad) {
    PlotFrame f;
    f.valid = true;
    f.x0 = a.x;
    f.y0 = a.y;
    f.x1 = b.x;
    f.y1 = b.y;
    if (!(lo_x <= hi_x)) lo_x = hi_x = 0;
    if (!(lo_y <= hi_y)) lo_y = hi_y = 0;
    f.cx = 0.5f * (lo_x + hi_x);
    f.cy = 0.5f * (lo_y + hi_y);
    const float w = std::max(1.0f, b.x - a.x - 2 * pad), h = std::max(1.0f, b.y - a.y - 2 * pad);
    const float dx = std::max(hi_x - lo_x, 1e-6f), dy = std::max(hi_y - lo_y, 1e-6f);
    f.scale = std::min(w / dx, h / dy);
    if (!std::isfinite(f.scale) || f.scale <= 0) f.scale = 1;
    return f;
}

void grow_box(const Mat& pts, float& lo_x, float& lo_y, float& hi_x, float& hi_y) {
    for (Eigen::Index r = 0; r < pts.rows(); ++r) {
        const float x = pts(r, 0), y = pts(r, 1);
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        lo_x = std::min(lo_x, x);
        hi_x = std::max(hi_x, x);
        lo_y = std::min(lo_y, y);
        hi_y = std::max(hi_y, y);
    }
}

ImU32 head_color(int h, float alpha) {
    // Tableau-like categorical colours that read on a dark background.
    static constexpr unsigned char kColors[][3] = {{255, 127, 14}, {44, 160, 222}, {80, 200, 80},  {230, 70, 70},
                                                   {170, 120, 230}, {200, 150, 110}, {240, 120, 200}, {190, 190, 60},
                                                   {60, 210, 200}, {160, 160, 160}};
    const auto& c = kColors[static_cast<unsigned>(h) % (sizeof kColors / sizeof kColors[0])];
    return IM_COL32(c[0], c[1], c[2], static_cast<int>(std::clamp(alpha, 0.0f, 1.0f) * 255.0f));
}

ImU32 diverging_color(float v, float vmax) {
    if (!std::isfinite(v)) return IM_COL32(128, 128, 128, 255);
    const float t = vmax > 0 ? std::clamp(v / vmax, -1.0f, 1.0f) : 0.0f;
    // the colormaps' diverging map (blue < 0 < red, white at 0), the heatmaps' one
    static const ColormapLut lut = colormap_lut(Colormap::Diverging);
    const Rgba8 c = lut_color(lut, 0.5f * (t + 1.0f));
    return IM_COL32(c[0], c[1], c[2], 255);
}

ImU32 text_color_on(ImU32 bg) {
    const Rgba8 c = {static_cast<std::uint8_t>((bg >> IM_COL32_R_SHIFT) & 0xFF), static_cast<std::uint8_t>((bg >> IM_COL32_G_SHIFT) & 0xFF),
                     static_cast<std::uint8_t>((bg >> IM_COL32_B_SHIFT) & 0xFF), 255};
    return dark_text_on(c) ? IM_COL32(0, 0, 0, 255) : IM_COL32(255, 255, 255, 255);
}

void draw_arrow(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float thickness, float head) {
    const float dx = b.x - a.x, dy = b.y - a.y;
    const float len = std::sqrt(dx * dx + dy * dy);
    if (len < 0.5f) return;
    const float ux = dx / len, uy = dy / len;
    if (head <= 0) {
        dl->AddLine(a, b, col, thickness);
        return;
    }
    const float hl = std::min(head, 0.6f * len), hw = 0.5f * hl;
    const ImVec2 base(b.x - ux * hl, b.y - uy * hl);
    dl->AddLine(a, base, col, thickness);
    dl->AddTriangleFilled(b, ImVec2(base.x - uy * hw, base.y + ux * hw), ImVec2(base.x + uy * hw, base.y - ux * hw), col);
}

int draw_strip(ImDrawList* dl, ImVec2 pos, const float* values, int count, float cell_w, float cell_h, float vmax,
               bool numbers) {
    int hovered = -1;
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    char buf[32];
    for (int k = 0; k < count; ++k) {
        const ImVec2 a(pos.x + k * cell_w, pos.y), b(pos.x + (k + 1) * cell_w, pos.y + cell_h);
        const ImU32 bg = diverging_color(values[k], vmax);
        dl->AddRectFilled(a, ImVec2(b.x - (cell_w > 4 ? 1.0f : 0.0f), b.y), bg);
        if (numbers) {
            std::snprintf(buf, sizeof buf, "%.2f", values[k]);
            const ImVec2 ts = ImGui::CalcTextSize(buf);
            if (ts.x + 2 <= cell_w)
                dl->AddText(ImVec2(a.x + 0.5f * (cell_w - ts.x), a.y + 0.5f * (cell_h - ts.y)), text_color_on(bg), buf);
        }
        if (ImGui::IsWindowHovered() && mouse.x >= a.x && mouse.x < b.x && mouse.y >= a.y && mouse.y < b.y) hovered = k;
    }
    return hovered;
}

bool LabelPlacer::place(ImDrawList* dl, ImVec2 point, const char* text, ImU32 col, bool must, float gap) {
    const ImVec2 ts = ImGui::CalcTextSize(text);
    const ImVec2 spots[] = {{point.x + gap, point.y - 0.5f * ts.y},
                            {point.x + gap * 0.6f, point.y - ts.y - gap * 0.4f},
                            {point.x + gap * 0.6f, point.y + gap * 0.4f},
                            {point.x - gap - ts.x, point.y - 0.5f * ts.y}};
    for (const ImVec2& p : spots) {
        const ImVec4 r(p.x, p.y, p.x + ts.x, p.y + ts.y);
        bool free = true;
        for (const ImVec4& q : placed)
            if (r.x < q.z && q.x < r.z && r.y < q.w && q.y < r.w) {
                free = false;
                break;
            }
        if (free) {
            placed.push_back(r);
            dl->AddText(p, col, text);
            return true;
        }
    }
    if (!must) return false;
    placed.emplace_back(spots[0].x, spots[0].y, spots[0].x + ts.x, spots[0].y + ts.y);
    dl->AddText(spots[0], col, text);
    return true;
}

void same_line_if_fits(float width) {
    const ImGuiStyle& style = ImGui::GetStyle();
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    if (ImGui::GetItemRectMax().x + style.ItemSpacing.x + width <= right) ImGui::SameLine();
}

float checkbox_width(const char* label) {
    return ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(label, nullptr, true).x;
}

float labelled_width(float item_width, const char* label) {
    return item_width + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(label, nullptr, true).x;
}

const char* delta_symbol() {
    const ImFont* font = ImGui::GetFont();
    return font && font->FindGlyphNoFallback(0x0394) ? "\xce\x94" : "d";
}

void TextWords(const std::string& text) {
    const float width = std::max(ImGui::GetContentRegionAvail().x, ImGui::GetFontSize() * 4.0f);
    const float px = ImGui::GetFontSize();
    ImFont* font = ImGui::GetFont();
    for (const std::string& line : wrap_words(text, width / px, [&](std::string_view t) {
             return font->CalcTextSizeA(px, FLT_MAX, 0.0f, t.data(), t.data() + t.size()).x / px;
         }))
        ImGui::TextUnformatted(line.c_str());
}

}  // namespace attnviz::app
