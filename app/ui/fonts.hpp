// attnviz app — the font atlas: DejaVu Sans (Latin, Greek, Cyrillic, math) with Noto Sans CJK and
// Symbola merged in, holding glyphs only for the characters the scene and the UI use.
//
// FontsCollect() gathers the characters in the scene's text, the text fields and
// AppState::glyph_text at a frame boundary; when one is new, FontsBuild() rebuilds the atlas
// (the window then re-uploads the texture). Characters above U+FFFF (emoji) cannot be ImGui 1.86
// glyphs (ImWchar16): they are drawn through the Private Use Area slots of AppState::wide_chars,
// rasterized here from Symbola with stb_truetype, or as a hollow box when no font has them.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app_state.hpp"

namespace attnviz::app {

struct FontFile {
    std::string path;
    int index = 0;                     // face within a .ttc collection
    std::vector<unsigned char> data;   // the whole file (empty: missing)
};

struct UiFonts {
    float base_px = 17.0f;             // the UI's font
    float big_px = 40.0f, mid_px = 28.0f;  // the presentation's fonts (LectureState)
    FontFile text, cjk, symbols;       // DejaVu Sans, Noto Sans CJK SC, Symbola
    std::vector<ImWchar> chars;        // sorted: BMP characters outside the fixed ranges held by the atlas
    std::size_t slots_built = 0;       // wide_chars slots with a glyph in the atlas
    std::uint64_t seen_revision = ~0ull, seen_generation = ~0ull;
    std::string seen_fields;           // the text fields as of the last collect
    int builds = 0;                    // atlas builds so far (the first included)
    std::vector<int> slot_rects;       // custom rect per slot, per font size (filled after Build)
    ImVector<ImWchar> ranges_text, ranges_big, ranges_extra;  // glyph ranges (must live until Build)
};

// Reads the font files; a missing one is reported once on stderr (its characters show as boxes).
void FontsLoad(UiFonts& f, float base_px, float big_px);
// Whether `c` is in the fixed ranges every atlas holds (Latin-1, Greek, Cyrillic, math, …).
bool FontsFixed(char32_t c);
// Adds the characters of `utf8` the atlas lacks to f.chars; returns whether any was new.
bool FontsNote(UiFonts& f, std::string_view utf8);
// The scene's text, the text fields and s.glyph_text: true when the atlas must be rebuilt.
bool FontsCollect(UiFonts& f, AppState& s);
// (Re)builds io.Fonts (CPU side only; the caller uploads the texture) and points
// s.lecture.big_font / mid_font at the new presentation fonts.
void FontsBuild(UiFonts& f, AppState& s);

}  // namespace attnviz::app
