// attnviz core — safetensors files: a reader (memory-mapped) and a writer.
//
// The format (https://github.com/huggingface/safetensors):
//   u64 little-endian N | N bytes of JSON header (may end in spaces) | raw data
//   header: {"NAME": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]}, …,
//            "__metadata__": {"key": "value", …}}   (optional, strings only)
//   offsets count from the first byte after the header; data little-endian, row-major (C order).
//
// Reading checks the whole header when the file is opened and refuses, with a ModelError naming
// the file and the tensor: a file shorter than 8 bytes, a header length past the end of the file
// or over 100,000,000 bytes (the reference reader's limit), a header that is not a JSON object of
// well-formed entries, an unknown dtype, offsets past the end of the data, offsets that do not
// match shape × dtype size, overlapping tensors. Loading a tensor converts F32, F16, BF16 (and F64)
// to float and refuses a non-finite value (naming the tensor and the index). Integer and bool
// tensors are accepted in the header (old GPT-2 files carry mask buffers) but cannot be loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "types.hpp"

namespace attnviz {

// An error in a model file or folder: `file` and `tensor` (either may be empty) name where.
// what() = "FILE: tensor NAME: message" (the parts that are known).
class ModelError : public std::runtime_error {
public:
    ModelError(std::string file, std::string tensor, const std::string& message);
    const std::string& file() const { return file_; }
    const std::string& tensor() const { return tensor_; }

private:
    std::string file_, tensor_;
};

enum class Dtype { F32, F16, BF16, F64, I8, U8, I16, U16, I32, U32, I64, U64, BOOL };
const char* dtype_name(Dtype d);
int dtype_size(Dtype d);  // bytes per element

struct TensorInfo {
    std::string name;
    Dtype dtype = Dtype::F32;
    std::vector<std::int64_t> shape;  // empty = a scalar
    std::uint64_t begin = 0, end = 0;  // byte offsets into the data section
    std::int64_t numel() const;
};

inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

class SafetensorsFile {
public:
    // Maps the file and checks its header; throws ModelError.
    explicit SafetensorsFile(const std::string& path);
    ~SafetensorsFile();
    SafetensorsFile(SafetensorsFile&&) noexcept;
    SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::string& path() const { return path_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in header order
    const TensorInfo* find(const std::string& name) const;                // nullptr when absent
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

    // The tensor's values as float, row-major (any shape, numel values). Throws ModelError for a
    // missing tensor, a non-float dtype or a non-finite value.
    std::vector<float> load_flat(const std::string& name) const;
    // A 2-D tensor as a matrix (a 1-D tensor as one row). Throws when the shape is not
    // (rows, cols) — `rows`/`cols` < 0 accept any size; the message names the expected shape.
    Mat load_matrix(const std::string& name, std::int64_t rows = -1, std::int64_t cols = -1) const;
    // A 1-D tensor of `size` values (any size when < 0).
    RowVec load_vector(const std::string& name, std::int64_t size = -1) const;

private:
    std::string path_;
    const unsigned char* map_ = nullptr;
    std::size_t map_size_ = 0;
    const unsigned char* data_ = nullptr;  // first byte after the header
    std::vector<TensorInfo> tensors_;
    std::map<std::string, std::size_t> index_;
    std::map<std::string, std::string> metadata_;
    void release();
    void load_into(const TensorInfo& t, float* out) const;  // numel floats
};

// A tensor to write: `data` holds numel(shape) floats, row-major.
struct TensorToWrite {
    std::string name;
    std::vector<std::int64_t> shape;
    const float* data = nullptr;
};

// Writes a safetensors file (F32, or F16 / BF16 rounded to nearest even) atomically: a temporary
// file in the same folder, then renamed. The header is padded with spaces so the data starts at a
// multiple of 8 bytes. Tensors are stored in the order given. Throws ModelError.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors, Dtype dtype = Dtype::F32,
                       const std::map<std::string, std::string>& metadata = {});

// Half-precision conversions (exact IEEE 754 binary16 / bfloat16; round to nearest even).
float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);
float bf16_to_float(std::uint16_t b);
std::uint16_t float_to_bf16(float f);

}  // namespace attnviz
