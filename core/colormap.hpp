// attnviz core — the one colormap definition: a few key colours per map, expanded into a 256-entry
// lookup table (ImPlot's way). The SVG figures, the PNG exports and the window's GL lookup
// textures (app/gfx uploads colormap_lut as a 256×1 texture) all read these colours; the CPU side
// also uses them for colour bars and for picking black or white text on a cell.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace attnviz {

enum class Colormap { Viridis, Magma, Cividis, Diverging, Gray, Count };
const char* colormap_name(Colormap c);                        // "viridis", "diverging", …
bool colormap_from_name(const std::string& s, Colormap& out);

using Rgba8 = std::array<std::uint8_t, 4>;
using ColormapLut = std::array<Rgba8, 256>;  // entry 0: the lowest value's colour, 255: the highest

// The colour at t in [0, 1] (clamped; NaN → 0), linearly interpolated between the key colours.
std::array<std::uint8_t, 3> colormap_rgb(Colormap c, float t);
// The lookup table: entry i is colormap_rgb(c, i / 255).
ColormapLut colormap_lut(Colormap c);
// The colour of t in [0, 1] (clamped), from the table.
Rgba8 lut_color(const ColormapLut& lut, float t);
// Relative luminance (0..1) of an sRGB colour.
float luminance(const Rgba8& c);
// Text on a cell of this colour: black (true) on light colours (luminance above 0.3), else white.
// The one black-or-white picker of every view (heatmap, weight grids, presentation, SVG).
bool dark_text_on(const Rgba8& c);

}  // namespace attnviz
