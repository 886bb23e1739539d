// attnviz app — colormaps: a few key colours expanded once into a 256-entry lookup table
// (ImPlot's way). The GPU samples the same table as a 256x1 texture, the CPU uses it for the
// colour bar and for picking black or white text on a cell.
#pragma once

#include <array>
#include <cstdint>

namespace attnviz::app {

enum class Colormap { Viridis, Magma, Cividis, Diverging, Count };
const char* colormap_name(Colormap c);

using Rgba8 = std::array<std::uint8_t, 4>;
using Lut = std::array<Rgba8, 256>;

// The LUT: entry 0 is the lowest value's colour, entry 255 the highest.
Lut make_lut(Colormap c);
// The colour of t in [0, 1] (clamped), from the LUT.
Rgba8 lut_color(const Lut& lut, float t);
// Relative luminance (0..1) of an sRGB colour: text on it is black above ~0.45, else white.
float luminance(const Rgba8& c);

}  // namespace attnviz::app
