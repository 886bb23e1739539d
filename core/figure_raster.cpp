// attnviz core — FigureDrawing → RGBA pixels → PNG (see figure_raster.hpp).
//
// [SECTION] fonts (stb_truetype, found at run time)
// [SECTION] the canvas: blending, rectangles, lines, arrow heads, circles
// [SECTION] text: a string drawn once into a coverage bitmap, then placed at any angle
// [SECTION] rasterize_drawing, PNG
#include "figure_raster.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

#include "file_io.hpp"    // read_regular_file (fonts)
#include "scene_io.hpp"   // write_file_atomic
#include "tokenizer.hpp"  // sanitize_utf8

#define STBTT_STATIC
#define STB_TRUETYPE_IMPLEMENTATION
#include <stb_truetype.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace attnviz {
namespace {

// ---- [SECTION] fonts ----
struct Font {
    std::string path;
    std::string bytes;
    stbtt_fontinfo info{};
    bool ok = false;
    bool tried = false;
};

// The text font (DejaVu Sans, or $ATTNVIZ_FIGURE_FONT) and the fallbacks for characters it lacks,
// each loaded on first use.
class FontSet {
public:
    FontSet() {
        const char* env = std::getenv("ATTNVIZ_FIGURE_FONT");
        if (env && *env) add(env);
        add("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        add("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc");
        add("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf");
    }
    // The first font with a glyph for `cp`; else the first usable font (its missing-glyph box).
    const Font* pick(char32_t cp) {
        std::lock_guard<std::mutex> lock(mutex_);
        const Font* first = nullptr;
        for (auto& f : fonts_) {
            load(*f);
            if (!f->ok) continue;
            if (!first) first = f.get();
            if (stbtt_FindGlyphIndex(&f->info, static_cast<int>(cp)) != 0) return f.get();
        }
        return first;
    }
    std::string primary_path() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& f : fonts_) {
            load(*f);
            if (f->ok) return f->path;
        }
        return {};
    }

private:
    void add(const std::string& path) {
        auto f = std::make_unique<Font>();
        f->path = path;
        fonts_.push_back(std::move(f));
    }
    static void load(Font& f) {
        if (f.tried) return;
        f.tried = true;
        try {
            f.bytes = read_regular_file(f.path, std::size_t(64) << 20);
        } catch (const FileError&) {
            return;  // not installed: the next font
        }
        const auto* data = reinterpret_cast<const unsigned char*>(f.bytes.data());
        const int offset = stbtt_GetFontOffsetForIndex(data, 0);  // a .ttc: its first face
        f.ok = offset >= 0 && stbtt_InitFont(&f.info, data, offset) != 0;
    }
    std::mutex mutex_;
    std::vector<std::unique_ptr<Font>> fonts_;
};

FontSet& font_set() {
    static FontSet fonts;  // loaded once per process, shared by every figure (guarded inside)
    return fonts;
}

// ---- [SECTION] the canvas ----
struct Canvas {
    int W = 0, H = 0;
    double scale = 1;
    std::vector<std::uint8_t> px;  // (H, W, 4)

    void blend(int x, int y, Rgba8 c, double coverage) {
        if (x < 0 || y < 0 || x >= W || y >= H || coverage <= 0) return;
        const double a = std::min(coverage, 1.0) * c[3] / 255.0;
        std::uint8_t* p = &px[(static_cast<std::size_t>(y) * W + x) * 4];
        if (a >= 1.0) {
            p[0] = c[0]; p[1] = c[1]; p[2] = c[2];
            return;
        }
        for (int k = 0; k < 3; ++k) p[k] = static_cast<std::uint8_t>(std::lround(p[k] * (1 - a) + c[k] * a));
    }

    // Axis-aligned box in pixels, edge pixels covered by their share; colour per pixel centre
    // (in figure units).
    template <class ColorAt>
    void fill_box(double x0, double y0, double x1, double y1, ColorAt color_at) {
        if (!(x1 > x0 && y1 > y0)) return;
        const int ix0 = std::max(0, static_cast<int>(std::floor(x0))), ix1 = std::min(W, static_cast<int>(std::ceil(x1)));
        const int iy0 = std::max(0, static_cast<int>(std::floor(y0))), iy1 = std::min(H, static_cast<int>(std::ceil(y1)));
        for (int y = iy0; y < iy1; ++y) {
            const double cy = std::min<double>(y + 1, y1) - std::max<double>(y, y0);
            for (int x = ix0; x < ix1; ++x) {
                const double cx = std::min<double>(x + 1, x1) - std::max<double>(x, x0);
                blend(x, y, color_at((x + 0.5) / scale, (y + 0.5) / scale), cx * cy);
            }
        }
    }

    // A straight line with butt ends, `width` pixels wide.
    void line(double ax, double ay, double bx, double by, double width, Rgba8 c) {
        const double dx = bx - ax, dy = by - ay, len = std::hypot(dx, dy);
        if (len <= 0) return;
        const double ux = dx / len, uy = dy / len, hw = width / 2;
        const int x0 = static_cast<int>(std::floor(std::min(ax, bx) - hw - 1)), x1 = static_cast<int>(std::ceil(std::max(ax, bx) + hw + 1));
        const int y0 = static_cast<int>(std::floor(std::min(ay, by) - hw - 1)), y1 = static_cast<int>(std::ceil(std::max(ay, by) + hw + 1));
        for (int y = std::max(0, y0); y < std::min(H, y1); ++y)
            for (int x = std::max(0, x0); x < std::min(W, x1); ++x) {
                const double px_ = x + 0.5 - ax, py_ = y + 0.5 - ay;
                const double along = px_ * ux + py_ * uy, across = std::abs(-px_ * uy + py_ * ux);
                const double cov = std::clamp(hw + 0.5 - across, 0.0, 1.0) * std::clamp(std::min(along, len - along) + 0.5, 0.0, 1.0);
                blend(x, y, c, cov);
            }
    }

    // A filled triangle, 4 × 4 samples a pixel.
    void triangle(const double (&p)[3][2], Rgba8 c) {
        auto edge = [](const double* a, const double* b, double x, double y) { return (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]); };
        const double area = edge(p[0], p[1], p[2][0], p[2][1]);
        if (area == 0) return;
        const int x0 = static_cast<int>(std::floor(std::min({p[0][0], p[1][0], p[2][0]}))), x1 = static_cast<int>(std::ceil(std::max({p[0][0], p[1][0], p[2][0]})));
        const int y0 = static_cast<int>(std::floor(std::min({p[0][1], p[1][1], p[2][1]}))), y1 = static_cast<int>(std::ceil(std::max({p[0][1], p[1][1], p[2][1]})));
        for (int y = std::max(0, y0); y < std::min(H, y1); ++y)
            for (int x = std::max(0, x0); x < std::min(W, x1); ++x) {
                int inside = 0;
                for (int sy = 0; sy < 4; ++sy)
                    for (int sx = 0; sx < 4; ++sx) {
                        const double qx = x + (sx + 0.5) / 4, qy = y + (sy + 0.5) / 4;
                        const double e0 = edge(p[0], p[1], qx, qy), e1 = edge(p[1], p[2], qx, qy), e2 = edge(p[2], p[0], qx, qy);
                        if (area > 0 ? (e0 >= 0 && e1 >= 0 && e2 >= 0) : (e0 <= 0 && e1 <= 0 && e2 <= 0)) ++inside;
                    }
                blend(x, y, c, inside / 16.0);
            }
    }

    // A disc (fill) and/or a ring (stroke of `stroke_w` pixels centred on the radius).
    void circle(double cx, double cy, double r, const Rgba8* fill, const Rgba8* stroke, double stroke_w) {
        const double reach = r + (stroke ? stroke_w / 2 : 0) + 1;
        for (int y = std::max(0, static_cast<int>(std::floor(cy - reach))); y < std::min(H, static_cast<int>(std::ceil(cy + reach))); ++y)
            for (int x = std::max(0, static_cast<int>(std::floor(cx - reach))); x < std::min(W, static_cast<int>(std::ceil(cx + reach))); ++x) {
                const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
                if (fill) blend(x, y, *fill, std::clamp(r - d + 0.5, 0.0, 1.0));
                if (stroke) blend(x, y, *stroke, std::clamp(stroke_w / 2 + 0.5 - std::abs(d - r), 0.0, 1.0));
            }
    }
};

// ---- [SECTION] text ----
char32_t next_codepoint(const std::string& s, std::size_t& i) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t c = len == 1 ? b : (b & (0xFF >> (len + 1)));
    for (int k = 1; k < len && i + k < s.size(); ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += static_cast<std::size_t>(len);
    return c;
}

// One string drawn horizontally: coverage 0..255, the baseline at row `baseline`, the pen's
// advance `advance` pixels.
struct TextBitmap {
    int w = 0, h = 0, baseline = 0;
    double advance = 0;
    std::vector<std::uint8_t> alpha;
};

TextBitmap draw_text_bitmap(const std::string& text, double px) {
    const std::string clean = sanitize_utf8(text);
    struct Glyph {
        const Font* font;
        int glyph;
        float scale;
        double x;
    };
    std::vector<Glyph> glyphs;
    double pen = 0;
    for (std::size_t i = 0; i < clean.size();) {
        const char32_t cp = next_codepoint(clean, i);
        const Font* f = font_set().pick(cp);
        if (!f) throw SceneError("font", "no font to draw figure text: install fonts-dejavu-core (" +
                                             std::string("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf)"));
        const float sc = stbtt_ScaleForMappingEmToPixels(&f->info, static_cast<float>(px));
        const int g = stbtt_FindGlyphIndex(&f->info, static_cast<int>(cp));
        int adv = 0, lsb = 0;
        stbtt_GetGlyphHMetrics(&f->info, g, &adv, &lsb);
        glyphs.push_back({f, g, sc, pen});
        pen += adv * sc;
    }
    TextBitmap b;
    b.advance = pen;
    const int pad = static_cast<int>(std::ceil(px * 0.3)) + 2;
    b.baseline = static_cast<int>(std::ceil(px * 1.1)) + 2;
    b.h = b.baseline + static_cast<int>(std::ceil(px * 0.45)) + 2;
    b.w = static_cast<int>(std::ceil(pen)) + 2 * pad;
    b.alpha.assign(static_cast<std::size_t>(b.w) * b.h, 0);
    for (const Glyph& g : glyphs) {
        const float shift = static_cast<float>(g.x - std::floor(g.x));
        int x0, y0, x1, y1;
        stbtt_GetGlyphBitmapBoxSubpixel(&g.font->info, g.glyph, g.scale, g.scale, shift, 0, &x0, &y0, &x1, &y1);
        const int gw = x1 - x0, gh = y1 - y0;
        if (gw <= 0 || gh <= 0) continue;
        std::vector<unsigned char> tmp(static_cast<std::size_t>(gw) * gh);
        stbtt_MakeGlyphBitmapSubpixel(&g.font->info, tmp.data(), gw, gh, gw, g.scale, g.scale, shift, 0, g.glyph);
        const int ox = pad + static_cast<int>(std::floor(g.x)) + x0, oy = b.baseline + y0;
        for (int y = 0; y < gh; ++y)
            for (int x = 0; x < gw; ++x) {
                const int X = ox + x, Y = oy + y;
                if (X < 0 || Y < 0 || X >= b.w || Y >= b.h) continue;
                auto& a = b.alpha[static_cast<std::size_t>(Y) * b.w + X];
                a = static_cast<std::uint8_t>(std::min(255, a + tmp[static_cast<std::size_t>(y) * gw + x]));
            }
    }
    return b;
}

void draw_text(Canvas& cv, const FigureShape& s) {
    if (s.text.empty() || s.color[3] == 0) return;
    const double px = s.font_size * cv.scale;
    if (!(px >= 1)) return;
    const TextBitmap b = draw_text_bitmap(s.text, px);
    const int pad = static_cast<int>(std::ceil(px * 0.3)) + 2;
    const double shift = s.anchor == TextAnchor::Middle ? -b.advance / 2 : s.anchor == TextAnchor::End ? -b.advance : 0.0;
    // local (u, v): u along the text from the anchor, v down from the baseline. Bitmap pixel (c, r)
    // covers u ∈ [c − pad + shift, +1), v ∈ [r − baseline, +1).
    const double ox = s.x * cv.scale, oy = s.y * cv.scale;
    if (s.rotate == 0) {
        const int X0 = static_cast<int>(std::lround(ox + shift)) - pad, Y0 = static_cast<int>(std::lround(oy)) - b.baseline;
        for (int r = 0; r < b.h; ++r)
            for (int c = 0; c < b.w; ++c) {
                const std::uint8_t a = b.alpha[static_cast<std::size_t>(r) * b.w + c];
                if (a) cv.blend(X0 + c, Y0 + r, s.color, a / 255.0);
            }
        return;
    }
    const double th = s.rotate * M_PI / 180.0, cs = std::cos(th), sn = std::sin(th);
    // the rotated bitmap's bounding box on the canvas
    double bx0 = 1e300, by0 = 1e300, bx1 = -1e300, by1 = -1e300;
    for (int k = 0; k < 4; ++k) {
        const double u = (k & 1 ? b.w : 0) - pad + shift, v = (k & 2 ? b.h : 0) - b.baseline;
        const double X = ox + u * cs - v * sn, Y = oy + u * sn + v * cs;
        bx0 = std::min(bx0, X); bx1 = std::max(bx1, X); by0 = std::min(by0, Y); by1 = std::max(by1, Y);
    }
    auto at = [&](int c, int r) -> double {
        if (c < 0 || r < 0 || c >= b.w || r >= b.h) return 0.0;
        return b.alpha[static_cast<std::size_t>(r) * b.w + c] / 255.0;
    };
    for (int y = std::max(0, static_cast<int>(std::floor(by0))); y < std::min(cv.H, static_cast<int>(std::ceil(by1))); ++y)
        for (int x = std::max(0, static_cast<int>(std::floor(bx0))); x < std::min(cv.W, static_cast<int>(std::ceil(bx1))); ++x) {
            const double dx = x + 0.5 - ox, dy = y + 0.5 - oy;
            const double u = dx * cs + dy * sn, v = -dx * sn + dy * cs;  // the inverse rotation
            const double fc = u + pad - shift - 0.5, fr = v + b.baseline - 0.5;
            const int c0 = static_cast<int>(std::floor(fc)), r0 = static_cast<int>(std::floor(fr));
            const double tx = fc - c0, ty = fr - r0;
            const double a = (at(c0, r0) * (1 - tx) + at(c0 + 1, r0) * tx) * (1 - ty) + (at(c0, r0 + 1) * (1 - tx) + at(c0 + 1, r0 + 1) * tx) * ty;
            cv.blend(x, y, s.color, a);
        }
}

// ---- [SECTION] shapes ----
void draw_rect(Canvas& cv, const FigureDrawing& d, const FigureShape& s) {
    const double k = cv.scale;
    double x0 = s.x * k, y0 = s.y * k, x1 = (s.x + s.w) * k, y1 = (s.y + s.h) * k;
    if (s.crisp) {  // pixel-aligned: every pixel fully one cell's colour
        x0 = std::round(x0); y0 = std::round(y0); x1 = std::round(x1); y1 = std::round(y1);
    }
    switch (s.fill) {
        case FillKind::None: break;
        case FillKind::Solid: cv.fill_box(x0, y0, x1, y1, [&](double, double) { return s.color; }); break;
        case FillKind::Hatch:
            // SVG: a 6-unit tile rotated 45° with a 1-unit stripe along its left edge
            cv.fill_box(x0, y0, x1, y1, [&](double u, double v) {
                const double along = (u + v) * M_SQRT1_2;
                const double m = along - 6.0 * std::floor(along / 6.0);
                return m < 1.0 ? d.hatch_fg : d.hatch_bg;
            });
            break;
        case FillKind::Gradient:
            cv.fill_box(x0, y0, x1, y1, [&](double, double v) {
                const double t = s.h > 0 ? (s.y + s.h - v) / s.h : 0.5;
                const auto c = colormap_rgb(s.gradient, static_cast<float>(t));
                return Rgba8{c[0], c[1], c[2], 255};
            });
            break;
    }
    if (s.stroke[3] > 0 && s.stroke_width > 0) {  // centred on the edges, no pixel painted twice
        const double hw = s.stroke_width * k / 2;
        auto solid = [&](double, double) { return s.stroke; };
        const double X0 = s.x * k, Y0 = s.y * k, X1 = (s.x + s.w) * k, Y1 = (s.y + s.h) * k;
        cv.fill_box(X0 - hw, Y0 - hw, X1 + hw, Y0 + hw, solid);
        cv.fill_box(X0 - hw, Y1 - hw, X1 + hw, Y1 + hw, solid);
        cv.fill_box(X0 - hw, Y0 + hw, X0 + hw, Y1 - hw, solid);
        cv.fill_box(X1 - hw, Y0 + hw, X1 + hw, Y1 - hw, solid);
    }
}

void draw_line(Canvas& cv, const FigureShape& s) {
    const double k = cv.scale;
    const double ax = s.x * k, ay = s.y * k, bx = s.x2 * k, by = s.y2 * k, w = s.stroke_width * k;
    const double len = std::hypot(bx - ax, by - ay);
    if (!s.arrow || len <= 0) {
        cv.line(ax, ay, bx, by, w, s.color);
        return;
    }
    // SVG's marker: viewBox 10, 8 stroke widths wide, tip at 9/10 past the end: a triangle 8·w
    // long and 8·w wide whose tip lies 0.8·w beyond (x2, y2); the shaft stops inside it.
    const double ux = (bx - ax) / len, uy = (by - ay) / len, unit = 0.8 * w;
    const double tipx = bx + ux * unit, tipy = by + uy * unit;
    const double basex = bx - ux * 9 * unit, basey = by - uy * 9 * unit;
    cv.line(ax, ay, basex + ux * unit, basey + uy * unit, w, s.color);
    const double tri[3][2] = {{tipx, tipy}, {basex - uy * 5 * unit, basey + ux * 5 * unit}, {basex + uy * 5 * unit, basey - ux * 5 * unit}};
    cv.triangle(tri, s.color);
}

}  // namespace

std::string figure_font_path() { return font_set().primary_path(); }

RasterImage rasterize_drawing(const FigureDrawing& d, double scale) {
    if (!(scale >= 0.1 && scale <= 16)) throw SceneError("scale", "expected 0.1..16 pixels per figure unit, got " + std::to_string(scale));
    if (!(d.width > 0 && d.height > 0 && std::isfinite(d.width) && std::isfinite(d.height)))
        throw SceneError("figure", "a figure needs a positive width and height");
    const double w = std::ceil(d.width * scale), h = std::ceil(d.height * scale);
    if (w * h > static_cast<double>(kMaxRasterPixels))
        throw SceneError("figure", std::to_string(static_cast<long long>(w)) + " x " + std::to_string(static_cast<long long>(h)) +
                                       " pixels is too large a PNG (at most " + std::to_string(kMaxRasterPixels) +
                                       " pixels); use a smaller scale or SVG");
    Canvas cv;
    cv.W = static_cast<int>(w);
    cv.H = static_cast<int>(h);
    cv.scale = scale;
    cv.px.resize(static_cast<std::size_t>(cv.W) * cv.H * 4);
    for (std::size_t i = 0; i < cv.px.size(); i += 4) {
        cv.px[i] = d.background[0];
        cv.px[i + 1] = d.background[1];
        cv.px[i + 2] = d.background[2];
        cv.px[i + 3] = 255;
    }
    for (const FigureShape& s : d.shapes) {
        switch (s.kind) {
            case FigureShape::Rect: draw_rect(cv, d, s); break;
            case FigureShape::Line: draw_line(cv, s); break;
            case FigureShape::Circle:
                cv.circle(s.x * scale, s.y * scale, s.r * scale, s.fill == FillKind::Solid ? &s.color : nullptr,
                          s.stroke[3] > 0 ? &s.stroke : nullptr, s.stroke_width * scale);
                break;
            case FigureShape::Text: draw_text(cv, s); break;
        }
    }
    RasterImage img;
    img.width = cv.W;
    img.height = cv.H;
    img.rgba = std::move(cv.px);
    return img;
}

std::string encode_png(const RasterImage& img) {
    if (img.width <= 0 || img.height <= 0 || img.rgba.size() != static_cast<std::size_t>(img.width) * img.height * 4)
        throw SceneError("figure", "an image of " + std::to_string(img.width) + " x " + std::to_string(img.height) + " pixels has " +
                                       std::to_string(img.rgba.size()) + " bytes of RGBA");
    std::string png;
    auto append = [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<std::size_t>(size)); };
    if (stbi_write_png_to_func(append, &png, img.width, img.height, 4, img.rgba.data(), img.width * 4) == 0 || png.empty())
        throw SceneError("figure", "PNG encoding failed");
    return png;
}

std::string drawing_png(const FigureDrawing& d, double scale) { return encode_png(rasterize_drawing(d, scale)); }

int write_figures(const Scene& s, const Forward& f, const std::string& stem, const std::string& out_dir, Colormap cmap,
                  const FigureFormats& formats) {
    const std::filesystem::path out(out_dir);
    int files = 0;
    for (const NamedFigure& fig : scene_figures(s, f, stem, cmap)) {
        if (formats.svg) {
            write_file_atomic((out / fig.name).string(), fig.svg);
            ++files;
        }
        if (formats.png) {
            write_file_atomic((out / std::filesystem::path(fig.name).replace_extension(".png")).string(),
                              drawing_png(fig.drawing, formats.png_scale));
            ++files;
        }
    }
    return files;
}


}  // namespace attnviz
