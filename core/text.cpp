#include "text.hpp"

#include <algorithm>

#include "explain.hpp"  // format_count

namespace attnviz {

std::string count_noun(std::int64_t n, const std::string& singular, const std::string& plural) {
    return format_count(n) + " " + (n == 1 ? singular : plural.empty() ? singular + "s" : plural);
}

const char* mask_words(MaskType t) {
    switch (t) {
        case MaskType::None: return "none";
        case MaskType::Causal: return "causal";
        case MaskType::SlidingWindow: return "sliding window";
        case MaskType::Strided: return "strided";
        case MaskType::Fixed: return "fixed";
        case MaskType::Matrix: return "explicit";
    }
    return "none";
}

std::vector<std::string> wrap_words(std::string_view text, float width, const std::function<float(std::string_view)>& measure) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (true) {  // one paragraph per '\n'
        const std::size_t end = text.find('\n', start);
        const std::string_view para = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        std::string line;
        bool started = false;  // a word is on `line`
        std::size_t i = 0;
        while (i < para.size()) {
            const std::size_t w0 = para.find_first_not_of(' ', i);
            if (w0 == std::string_view::npos) break;
            const std::size_t w1 = std::min(para.find(' ', w0), para.size());
            const std::string_view word = para.substr(w0, w1 - w0);
            if (!started) {
                // the first word of the paragraph keeps its indent; a continuation line starts at the word
                line = std::string(i == 0 ? para.substr(0, w1) : word);
            } else {
                std::string candidate = line + std::string(para.substr(i, w0 - i)) + std::string(word);
                if (measure(candidate) <= width) {
                    line = std::move(candidate);
                } else {
                    lines.push_back(line);
                    line = std::string(word);
                }
            }
            started = true;
            i = w1;
        }
        lines.push_back(line);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return lines;
}

FittedParagraphs fit_paragraphs(const std::vector<Paragraph>& paragraphs, float width, float height, float max_px, float min_px,
                                const std::function<float(std::string_view)>& unit_measure, float line_height) {
    auto lay_out = [&](float px, std::size_t count, FittedParagraphs& out) {
        out.px = px;
        out.lines.assign(paragraphs.size(), {});
        out.height = 0;
        for (std::size_t k = 0; k < count; ++k) {
            const Paragraph& p = paragraphs[k];
            const float size = px * p.rel_size;
            out.lines[k] = wrap_words(p.text, width / size, unit_measure);
            out.height += (p.gap_before + static_cast<float>(out.lines[k].size())) * size * line_height;
        }
        return out.height;
    };
    FittedParagraphs out;
    min_px = std::min(min_px, max_px);
    for (float px = max_px;; px = std::max(px * 0.95f, min_px)) {
        if (lay_out(px, paragraphs.size(), out) <= height) return out;
        if (px <= min_px) break;
    }
    // At the smallest size: leave droppable paragraphs out from the end until the rest and a note fit.
    std::size_t count = paragraphs.size();
    auto with_note = [&](float px) { return lay_out(px, count, out) + (count < paragraphs.size() ? px * line_height : 0.0f); };
    while (count > 0 && paragraphs[count - 1].droppable) {
        --count;
        if (with_note(min_px) <= height) break;
    }
    // What may not be left out does not fit even then: smaller still (nothing below the box).
    float px = min_px;
    while (with_note(px) > height && px > 0.5f) px *= 0.95f;
    out.dropped = static_cast<int>(paragraphs.size() - count);
    out.height = with_note(px);
    return out;
}

std::string head_sum_formula(int n_heads) {
    std::string s = "E'_i = E_i";
    if (n_heads <= 0) return s;
    auto d = [](int h) { return "ΔE_" + std::to_string(h); };
    if (n_heads <= 3) {
        for (int h = 0; h < n_heads; ++h) s += " + " + d(h);
    } else {
        s += " + " + d(0) + " + … + " + d(n_heads - 1);
    }
    return s;
}

}  // namespace attnviz
