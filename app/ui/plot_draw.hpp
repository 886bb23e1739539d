// attnviz app — small drawing helpers shared by the plot panels (ImDrawList: points, arrows,
// text, colour strips). Only for O(n) items; matrices past ~64² belong to the heatmap widget.
#pragma once

#include <imgui.h>

#include <string>
#include <vector>

#include "colormap.hpp"
#include "explain.hpp"  // format_vector, format_number, format_count: how numbers are written
#include "plots_view.hpp"

namespace attnviz::app {

// A frame that shows the data box [lo, hi] (both axes, equal scale) inside the screen rectangle
// [a, b] with `pad` pixels to spare.
PlotFrame fit_frame(ImVec2 a, ImVec2 b, float lo_x, float lo_y, float hi_x, float hi_y, float pad);
inline ImVec2 to_screen(const PlotFrame& f, float x, float y) { return ImVec2(f.to_x(x), f.to_y(y)); }

// Bounding box of the rows of an (N, 2) matrix, grown into [lo, hi].
void grow_box(const Mat& pts, float& lo_x, float& lo_y, float& hi_x, float& hi_y);

// The distinct colour of head h (cycled), with alpha.
ImU32 head_color(int h, float alpha = 1.0f);
// Diverging blue–white–red for v in [−vmax, vmax].
ImU32 diverging_color(float v, float vmax);
// Black or white text for a background colour.
ImU32 text_color_on(ImU32 bg);

void draw_arrow(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float thickness, float head = 8.0f);
// A row of coloured cells, one per value, [v0 … v_{count−1}] on a shared ±vmax scale; numbers
// inside when the cells are wide enough. Returns the hovered index (−1 when none).
int draw_strip(ImDrawList* dl, ImVec2 pos, const float* values, int count, float cell_w, float cell_h, float vmax,
               bool numbers);

// Greedy label placement: tries right, upper right, lower right and left of a point; a label that
// would overlap one already placed moves to the next spot, or is dropped unless `must`.
struct LabelPlacer {
    std::vector<ImVec4> placed;  // (x0, y0, x1, y1)
    bool place(ImDrawList* dl, ImVec2 point, const char* text, ImU32 col, bool must, float gap = 7.0f);
};

// Flow layout for rows of controls: SameLine() only when an item `width` wide still fits.
void same_line_if_fits(float width);
// Text wrapped at spaces only, into the space left on the line (ImGui's TextWrapped breaks after
// '.' and ',' — inside numbers such as 0.3481 or 1,572,864).
void TextWords(const std::string& text);
float checkbox_width(const char* label);                  // also radio buttons
float labelled_width(float item_width, const char* label); // a slider/input with its label

// "Δ" when the current font has the glyph, else "d" (default glyph ranges are Latin-1 only).
const char* delta_symbol();

}  // namespace attnviz::app
