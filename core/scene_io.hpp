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

// What one scene file may hold (docs/scene-format.md). Memory while loading stays proportional to
// the file: the text (≤ 1 GiB), the parsed document (~40 bytes a JSON value, ≤ kMaxJsonValues of
// them; a matrix in the compact base64 form is one string, ~1.4 bytes a value), the matrices.
inline constexpr std::size_t kMaxSceneFileBytes = std::size_t(1) << 30;  // 1 GiB
inline constexpr int kMaxJsonDepth = 64;                                  // nesting of [ and {
inline constexpr std::size_t kMaxJsonValues = std::size_t(1) << 23;       // numbers, strings, … in one file
inline constexpr std::size_t kMaxViewBytes = std::size_t(1) << 20;        // the "view" object's text
inline constexpr std::size_t kMaxViewValues = std::size_t(1) << 16;       // values inside "view"

// Throws SceneError naming the JSON path: invalid JSON, a NUL byte anywhere (naming the offset),
// a key given twice in one object, an unknown field, a wrong shape, a value out of range, a
// `view` over kMaxViewBytes; running out of memory becomes a SceneError too.
Scene scene_from_json(const std::string& json_text);
// One pass over the bytes before parsing: throws SceneError if [ and { nest deeper than
// max_depth, the text holds more than max_values values, or a NUL byte (scene_from_json calls it).
void prescan_json(const std::string& text, int max_depth = kMaxJsonDepth, std::size_t max_values = kMaxJsonValues);
std::string scene_to_json(const Scene& s);

// throws SceneError (path "" for I/O errors). A scene with a "model" gets Scene::model_dir: the
// folder resolved against the scene file's folder (SceneError "model: …" naming it when it is not
// there or has no config.json).
Scene load_scene(const std::string& path);
// Writes atomically: a temporary file in the same folder, flushed to disk, then renamed. A "model"
// that load_scene resolved is written relative to the new file's folder (the same folder).
void save_scene(const Scene& s, const std::string& path);
// The folder a scene's "model" names, for a scene file at `scene_path`: absolute and normalised.
// Throws SceneError "model: …" naming the folder when it is missing or has no config.json.
std::string scene_model_folder(const std::string& model, const std::string& scene_path);
// core/file_io.hpp's write_file and read_regular_file (the promises are there), errors as SceneError.
void write_file_atomic(const std::string& path, const std::string& contents);
std::string read_file(const std::string& path, std::size_t max_bytes);

// Every intermediate as JSON, and everything needed to recompute them from this file alone:
// {"tokens", "embeddings" (E, positional encoding included), "source_embeddings" (cross),
// "logit_factor", "mask" (its kind), "allowed" ((n, m) 0/1: the mask cell by cell),
// "heads": [{"W_Q", "W_K", "W_V" (d_model, d_head), "W_O" (d_head, d_model: this head's rows of
// W_O), "Q", "K", "V", "scores", "pattern", "delta"}], "W_O", "delta", "output", …}; matrices
// as arrays of rows; drawn weights included. A number that is not finite is never written (JSON has
// none; nlohmann would write null): SceneError naming the matrix and cell ("heads[0].pattern[1][0]").
std::string export_json(const Scene& s, const Forward& f);
// "3:the": token texts with their index, so that labels are unique in long texts.
std::vector<std::string> indexed_labels(const std::vector<std::string>& texts);
// A matrix as CSV: always a header row (`corner`, then the column labels) and a first column of
// row labels; missing labels are the row or column indices ("0", "1", …). NaN and +∞ are refused
// (SceneError naming `name`[row][col]); −∞ (a masked logit of the masked stage) is written as -inf.
std::string matrix_csv(const Mat& m, const std::vector<std::string>* row_labels = nullptr,
                       const std::vector<std::string>* col_labels = nullptr, const std::string& corner = "row\\column",
                       const std::string& name = "matrix");
// A matrix as a NumPy .npy file (little-endian float32, C order). Non-finite numbers are refused.
std::string matrix_npy(const Mat& m, const std::string& name = "matrix");

// Shortest decimal text that reads back as exactly `v`.
std::string format_float(float v);

}  // namespace attnviz
