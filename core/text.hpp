// attnviz core — words for what the user sees: counts with the right noun, masks in words, and a
// word wrap that never splits a number.
//
// The panels and the presentation lay out lines of the step-by-step math ("w_3 'cat' = 0.3481",
// "full value map 1,572,864"). ImGui's own wrap breaks after '.' and ',' — inside a number. The
// wrap here breaks only at spaces; a word wider than the line keeps its own line whole.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "scene.hpp"

namespace attnviz {

// "1 head", "2 heads", "1,024 tokens", "0 keys" (plural: singular + "s" unless given).
std::string count_noun(std::int64_t n, const std::string& singular, const std::string& plural = {});

// A mask type as words for people: "no mask"-less names — "none", "causal", "sliding window",
// "strided", "fixed", "explicit" (the scene format's names are mask_type_name's).
const char* mask_words(MaskType t);

// Greedy word wrap of one paragraph into lines at most `width` wide, where `measure` gives a
// piece's width. Breaks only at spaces (runs of spaces at a break are dropped); a word wider than
// `width` stands alone on its line, whole. Embedded '\n' start new lines.
std::vector<std::string> wrap_words(std::string_view text, float width, const std::function<float(std::string_view)>& measure);

// Paragraphs laid out in a box (the presentation's right column): the largest size from `max_px`
// down to `min_px` (5% steps) at which every paragraph, wrapped by wrap_words, fits in `height`.
// When even `min_px` is too tall, droppable paragraphs are left out from the end, leaving room for
// one more line at the base size, where the caller says how many were left out (`dropped`); and
// when what may not be left out is still too tall, the size goes below `min_px`: nothing ever
// lies below the box.
struct Paragraph {
    std::string text;
    float rel_size = 1.0f;      // size relative to the base size
    float gap_before = 0.0f;    // empty space above, in lines of this paragraph's size
    bool droppable = false;     // may be left out (counted) when nothing smaller fits
};
struct FittedParagraphs {
    float px = 0;                                 // the base size used
    std::vector<std::vector<std::string>> lines;  // per paragraph; a dropped one has none
    int dropped = 0;                              // paragraphs left out
    float height = 0;                             // of what is laid out (+ the note's line when dropped)
};
// `unit_measure` is a text's width at size 1 (widths scale with the size); a line is
// `line_height` × its size tall.
FittedParagraphs fit_paragraphs(const std::vector<Paragraph>& paragraphs, float width, float height, float max_px, float min_px,
                                const std::function<float(std::string_view)>& unit_measure, float line_height = 1.2f);

// The last step of the math: "E'_i = E_i + ΔE_0" (1 head), "E'_i = E_i + ΔE_0 + ΔE_1" (2),
// "… + ΔE_0 + ΔE_1 + ΔE_2" (3), "E'_i = E_i + ΔE_0 + … + ΔE_7" (8): heads numbered from 0.
std::string head_sum_formula(int n_heads);

}  // namespace attnviz
