// attnviz gfx — the heatmap's colour pass: one full-screen quad into the widget's framebuffer that
// samples the values (a pooled base block and an exact detail block, R32F textures) and colours
// them through a colormap lookup texture (shaders/heatmap.{vert,frag}.glsl). The program and the
// lookup textures are shared by every heatmap.
#pragma once

#include "gl.hpp"

namespace attnviz::gl {

// A block of values as a texture: where it sits in cells and its texture's size. texture 0: none.
struct HeatmapPassBlock {
    unsigned texture = 0;
    float c0 = 0, r0 = 0, cols = 0, rows = 0;  // cells covered (column, row of its top-left; size)
    float tex_cols = 1, tex_rows = 1;          // texels
};

// Compiles the program and makes the lookup textures on first use; false when the program failed.
bool heatmap_pass_ready();
// Draws the view (x0, y0, x1, y1 in cells) of the blocks into `fb` with colormap `colormap`
// (core/colormap.hpp's Colormap as int) over [lo, hi]. Restores the GL state it changes.
void heatmap_pass(const Framebuffer& fb, const float view[4], const HeatmapPassBlock& base, const HeatmapPassBlock& detail,
                  int colormap, float lo, float hi, bool log_scale = false);
// Frees the shared program and textures (before the context goes).
void heatmap_pass_release();

}  // namespace attnviz::gl
