// attnviz app — characters above U+FFFF in 16-bit text widgets (see wide_chars.hpp).
#include "wide_chars.hpp"

#include <algorithm>

namespace attnviz::app {

std::u32string utf8_decode(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
        char32_t c = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
        bool ok = len > 0 && i + static_cast<std::size_t>(len) <= s.size();
        for (int k = 1; ok && k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
            ok = (b & 0xC0) == 0x80;
            c = (c << 6) | (b & 0x3F);
        }
        // overlong forms, surrogates and values past U+10FFFF are invalid
        static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (ok && (c < kMin[len] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)) ok = false;
        if (!ok) {
            out.push_back(0xFFFD);
            ++i;
            continue;
        }
        out.push_back(c);
        i += static_cast<std::size_t>(len);
    }
    return out;
}

void utf8_append(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

std::string utf8_encode(std::u32string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) utf8_append(out, c);
    return out;
}

char32_t WideChars::slot_for(char32_t c) {
    const auto it = std::find(slots.begin(), slots.end(), c);
    if (it != slots.end()) return kFirstSlot + static_cast<char32_t>(it - slots.begin());
    if (kFirstSlot + slots.size() > kLastSlot) return 0xFFFD;
    slots.push_back(c);
    return kFirstSlot + static_cast<char32_t>(slots.size() - 1);
}

char32_t WideChars::real_of(char32_t c) const {
    if (c >= kFirstSlot && c < kFirstSlot + slots.size()) return slots[c - kFirstSlot];
    return c;
}

std::string WideChars::to_display(std::string_view utf8) {
    // fast path: no 4-byte sequence, nothing to map
    if (std::none_of(utf8.begin(), utf8.end(), [](char b) { return (static_cast<unsigned char>(b) & 0xF8) == 0xF0; }))
        return std::string(utf8);
    std::u32string t = utf8_decode(utf8);
    for (char32_t& c : t)
        if (c > 0xFFFF) c = slot_for(c);
    return utf8_encode(t);
}

std::string WideChars::from_display(std::string_view display) const {
    if (slots.empty()) return std::string(display);
    std::u32string t = utf8_decode(display);
    for (char32_t& c : t) c = real_of(c);
    return utf8_encode(t);
}

}  // namespace attnviz::app
