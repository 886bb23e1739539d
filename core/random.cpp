#include "random.hpp"

#include <cmath>

namespace attnviz::rng {

std::uint64_t hash_text(std::string_view s) {
    std::uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char ch : s) {
        h ^= ch;
        h *= 0x100000001B3ull;
    }
    return mix(h);
}

float normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
    std::uint64_t h = mix(seed ^ mix(stream * 0x632BE59BD9B4E019ull));
    h = mix(h ^ a);
    h = mix(h ^ (b * 0x9E3779B97F4A7C15ull));
    h = mix(h ^ (c * 0xD1B54A32D192ED03ull));
    // Box–Muller from two 26-bit uniforms in (0, 1].
    const double u1 = (static_cast<double>(h >> 38) + 1.0) / 67108864.0;
    const double u2 = static_cast<double>((h >> 12) & 0x3FFFFFF) / 67108864.0;
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

}  // namespace attnviz::rng
