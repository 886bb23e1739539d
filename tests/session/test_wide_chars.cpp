// Characters above U+FFFF in 16-bit text widgets (app/session/wide_chars.hpp): the display form
// maps each to a Private Use Area slot and back, byte for byte.
#include <doctest/doctest.h>

#include <string>

#include "wide_chars.hpp"

using namespace attnviz::app;

TEST_CASE("wide chars: emoji become Private Use Area slots in the display form and come back exactly") {
    WideChars w;
    // 猫 U+732B (3 bytes), 🐱 U+1F431 (4 bytes F0 9F 90 B1), 🍕 U+1F355 (F0 9F 8D 95), кот (Cyrillic)
    const std::string real = "\xE7\x8C\xAB \xF0\x9F\x90\xB1 \xF0\x9F\x8D\x95 \xD0\xBA\xD0\xBE\xD1\x82";
    const std::string display = w.to_display(real);
    // U+E000 = EE 80 80, U+E001 = EE 80 81: first seen first
    CHECK(display == "\xE7\x8C\xAB \xEE\x80\x80 \xEE\x80\x81 \xD0\xBA\xD0\xBE\xD1\x82");
    REQUIRE(w.slots.size() == 2);
    CHECK(w.slots[0] == 0x1F431);
    CHECK(w.slots[1] == 0x1F355);
    CHECK(w.from_display(display) == real);
    // the same character keeps its slot; a new one gets the next
    CHECK(w.to_display("\xF0\x9F\x8D\x95") == "\xEE\x80\x81");
    CHECK(w.to_display("\xF0\x9F\x98\x80") == "\xEE\x80\x82");  // 😀 U+1F600
    CHECK(w.slots.size() == 3);
    // a Private Use character that is not an assigned slot passes through unchanged
    CHECK(w.from_display("\xEF\xA3\xBF") == "\xEF\xA3\xBF");  // U+F8FF
    // text without 4-byte sequences is returned as it is
    CHECK(w.to_display("plain caf\xC3\xA9") == "plain caf\xC3\xA9");
}

TEST_CASE("wide chars: UTF-8 decoding of odd bytes gives U+FFFD per bad byte, encoding round-trips") {
    CHECK(utf8_decode("a\xFF" "b") == std::u32string{U'a', 0xFFFD, U'b'});
    CHECK(utf8_decode("\xC0\xAF") == std::u32string{0xFFFD, 0xFFFD});            // overlong '/'
    CHECK(utf8_decode("\xED\xA0\x80") == std::u32string{0xFFFD, 0xFFFD, 0xFFFD});  // a surrogate
    CHECK(utf8_decode("\xF0\x9F\x90") == std::u32string{0xFFFD, 0xFFFD, 0xFFFD});  // cut short
    CHECK(utf8_encode(std::u32string{0x41, 0x3B1, 0x732B, 0x1F431}) == "A\xCE\xB1\xE7\x8C\xAB\xF0\x9F\x90\xB1");
}

TEST_CASE("wide chars: the Private Use Area holds 6,400 slots, then U+FFFD") {
    WideChars w;
    for (char32_t c = 0x10000; c < 0x10000 + 6400; ++c) REQUIRE(w.slot_for(c) == 0xE000 + (c - 0x10000));
    CHECK(w.slot_for(0x20000) == 0xFFFD);
    CHECK(w.real_of(0xF8FF) == 0x10000 + 6399);
}

