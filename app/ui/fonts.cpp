// attnviz app — the font atlas (see fonts.hpp).
//
// [SECTION] Font files and fixed ranges
// [SECTION] Characters in use
// [SECTION] Building the atlas (and the glyphs of characters above U+FFFF)
#include "fonts.hpp"

#include <stb_truetype.h>  // Debian's libstb (linked through imgui.pc): glyphs above U+FFFF

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>

namespace attnviz::app {

// ---------------------------------------------------------------------------------------------
// [SECTION] Font files and fixed ranges
// ---------------------------------------------------------------------------------------------
namespace {

// Every atlas holds these: Latin-1, Latin Extended-A, Greek, Cyrillic, general punctuation (…, —),
// super/subscripts, arrows, math (√, −, ∞), phonetic extensions (ᵀ), geometric shapes, U+FFFD.
constexpr ImWchar kFixedRanges[] = {0x0020, 0x017F, 0x0370, 0x03FF, 0x0400, 0x052F, 0x1D00, 0x1DBF, 0x2000, 0x206F,
                                    0x2070, 0x209F, 0x2190, 0x21FF, 0x2200, 0x22FF, 0x25A0, 0x25FF, 0xFFFD, 0xFFFD, 0};
// The presentation's large fonts: fewer (Latin-1, Greek, math) plus the characters in use.
constexpr ImWchar kBigRanges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x1D00, 0x1D7F, 0x2010, 0x2027, 0x2070, 0x209F,
                                  0x2190, 0x21FF, 0x2200, 0x22FF, 0x25A0, 0x25FF, 0xFFFD, 0xFFFD, 0};

bool read_font(FontFile& f, const char* what, const char* package) {
    // one read of the whole file (Noto Sans CJK is 19 MB: no byte-by-byte iterator)
    std::ifstream in(f.path, std::ios::binary | std::ios::ate);
    if (in) {
        const std::streamsize size = in.tellg();
        in.seekg(0);
        f.data.resize(size > 0 ? static_cast<std::size_t>(size) : 0);
        if (size <= 0 || !in.read(reinterpret_cast<char*>(f.data.data()), size)) f.data.clear();
    }
    if (f.data.empty()) {
        std::cerr << "attnviz: " << f.path << " not found (install " << package << "); " << what
                  << " will show as boxes\n";
        return false;
    }
    return true;
}

}  // namespace

void FontsLoad(UiFonts& f, float base_px, float big_px) {
    f.base_px = base_px;
    f.big_px = big_px;
    f.mid_px = std::round(big_px * 0.7f);
    f.text.path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    f.cjk.path = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
    f.cjk.index = 2;  // Noto Sans CJK SC (0 JP, 1 KR, 2 SC, 3 TC, 4 HK)
    f.symbols.path = "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf";
    read_font(f.text, "letters beyond ASCII", "fonts-dejavu-core");
    read_font(f.cjk, "Chinese, Japanese and Korean characters", "fonts-noto-cjk");
    read_font(f.symbols, "symbols and emoji", "fonts-symbola");
}

bool FontsFixed(char32_t c) {
    for (const ImWchar* r = kFixedRanges; r[0]; r += 2)
        if (c >= r[0] && c <= r[1]) return true;
    return false;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Characters in use
// ---------------------------------------------------------------------------------------------
bool FontsNote(UiFonts& f, std::string_view utf8) {
    bool added = false;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        if (static_cast<unsigned char>(utf8[i]) < 0x80) continue;  // ASCII: always there
        // decode one character (the slow path only for non-ASCII)
        const std::size_t start = i;
        while (i + 1 < utf8.size() && (static_cast<unsigned char>(utf8[i + 1]) & 0xC0) == 0x80) ++i;
        for (char32_t c : utf8_decode(utf8.substr(start, i - start + 1))) {
            if (c > 0xFFFF || FontsFixed(c) || c < 0x20) continue;  // above U+FFFF: wide_chars slots
            const auto it = std::lower_bound(f.chars.begin(), f.chars.end(), static_cast<ImWchar>(c));
            if (it != f.chars.end() && *it == c) continue;
            f.chars.insert(it, static_cast<ImWchar>(c));
            added = true;
        }
    }
    return added;
}

bool FontsCollect(UiFonts& f, AppState& s) {
    bool added = false;
    if (s.revision != f.seen_revision || s.generation != f.seen_generation) {
        f.seen_revision = s.revision;
        f.seen_generation = s.generation;
        const Scene& sc = s.scene;
        added |= FontsNote(f, sc.title);
        added |= FontsNote(f, sc.description);
        added |= FontsNote(f, sc.input.text);
        for (const Token& t : sc.input.tokens) added |= FontsNote(f, t.text);
        if (sc.source) {
            added |= FontsNote(f, sc.source->text);
            for (const Token& t : sc.source->tokens) added |= FontsNote(f, t.text);
        }
        // emoji in a loaded scene get their slots now, so labels can show them
        for (const Token& t : sc.input.tokens) s.wide_chars.to_display(t.text);
        if (sc.source)
            for (const Token& t : sc.source->tokens) s.wide_chars.to_display(t.text);
    }
    std::string fields = s.text_input + '\n' + s.source_input + '\n' + s.token_edit_text + '\n' + s.glyph_text;
    if (fields != f.seen_fields) {
        added |= FontsNote(f, fields);
        f.seen_fields = std::move(fields);
    }
    return added || s.wide_chars.slots.size() != f.slots_built;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Building the atlas
// ---------------------------------------------------------------------------------------------
namespace {

struct SlotGlyph {
    int rect = -1;
    ImFont* font = nullptr;
    float px = 0;
    char32_t c = 0;
};

// The ascent ImGui gives a font of `px` pixels built from `file` (imgui_draw.cpp's rounding).
float font_ascent(const FontFile& file, float px) {
    stbtt_fontinfo info;
    if (file.data.empty() || !stbtt_InitFont(&info, file.data.data(), stbtt_GetFontOffsetForIndex(file.data.data(), file.index)))
        return std::round(px * 0.8f);
    int ascent = 0, descent = 0, gap = 0;
    stbtt_GetFontVMetrics(&info, &ascent, &descent, &gap);
    const float a = static_cast<float>(ascent) * stbtt_ScaleForPixelHeight(&info, px);
    return std::floor(a + 1.0f);
}

// Reserves a custom glyph for slot character `slot` (the real character `c`) in `font`.
SlotGlyph reserve_slot(ImFontAtlas& atlas, ImFont* font, float px, ImWchar slot, char32_t c, const FontFile& symbols,
                       const stbtt_fontinfo* info, float ascent) {
    SlotGlyph g{-1, font, px, c};
    if (info && stbtt_FindGlyphIndex(info, static_cast<int>(c)) != 0) {
        const float scale = stbtt_ScaleForPixelHeight(info, px);
        int x0 = 0, y0 = 0, x1 = 0, y1 = 0, advance = 0, lsb = 0;
        stbtt_GetCodepointBitmapBox(info, static_cast<int>(c), scale, scale, &x0, &y0, &x1, &y1);
        stbtt_GetCodepointHMetrics(info, static_cast<int>(c), &advance, &lsb);
        const int w = std::max(1, x1 - x0), h = std::max(1, y1 - y0);
        g.rect = atlas.AddCustomRectFontGlyph(font, slot, w, h, std::round(static_cast<float>(advance) * scale),
                                              ImVec2(static_cast<float>(x0), ascent + static_cast<float>(y0)));
    } else {
        // no font has it: a hollow box the size of a capital letter, never nothing
        const int w = std::max(4, static_cast<int>(px * 0.55f)), h = std::max(6, static_cast<int>(px * 0.7f));
        g.rect = atlas.AddCustomRectFontGlyph(font, slot, w, h, static_cast<float>(w) + px * 0.15f,
                                              ImVec2(px * 0.08f, ascent - static_cast<float>(h)));
        g.c = 0;
    }
    (void)symbols;
    return g;
}

void draw_slot(ImFontAtlas& atlas, unsigned char* pixels, int tex_w, const SlotGlyph& g, const stbtt_fontinfo* info) {
    const ImFontAtlasCustomRect* r = atlas.GetCustomRectByIndex(g.rect);
    if (!r) return;
    unsigned char* dst = pixels + r->Y * tex_w + r->X;
    if (g.c != 0 && info) {
        const float scale = stbtt_ScaleForPixelHeight(info, g.px);
        stbtt_MakeCodepointBitmap(info, dst, r->Width, r->Height, tex_w, scale, scale, static_cast<int>(g.c));
        return;
    }
    for (int y = 0; y < r->Height; ++y)
        for (int x = 0; x < r->Width; ++x) {
            const bool edge = x == 0 || y == 0 || x == r->Width - 1 || y == r->Height - 1;
            dst[y * tex_w + x] = edge ? 255 : 0;
        }
}

}  // namespace

void FontsBuild(UiFonts& f, AppState& s) {
    ImFontAtlas& atlas = *ImGui::GetIO().Fonts;
    atlas.Clear();
    // glyph ranges: fixed + in use (all three must outlive Build)
    auto make_ranges = [&](ImVector<ImWchar>& out, const ImWchar* fixed) {
        ImFontGlyphRangesBuilder b;
        if (fixed) b.AddRanges(fixed);
        for (ImWchar c : f.chars) b.AddChar(c);
        out.clear();
        b.BuildRanges(&out);
        if (out.empty() || out.size() == 1) {  // nothing in use: a harmless one-character range
            out.clear();
            out.push_back(0x20);
            out.push_back(0x20);
            out.push_back(0);
        }
    };
    make_ranges(f.ranges_text, kFixedRanges);
    make_ranges(f.ranges_big, kBigRanges);
    make_ranges(f.ranges_extra, nullptr);

    stbtt_fontinfo sym_info;
    const bool have_sym = !f.symbols.data.empty() &&
                          stbtt_InitFont(&sym_info, f.symbols.data.data(), stbtt_GetFontOffsetForIndex(f.symbols.data.data(), 0));
    std::vector<SlotGlyph> slots;
    auto add = [&](float px, const ImWchar* ranges, bool allow_default) -> ImFont* {
        ImFontConfig cfg;
        cfg.FontDataOwnedByAtlas = false;  // UiFonts keeps the bytes: a rebuild reads no file
        ImFont* font = nullptr;
        if (!f.text.data.empty()) {
            font = atlas.AddFontFromMemoryTTF(f.text.data.data(), static_cast<int>(f.text.data.size()), px, &cfg, ranges);
        } else if (allow_default) {
            font = atlas.AddFontDefault();
        } else {
            return nullptr;
        }
        cfg.MergeMode = true;
        for (FontFile* extra : {&f.cjk, &f.symbols}) {
            if (extra->data.empty() || f.chars.empty()) continue;
            ImFontConfig m = cfg;
            m.FontNo = extra->index;
            atlas.AddFontFromMemoryTTF(extra->data.data(), static_cast<int>(extra->data.size()), px, &m, f.ranges_extra.Data);
        }
        const float ascent = font_ascent(f.text, px);
        for (std::size_t i = 0; i < s.wide_chars.slots.size(); ++i)
            slots.push_back(reserve_slot(atlas, font, px, static_cast<ImWchar>(WideChars::kFirstSlot + i), s.wide_chars.slots[i],
                                         f.symbols, have_sym ? &sym_info : nullptr, ascent));
        return font;
    };
    add(f.base_px, f.ranges_text.Data, true);
    s.lecture.big_font = add(f.big_px, f.ranges_big.Data, false);
    s.lecture.mid_font = add(f.mid_px, f.ranges_big.Data, false);
    s.lecture.font_built_px = f.big_px;  // big_font_px stays the slide's title size at scale 1
    atlas.Build();
    unsigned char* pixels = nullptr;
    int tex_w = 0, tex_h = 0;
    atlas.GetTexDataAsAlpha8(&pixels, &tex_w, &tex_h);
    for (const SlotGlyph& g : slots) draw_slot(atlas, pixels, tex_w, g, have_sym ? &sym_info : nullptr);
    f.slots_built = s.wide_chars.slots.size();
    ++f.builds;
}

}  // namespace attnviz::app
