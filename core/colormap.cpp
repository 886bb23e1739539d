// attnviz core — colormaps (see colormap.hpp). Key colours from matplotlib's published maps,
// sampled at 9 evenly spaced points; the diverging map is ColorBrewer RdBu (blue < 0 < red).
#include "colormap.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace attnviz {
namespace {
using Rgb = std::array<std::uint8_t, 3>;
const std::vector<Rgb> kViridis = {{0x44, 0x01, 0x54}, {0x47, 0x2d, 0x7b}, {0x3b, 0x52, 0x8b},
                                   {0x2c, 0x72, 0x8e}, {0x21, 0x91, 0x8c}, {0x28, 0xae, 0x80},
                                   {0x5e, 0xc9, 0x62}, {0xad, 0xdc, 0x30}, {0xfd, 0xe7, 0x25}};
const std::vector<Rgb> kMagma = {{0x00, 0x00, 0x04}, {0x1c, 0x10, 0x44}, {0x4f, 0x12, 0x7b},
                                 {0x81, 0x25, 0x81}, {0xb5, 0x36, 0x7a}, {0xe5, 0x50, 0x64},
                                 {0xfb, 0x87, 0x61}, {0xfe, 0xc2, 0x87}, {0xfc, 0xfd, 0xbf}};
const std::vector<Rgb> kCividis = {{0x00, 0x22, 0x4e}, {0x12, 0x35, 0x70}, {0x3b, 0x49, 0x6c},
                                   {0x57, 0x5d, 0x6d}, {0x70, 0x71, 0x73}, {0x8a, 0x87, 0x79},
                                   {0xa6, 0x9d, 0x75}, {0xc4, 0xb5, 0x6c}, {0xfe, 0xe8, 0x38}};
const std::vector<Rgb> kDiverging = {{0x21, 0x66, 0xac}, {0x67, 0xa9, 0xcf}, {0xd1, 0xe5, 0xf0},
                                     {0xf7, 0xf7, 0xf7}, {0xfd, 0xdb, 0xc7}, {0xef, 0x8a, 0x62},
                                     {0xb2, 0x18, 0x2b}};
const std::vector<Rgb> kGray = {{0, 0, 0}, {255, 255, 255}};

const std::vector<Rgb>& keys(Colormap c) {
    switch (c) {
        case Colormap::Magma: return kMagma;
        case Colormap::Cividis: return kCividis;
        case Colormap::Diverging: return kDiverging;
        case Colormap::Gray: return kGray;
        default: return kViridis;
    }
}
}  // namespace

const char* colormap_name(Colormap c) {
    switch (c) {
        case Colormap::Viridis: return "viridis";
        case Colormap::Magma: return "magma";
        case Colormap::Cividis: return "cividis";
        case Colormap::Diverging: return "diverging";
        case Colormap::Gray: return "gray";
        default: return "viridis";
    }
}

bool colormap_from_name(const std::string& s, Colormap& out) {
    for (int c = 0; c < static_cast<int>(Colormap::Count); ++c)
        if (s == colormap_name(static_cast<Colormap>(c))) {
            out = static_cast<Colormap>(c);
            return true;
        }
    return false;
}

std::array<std::uint8_t, 3> colormap_rgb(Colormap c, float t) {
    if (!(t >= 0.0f)) t = 0.0f;  // NaN → 0
    if (t > 1.0f) t = 1.0f;
    const auto& k = keys(c);
    const int segments = static_cast<int>(k.size()) - 1;
    const float x = t * static_cast<float>(segments);
    const int s = std::min(static_cast<int>(x), segments - 1);
    const float f = x - static_cast<float>(s);
    Rgb out{};
    for (std::size_t ch = 0; ch < 3; ++ch) {
        const float a = k[static_cast<std::size_t>(s)][ch], b = k[static_cast<std::size_t>(s) + 1][ch];
        out[ch] = static_cast<std::uint8_t>(std::lround(a + (b - a) * f));
    }
    return out;
}

ColormapLut colormap_lut(Colormap c) {
    ColormapLut lut{};
    for (int i = 0; i < 256; ++i) {
        const Rgb rgb = colormap_rgb(c, static_cast<float>(i) / 255.0f);
        lut[static_cast<std::size_t>(i)] = {rgb[0], rgb[1], rgb[2], 255};
    }
    return lut;
}

Rgba8 lut_color(const ColormapLut& lut, float t) {
    if (!(t >= 0.0f)) t = 0.0f;
    if (t > 1.0f) t = 1.0f;
    return lut[static_cast<std::size_t>(std::lround(t * 255.0f))];
}

float luminance(const Rgba8& c) {
    auto lin = [](std::uint8_t v) {
        const float s = static_cast<float>(v) / 255.0f;
        return s <= 0.04045f ? s / 12.92f : std::pow((s + 0.055f) / 1.055f, 2.4f);
    };
    return 0.2126f * lin(c[0]) + 0.7152f * lin(c[1]) + 0.0722f * lin(c[2]);
}

bool dark_text_on(const Rgba8& c) { return luminance(c) > 0.3f; }

}  // namespace attnviz
