// attnviz core — deterministic numbers drawn from a seed.
//
// Every drawn value is a pure function of (seed, stream, row, column): the same scene always gets
// the same weights on every machine, growing a matrix keeps the entries it already had, and a
// token's embedding depends on its text alone (not on its position).
#pragma once

#include <cstdint>
#include <string_view>

namespace attnviz::rng {

// SplitMix64 finaliser: a good 64-bit mixing function.
constexpr std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// FNV-1a of a string, then mixed.
std::uint64_t hash_text(std::string_view s);

// Stream identifiers.
enum Stream : std::uint64_t {
    kEmbedding = 1,
    kLearnedPosition = 2,
    kWeightQ = 3,
    kWeightK = 4,
    kWeightV = 5,
    kWeightO = 6,
};

// A standard-normal number for (seed, stream, a, b, c). Portable: no std:: distributions.
float normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b, std::uint64_t c);

}  // namespace attnviz::rng
