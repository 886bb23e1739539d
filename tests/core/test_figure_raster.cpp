// PNG figures (core/figure_raster): the drawing the SVG writer consumes, painted into pixels.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine.hpp"
#include "figure.hpp"
#include "figure_raster.hpp"
#include "helpers.hpp"
#include "scene_io.hpp"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

using namespace attnviz;
using attnviz::test::mat;

namespace {

Rgba8 pixel(const RasterImage& img, int x, int y) {
    REQUIRE(x >= 0);
    REQUIRE(y >= 0);
    REQUIRE(x < img.width);
    REQUIRE(y < img.height);
    const std::uint8_t* p = &img.rgba[(static_cast<std::size_t>(y) * img.width + x) * 4];
    return {p[0], p[1], p[2], p[3]};
}

std::string rgb(const Rgba8& c) {
    return std::to_string(c[0]) + "," + std::to_string(c[1]) + "," + std::to_string(c[2]) + "," + std::to_string(c[3]);
}

// Pixels that differ from `bg` inside [x0, x1) × [y0, y1) (clipped to the image).
int changed(const RasterImage& img, Rgba8 bg, int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = std::max(0, y0); y < std::min(img.height, y1); ++y)
        for (int x = std::max(0, x0); x < std::min(img.width, x1); ++x)
            if (pixel(img, x, y) != bg) ++n;
    return n;
}

FigureShape text_shape(double x, double y, const std::string& t, double size, TextAnchor anchor, double rotate = 0) {
    FigureShape s;
    s.kind = FigureShape::Text;
    s.x = x;
    s.y = y;
    s.text = t;
    s.font_size = size;
    s.anchor = anchor;
    s.rotate = rotate;
    return s;
}

}  // namespace

TEST_CASE("raster: rectangles land on the pixels their figure units name, at any scale") {
    FigureDrawing d;
    d.width = 40;
    d.height = 30;
    d.background = {10, 20, 30, 255};
    FigureShape r;
    r.kind = FigureShape::Rect;
    r.fill = FillKind::Solid;
    r.x = 10; r.y = 5; r.w = 20; r.h = 10;
    r.color = {200, 100, 50, 255};
    d.shapes.push_back(r);
    for (double scale : {1.0, 2.0, 3.0}) {
        INFO("scale " << scale);
        const RasterImage img = rasterize_drawing(d, scale);
        CHECK(img.width == static_cast<int>(40 * scale));
        CHECK(img.height == static_cast<int>(30 * scale));
        // inside: the colour; one pixel outside each edge: the background
        CHECK(rgb(pixel(img, static_cast<int>(10 * scale), static_cast<int>(5 * scale))) == "200,100,50,255");
        CHECK(rgb(pixel(img, static_cast<int>(30 * scale) - 1, static_cast<int>(15 * scale) - 1)) == "200,100,50,255");
        CHECK(rgb(pixel(img, static_cast<int>(10 * scale) - 1, static_cast<int>(10 * scale))) == "10,20,30,255");
        CHECK(rgb(pixel(img, static_cast<int>(30 * scale), static_cast<int>(10 * scale))) == "10,20,30,255");
        CHECK(rgb(pixel(img, static_cast<int>(20 * scale), static_cast<int>(5 * scale) - 1)) == "10,20,30,255");
        CHECK(rgb(pixel(img, static_cast<int>(20 * scale), static_cast<int>(15 * scale))) == "10,20,30,255");
        // exactly 20·10 figure units² of the colour
        CHECK(changed(img, {10, 20, 30, 255}, 0, 0, img.width, img.height) == static_cast<int>(200 * scale * scale));
    }
    // a half-transparent rectangle blends: (200 + 10) / 2 etc., rounded
    d.shapes[0].color = {200, 100, 50, 128};
    const RasterImage half = rasterize_drawing(d, 1.0);
    const double a = 128.0 / 255.0;
    CHECK(pixel(half, 20, 10)[0] == static_cast<int>(std::lround(10 * (1 - a) + 200 * a)));
    CHECK(pixel(half, 20, 10)[2] == static_cast<int>(std::lround(30 * (1 - a) + 50 * a)));
}

TEST_CASE("raster: a 2×2 heatmap — each cell's centre is its value's colour-map colour; each theme's background") {
    HeatmapFigure fig;
    fig.values = mat({{0.0f, 1.0f}, {0.25f, 0.75f}});
    fig.vmin = 0.0f;
    fig.vmax = 1.0f;
    fig.row_labels = {"a", "b"};
    fig.col_labels = {"a", "b"};
    fig.title = "Two by two";
    fig.show_values = false;
    for (bool dark : {false, true}) {
        fig.dark = dark;
        INFO((dark ? "dark" : "light"));
        const FigureDrawing d = heatmap_drawing(fig);
        const double scale = 2.0;
        const RasterImage img = rasterize_drawing(d, scale);
        CHECK(img.width == static_cast<int>(std::ceil(d.width * scale)));
        CHECK(img.height == static_cast<int>(std::ceil(d.height * scale)));
        // the themes' backgrounds: white, and #1b1b1f
        const Rgba8 bg = dark ? Rgba8{0x1b, 0x1b, 0x1f, 255} : Rgba8{255, 255, 255, 255};
        CHECK(pixel(img, 1, 1) == bg);
        CHECK(pixel(img, img.width - 2, img.height - 2) == bg);
        // the cells, in row-major order, from the drawing
        std::vector<const FigureShape*> cells;
        for (const auto& s : d.shapes)
            if (s.css_class == "cell") cells.push_back(&s);
        REQUIRE(cells.size() == 4);
        // viridis at 0 and 1: matplotlib's #440154 and #fde725; 0.25 and 0.75: the map's own
        // interpolation (tested against its keys in test_figure.cpp)
        const std::array<std::uint8_t, 3> expect[4] = {{68, 1, 84}, {253, 231, 37}, colormap_rgb(Colormap::Viridis, 0.25f),
                                                       colormap_rgb(Colormap::Viridis, 0.75f)};
        CHECK(cells[0]->y == cells[1]->y);  // row 0 = query 0
        CHECK(cells[0]->x < cells[1]->x);
        for (int k = 0; k < 4; ++k) {
            const Rgba8 c = pixel(img, static_cast<int>((cells[k]->x + cells[k]->w / 2) * scale),
                                  static_cast<int>((cells[k]->y + cells[k]->h / 2) * scale));
            INFO("cell " << k);
            CHECK(rgb(c) == rgb(Rgba8{expect[k][0], expect[k][1], expect[k][2], 255}));
        }
        // the title: text pixels inside its box (it is centred at the top), none left or right of it
        const FigureShape* title = nullptr;
        for (const auto& s : d.shapes)
            if (s.css_class == "title") title = &s;
        REQUIRE(title);
        const double w = estimated_text_width(title->text, title->font_size);
        const int y0 = static_cast<int>((title->y - title->font_size) * scale), y1 = static_cast<int>((title->y + 0.3 * title->font_size) * scale);
        const int x0 = static_cast<int>((title->x - w / 2 - 4) * scale), x1 = static_cast<int>((title->x + w / 2 + 4) * scale);
        CHECK(changed(img, bg, x0, y0, x1, y1) > 40);
        CHECK(changed(img, bg, 0, y0, x0, y1) == 0);
        CHECK(changed(img, bg, x1, y0, img.width, y1) == 0);
    }
}

TEST_CASE("raster: text — pixels inside its box, none outside it; rotated text; text at the edge is clipped") {
    if (figure_font_path().empty()) {
        MESSAGE("no DejaVu Sans installed (fonts-dejavu-core): text not checked");
        return;
    }
    FigureDrawing d;
    d.width = 200;
    d.height = 200;
    d.shapes.push_back(text_shape(100, 50, "Attention", 20, TextAnchor::Middle));
    RasterImage img = rasterize_drawing(d, 1.0);
    const Rgba8 white{255, 255, 255, 255};
    const int total = changed(img, white, 0, 0, 200, 200);
    CHECK(total > 100);
    // "Attention" at 20 px: about 0.6 em a character (108 px) wide, cap height above the baseline
    const int inside = changed(img, white, 100 - 60, 50 - 18, 100 + 60, 50 + 6);
    CHECK(inside == total);
    CHECK(changed(img, white, 0, 0, 100 - 50, 200) == 0);  // nothing far left of the centred text (DejaVu: ~93 px wide)
    CHECK(changed(img, white, 0, 0, 200, 50 - 22) == 0);   // nothing above it
    // anchored at the end: all ink left of x = 100
    d.shapes = {text_shape(100, 100, "key", 20, TextAnchor::End)};
    img = rasterize_drawing(d, 1.0);
    CHECK(changed(img, white, 0, 0, 200, 200) > 20);
    CHECK(changed(img, white, 101, 0, 200, 200) == 0);
    // rotated −90° about (100, 100): reads upwards from the anchor; the letters' tops point left
    d.shapes = {text_shape(100, 100, "query", 20, TextAnchor::Start, -90)};
    img = rasterize_drawing(d, 1.0);
    CHECK(changed(img, white, 0, 0, 200, 200) > 20);
    CHECK(changed(img, white, 0, 101, 200, 200) == 0);  // nothing below the anchor
    CHECK(changed(img, white, 107, 0, 200, 200) == 0);  // the descenders (q, y: 0.24 em) reach right by ~5 px
    CHECK(changed(img, white, 0, 0, 100 - 25, 200) == 0);
    // off the canvas: drawn where it overlaps, no crash, the image keeps its size
    d.shapes = {text_shape(190, 5, "overflowing text", 20, TextAnchor::Start), text_shape(-50, 300, "gone", 20, TextAnchor::Start)};
    img = rasterize_drawing(d, 1.0);
    CHECK(img.width == 200);
    CHECK(img.height == 200);
    CHECK(changed(img, white, 190, 0, 200, 10) > 0);
}

TEST_CASE("raster: hatched (masked) cells, the colour bar, lines, arrows, circles") {
    HeatmapFigure fig;
    fig.values = mat({{1.0f, 0.0f}, {0.5f, 0.5f}});
    fig.allowed = {1, 0, 1, 1};
    fig.vmin = 0.0f;
    fig.vmax = 1.0f;
    const FigureDrawing d = heatmap_drawing(fig);
    const RasterImage img = rasterize_drawing(d, 2.0);
    const FigureShape* masked = nullptr;
    const FigureShape* bar = nullptr;
    for (const auto& s : d.shapes) {
        if (s.css_class == "cell masked") masked = &s;
        if (s.css_class == "colorbar") bar = &s;
    }
    REQUIRE(masked);
    REQUIRE(bar);
    // the masked cell shows both hatch colours (#d9d9d9 and #8c8c8c in the light theme) and nothing
    // else (inside the grid's frame line)
    int bg = 0, fg = 0, other = 0;
    for (int y = static_cast<int>(masked->y * 2) + 2; y < static_cast<int>((masked->y + masked->h) * 2) - 2; ++y)
        for (int x = static_cast<int>(masked->x * 2) + 2; x < static_cast<int>((masked->x + masked->w) * 2) - 2; ++x) {
            const Rgba8 c = pixel(img, x, y);
            if (c == Rgba8{0xd9, 0xd9, 0xd9, 255}) ++bg;
            else if (c == Rgba8{0x8c, 0x8c, 0x8c, 255}) ++fg;
            else ++other;
        }
    CHECK(bg > fg);
    CHECK(fg > 0);
    CHECK(other == 0);
    // the colour bar: bottom to top, the map from 0 to 1 — at a pixel a fraction f up the bar,
    // the map's colour at f (2 pixels from each end: near #fde725 at the top, #440154 at the bottom)
    const int cx = static_cast<int>((bar->x + bar->w / 2) * 2);
    for (int y : {static_cast<int>(bar->y * 2) + 2, static_cast<int>((bar->y + bar->h / 2) * 2), static_cast<int>((bar->y + bar->h) * 2) - 3}) {
        const double f = (bar->y + bar->h - (y + 0.5) / 2) / bar->h;
        const auto want = colormap_rgb(Colormap::Viridis, static_cast<float>(f));
        const Rgba8 got = pixel(img, cx, y);
        INFO("row " << y << ", fraction " << f << ": " << rgb(got));
        for (int k = 0; k < 3; ++k) CHECK(std::abs(int(got[static_cast<std::size_t>(k)]) - int(want[static_cast<std::size_t>(k)])) <= 1);
    }
    CHECK(pixel(img, cx, static_cast<int>(bar->y * 2) + 2)[0] > 230);          // top: yellow (#fde725 at 1)
    CHECK(pixel(img, cx, static_cast<int>((bar->y + bar->h) * 2) - 3)[0] < 80);  // bottom: dark purple (#440154 at 0)

    FigureDrawing p;
    p.width = 100;
    p.height = 100;
    FigureShape c;
    c.kind = FigureShape::Circle;
    c.x = 30; c.y = 30; c.r = 10;
    c.fill = FillKind::Solid;
    c.color = {0, 0, 255, 255};
    p.shapes.push_back(c);
    FigureShape l;
    l.kind = FigureShape::Line;
    l.x = 10; l.y = 80; l.x2 = 90; l.y2 = 80;
    l.color = {255, 0, 0, 255};
    l.stroke_width = 2;
    l.arrow = true;
    p.shapes.push_back(l);
    const RasterImage q = rasterize_drawing(p, 1.0);
    CHECK(rgb(pixel(q, 30, 30)) == "0,0,255,255");
    CHECK(rgb(pixel(q, 30, 42)) == "255,255,255,255");  // outside the radius
    CHECK(rgb(pixel(q, 50, 79)) == "255,0,0,255");      // on the shaft (y 79..81)
    CHECK(rgb(pixel(q, 50, 83)) == "255,255,255,255");
    // the arrow head: 8 stroke widths (16 units) wide at its base, 14.4 units before the end
    CHECK(rgb(pixel(q, 80, 76)) == "255,0,0,255");      // 3.5 off the axis, where the head is 5.5 wide
    CHECK(rgb(pixel(q, 50, 73)) == "255,255,255,255");
}

TEST_CASE("raster: the PNG decodes (stb_image) to the requested size and the same pixels") {
    HeatmapFigure fig;
    fig.values = mat({{0.1f, 0.9f}, {0.6f, 0.4f}});
    fig.title = "PNG";
    const FigureDrawing d = heatmap_drawing(fig);
    for (double scale : {1.0, 2.5}) {
        const RasterImage img = rasterize_drawing(d, scale);
        const std::string png = drawing_png(d, scale);
        REQUIRE(png.size() > 8);
        CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
        int w = 0, h = 0, ch = 0;
        unsigned char* data = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()), static_cast<int>(png.size()), &w, &h, &ch, 4);
        REQUIRE(data != nullptr);
        CHECK(w == static_cast<int>(std::ceil(d.width * scale)));
        CHECK(h == static_cast<int>(std::ceil(d.height * scale)));
        CHECK(std::vector<std::uint8_t>(data, data + static_cast<std::size_t>(w) * h * 4) == img.rgba);
        stbi_image_free(data);
    }
    // bad requests are refused by name
    try {
        rasterize_drawing(d, 0.0);
        FAIL("no error");
    } catch (const SceneError& e) {
        CHECK(e.path() == "scale");
    }
    FigureDrawing huge;
    huge.width = 100000;
    huge.height = 100000;
    try {
        rasterize_drawing(huge, 1.0);
        FAIL("no error");
    } catch (const SceneError& e) {
        CHECK(e.path() == "figure");
    }
}

TEST_CASE("query–key figure: one circle per query, one square per key, at the panel's projection") {
    Scene s = load_scene(std::string(ATTNVIZ_SCENES) + "/06_multi_head.json");
    const Forward f = forward(s);
    for (int h = 0; h < s.n_heads; ++h) {
        const FigureDrawing d = figure_qk(s, f, h);
        int queries = 0, keys = 0;
        std::vector<double> qx, kx;
        for (const auto& sh : d.shapes) {
            if (sh.css_class == "query") { ++queries; qx.push_back(sh.x); }
            if (sh.css_class == "key") { ++keys; kx.push_back(sh.x + sh.w / 2); }
        }
        CHECK(queries == s.n());
        CHECK(keys == s.m());
        // the order along the x axis is the projection's (qk_plot): query i left of query j exactly
        // when its first plot coordinate is smaller
        const QKPlot plot = qk_plot(f.heads[static_cast<std::size_t>(h)]);
        for (int i = 0; i + 1 < s.n(); ++i)
            CHECK((qx[static_cast<std::size_t>(i)] < qx[static_cast<std::size_t>(i + 1)]) == (plot.queries(i, 0) < plot.queries(i + 1, 0)));
        const RasterImage img = rasterize_drawing(d, 1.0);
        CHECK(img.width == 640);
    }
}
