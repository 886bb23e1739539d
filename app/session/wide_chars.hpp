// attnviz app — characters outside the Basic Multilingual Plane (emoji, U+10000 and up) in a UI
// whose text widgets store 16-bit characters (Debian's Dear ImGui 1.86, ImWchar16).
//
// The document always holds the real UTF-8. Text fields edit a *display form* in which each
// character above U+FFFF is replaced by a Private Use Area character (U+E000 + slot) assigned
// here; the font atlas draws that slot with the real character's glyph (app/ui/fonts.cpp). The
// mapping only grows, so a slot means the same character for the whole session.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attnviz::app {

struct WideChars {
    static constexpr char32_t kFirstSlot = 0xE000;  // U+E000..U+F8FF: the BMP's Private Use Area
    static constexpr char32_t kLastSlot = 0xF8FF;
    std::vector<char32_t> slots;      // slots[i]: the character drawn by U+E000 + i
    std::u32string typed;             // characters typed (GLFW) that wait for a text field to insert them
    int typed_age = 0;                // frames `typed` has waited (dropped when no field takes them)

    // The slot character for `c` (> U+FFFF), assigned on first use; U+FFFD when the area is full.
    char32_t slot_for(char32_t c);
    // The real character for a slot character; `c` itself when it is not an assigned slot.
    char32_t real_of(char32_t c) const;
    // Real UTF-8 → display form (assigns slots); display form → real UTF-8.
    std::string to_display(std::string_view utf8);
    std::string from_display(std::string_view display) const;
};

// UTF-8 helpers (invalid bytes decode as U+FFFD, one byte at a time).
std::u32string utf8_decode(std::string_view s);
void utf8_append(std::string& out, char32_t c);
std::string utf8_encode(std::u32string_view s);

}  // namespace attnviz::app
