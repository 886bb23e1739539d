// attnviz core — a figure (core/figure.hpp FigureDrawing) drawn into pixels, and PNG.
//
// The same drawing the SVG writer consumes — rectangles (solid, hatched, colour-bar gradient,
// outlined), lines (with arrow heads), circles and texts (any angle) — painted in order into an
// RGBA buffer: shapes with anti-aliased edges, cells pixel-exact (a cell's centre pixel is exactly
// its colour-map colour), text with stb_truetype from DejaVu Sans (found at run time; CJK and
// symbols from Noto Sans CJK and Symbola when those are installed). PNG bytes by stb_image_write,
// in memory (callers write them with core/file_io's atomic write).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "figure.hpp"

namespace attnviz {

struct RasterImage {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgba;  // (height, width, 4) top row first, opaque
};

// Pixels per figure unit: 2 draws a 640-unit-wide figure 1280 pixels wide (sharp on slides).
inline constexpr double kDefaultFigureScale = 2.0;
// The largest image drawn (pixels); larger throws SceneError("figure", …) naming the size.
inline constexpr std::int64_t kMaxRasterPixels = 16384LL * 16384LL;

// The image is ceil(width·scale) × ceil(height·scale). Throws SceneError("scale", …) for a scale
// outside 0.1..16, SceneError("figure", …) when too large, SceneError("font", …) when the drawing
// has text and no DejaVu Sans is installed (Debian package fonts-dejavu-core).
RasterImage rasterize_drawing(const FigureDrawing& d, double scale = kDefaultFigureScale);
// PNG file bytes of an image (stb_image_write, in memory).
std::string encode_png(const RasterImage& img);
// encode_png(rasterize_drawing(d, scale)).
std::string drawing_png(const FigureDrawing& d, double scale = kDefaultFigureScale);

// Which files write_figures writes.
struct FigureFormats {
    bool svg = true, png = false;
    double png_scale = kDefaultFigureScale;
};
// Every figure of one computed scene `s` (f = forward(s); figure.hpp's scene_figures) into the
// folder `out_dir` as <stem>_<what>.svg / .png, each written atomically: what `attnviz figures`
// writes per scene and what the window's Export menu writes. Returns the number of files; throws
// SceneError or FileError.
int write_figures(const Scene& s, const Forward& f, const std::string& stem, const std::string& out_dir, Colormap cmap,
                  const FigureFormats& formats = {});

// The font file the figures' text is drawn with ("" when none is installed).
std::string figure_font_path();

}  // namespace attnviz
