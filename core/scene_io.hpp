// attnviz core — scene files (JSON) and data export.
//
// The format is documented in docs/scene-format.md. Loading checks every field and throws
// SceneError whose path names the JSON field ("heads[1].W_K: expected 8 rows of 4 numbers, got 7
// rows"); sizes are checked against Limits before any matrix is allocated. Saving writes floats
// in their shortest round-trip form, so load(save(s)) == s exactly.
#pragma once

#include <string>

#include "engine.hpp"
#include "scene.hpp"

namespace attnviz {

inline constexpr std::size_t kMaxSceneFileBytes = std::size_t(1) << 30;  // 1 GiB
inline constexpr int kMaxJsonDepth = 64;                                  // nesting of [ and {
inline constexpr std::size_t kMaxJsonValues = std::size_t(1) << 27;       // numbers, strings, … in one file

Scene scene_from_json(const std::string& json_text);
// One pass over the bytes before parsing: throws SceneError if [ and { nest deeper than
// max_depth or the text holds more than max_values values (scene_from_json calls it).
void prescan_json(const std::string& text, int max_depth = kMaxJsonDepth, std::size_t max_values = kMaxJsonValues);
std::string scene_to_json(const Scene& s);

Scene load_scene(const std::string& path);          // throws SceneError (path "" for I/O errors)
// Writes atomically: a temporary file in the same folder, flushed to disk, then renamed.
void save_scene(const Scene& s, const std::string& path);
void write_file_atomic(const std::string& path, const std::string& contents);
std::string read_file(const std::string& path, std::size_t max_bytes);

// Every intermediate as JSON: {"tokens", "embeddings", "heads": [{"Q","K","V","scores","pattern",
// "delta"}], "delta", "output", …} with matrices as arrays of rows.
std::string export_json(const Scene& s, const Forward& f);
// A matrix as CSV; with labels, a header row of column labels and a first column of row labels.
std::string matrix_csv(const Mat& m, const std::vector<std::string>* row_labels = nullptr,
                       const std::vector<std::string>* col_labels = nullptr);
// A matrix as a NumPy .npy file (little-endian float32, C order).
std::string matrix_npy(const Mat& m);

// Shortest decimal text that reads back as exactly `v`.
std::string format_float(float v);

}  // namespace attnviz
