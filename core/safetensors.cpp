// attnviz core — safetensors reader (mmap) and writer. See safetensors.hpp.
#include "safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace attnviz {

namespace {
std::string error_text(const std::string& file, const std::string& tensor, const std::string& message) {
    std::string s;
    if (!file.empty()) s += file + ": ";
    if (!tensor.empty()) s += "tensor " + tensor + ": ";
    return s + message;
}

struct DtypeEntry {
    const char* name;
    Dtype dtype;
    int size;
};
constexpr DtypeEntry kDtypes[] = {
    {"F32", Dtype::F32, 4},   {"F16", Dtype::F16, 2},   {"BF16", Dtype::BF16, 2}, {"F64", Dtype::F64, 8},
    {"I8", Dtype::I8, 1},     {"U8", Dtype::U8, 1},     {"I16", Dtype::I16, 2},   {"U16", Dtype::U16, 2},
    {"I32", Dtype::I32, 4},   {"U32", Dtype::U32, 4},   {"I64", Dtype::I64, 8},   {"U64", Dtype::U64, 8},
    {"BOOL", Dtype::BOOL, 1},
};

std::uint64_t read_u64_le(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
std::uint16_t read_u16_le(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
}  // namespace

ModelError::ModelError(std::string file, std::string tensor, const std::string& message)
    : std::runtime_error(error_text(file, tensor, message)), file_(std::move(file)), tensor_(std::move(tensor)) {}

const char* dtype_name(Dtype d) {
    for (const auto& e : kDtypes)
        if (e.dtype == d) return e.name;
    return "?";
}
int dtype_size(Dtype d) {
    for (const auto& e : kDtypes)
        if (e.dtype == d) return e.size;
    return 0;
}

std::int64_t TensorInfo::numel() const {
    std::int64_t n = 1;
    for (auto s : shape) n *= s;
    return n;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Half precision
// ---------------------------------------------------------------------------------------------
float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t mant = h & 0x3ffu;
    std::uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400u) == 0);
            bits = sign | static_cast<std::uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | mant << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | mant << 13;
    }
    return std::bit_cast<float>(bits);
}

std::uint16_t float_to_half(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
    const std::uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
    if (absx >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to ≥ 65520: inf
    const int exp = static_cast<int>(absx >> 23) - 127;
    if (exp < -14) {  // subnormal half (or zero): value / 2^-24, rounded to nearest even
        if (exp < -25) return sign;
        const std::uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
        const int shift = -exp - 14 + 13;  // 14..24 … plus the 13 bits dropped
        const std::uint32_t q = mant >> shift;
        const std::uint32_t rem = mant & ((1u << shift) - 1);
        const std::uint32_t half = 1u << (shift - 1);
        std::uint32_t r = q + ((rem > half || (rem == half && (q & 1u))) ? 1u : 0u);
        return static_cast<std::uint16_t>(sign | r);
    }
    std::uint32_t h = static_cast<std::uint32_t>(exp + 15) << 10 | (absx & 0x7fffffu) >> 13;
    const std::uint32_t rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carries into the exponent correctly
    return static_cast<std::uint16_t>(sign | h);
}

float bf16_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

std::uint16_t float_to_bf16(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // NaN stays NaN
    const std::uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
    return static_cast<std::uint16_t>((x + rounding) >> 16);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Reader
// ---------------------------------------------------------------------------------------------
SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw ModelError(path, "", std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw ModelError(path, "", "not a regular file");
    }
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    if (size < 8) {
        ::close(fd);
        throw ModelError(path, "", "truncated: " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
    }
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (m == MAP_FAILED) throw ModelError(path, "", std::string("cannot map: ") + std::strerror(errno));
    map_ = static_cast<const unsigned char*>(m);
    map_size_ = size;
    try {
        const std::uint64_t n = read_u64_le(map_);
        if (n > kMaxSafetensorsHeaderBytes)
            throw ModelError(path, "", "header length " + std::to_string(n) + " bytes is over the limit of 100000000");
        if (n > size - 8)
            throw ModelError(path, "", "header length " + std::to_string(n) + " bytes runs past the end of the file (" +
                                           std::to_string(size) + " bytes): truncated file?");
        data_ = map_ + 8 + n;
        const std::uint64_t data_size = size - 8 - n;
        nlohmann::json header;
        try {
            header = nlohmann::json::parse(map_ + 8, map_ + 8 + n);
        } catch (const nlohmann::json::exception& e) {
            throw ModelError(path, "", std::string("header is not valid JSON: ") + e.what());
        }
        if (!header.is_object()) throw ModelError(path, "", "header is not a JSON object");
        for (auto it = header.begin(); it != header.end(); ++it) {
            const std::string& name = it.key();
            const auto& e = it.value();
            if (name == "__metadata__") {
                if (!e.is_object()) throw ModelError(path, "", "__metadata__ is not an object");
                for (auto m2 = e.begin(); m2 != e.end(); ++m2) {
                    if (!m2.value().is_string())
                        throw ModelError(path, "", "__metadata__." + m2.key() + " is not a string");
                    metadata_[m2.key()] = m2.value().get<std::string>();
                }
                continue;
            }
            if (!e.is_object()) throw ModelError(path, name, "entry is not an object");
            TensorInfo t;
            t.name = name;
            if (!e.contains("dtype") || !e["dtype"].is_string()) throw ModelError(path, name, "missing dtype");
            const std::string dt = e["dtype"].get<std::string>();
            const DtypeEntry* de = nullptr;
            for (const auto& d : kDtypes)
                if (dt == d.name) de = &d;
            if (!de) throw ModelError(path, name, "unknown dtype \"" + dt + "\"");
            t.dtype = de->dtype;
            if (!e.contains("shape") || !e["shape"].is_array()) throw ModelError(path, name, "missing shape");
            // numel · size must not overflow: each dimension ≤ 2^40 and the product checked as we go.
            std::uint64_t numel = 1;
            for (const auto& s : e["shape"]) {
                if (!s.is_number_integer() || s.get<std::int64_t>() < 0 || s.get<std::int64_t>() > (std::int64_t(1) << 40))
                    throw ModelError(path, name, "shape " + e["shape"].dump() + " holds a value that is not a size");
                const std::uint64_t d = s.get<std::uint64_t>();
                if (d != 0 && numel > (std::uint64_t(1) << 60) / d)
                    throw ModelError(path, name, "shape " + e["shape"].dump() + " is too large");
                numel *= d;
                t.shape.push_back(static_cast<std::int64_t>(d));
            }
            if (!e.contains("data_offsets") || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2 ||
                !e["data_offsets"][0].is_number_unsigned() || !e["data_offsets"][1].is_number_unsigned())
                throw ModelError(path, name, "data_offsets must be two non-negative integers");
            t.begin = e["data_offsets"][0].get<std::uint64_t>();
            t.end = e["data_offsets"][1].get<std::uint64_t>();
            const std::string offs = "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + ")";
            if (t.end < t.begin) throw ModelError(path, name, offs + " end before begin");
            if (t.end > data_size)
                throw ModelError(path, name, offs + " run past the end of the data (" + std::to_string(data_size) +
                                                 " bytes after the header): truncated file?");
            const std::uint64_t want = numel * static_cast<std::uint64_t>(de->size);
            if (t.end - t.begin != want)
                throw ModelError(path, name, offs + " hold " + std::to_string(t.end - t.begin) + " bytes but shape " +
                                                 e["shape"].dump() + " of " + dt + " needs " + std::to_string(want));
            index_[name] = tensors_.size();
            tensors_.push_back(std::move(t));
        }
        // Overlaps: sorted by begin, each non-empty tensor starts at or after the previous one's end.
        std::vector<const TensorInfo*> byoff;
        for (const auto& t : tensors_)
            if (t.end > t.begin) byoff.push_back(&t);
        std::sort(byoff.begin(), byoff.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
        for (std::size_t i = 1; i < byoff.size(); ++i)
            if (byoff[i]->begin < byoff[i - 1]->end)
                throw ModelError(path, byoff[i]->name, "data overlaps tensor " + byoff[i - 1]->name);
    } catch (...) {
        release();
        throw;
    }
}

void SafetensorsFile::release() {
    if (map_) ::munmap(const_cast<unsigned char*>(map_), map_size_);
    map_ = nullptr;
    data_ = nullptr;
    map_size_ = 0;
}

SafetensorsFile::~SafetensorsFile() { release(); }

SafetensorsFile::SafetensorsFile(SafetensorsFile&& o) noexcept
    : path_(std::move(o.path_)), map_(o.map_), map_size_(o.map_size_), data_(o.data_), tensors_(std::move(o.tensors_)),
      index_(std::move(o.index_)), metadata_(std::move(o.metadata_)) {
    o.map_ = nullptr;
    o.data_ = nullptr;
    o.map_size_ = 0;
}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& o) noexcept {
    if (this != &o) {
        release();
        path_ = std::move(o.path_);
        map_ = o.map_;
        map_size_ = o.map_size_;
        data_ = o.data_;
        tensors_ = std::move(o.tensors_);
        index_ = std::move(o.index_);
        metadata_ = std::move(o.metadata_);
        o.map_ = nullptr;
        o.data_ = nullptr;
        o.map_size_ = 0;
    }
    return *this;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::load_into(const TensorInfo& t, float* out) const {
    const std::size_t n = static_cast<std::size_t>(t.numel());
    const unsigned char* p = data_ + t.begin;
    switch (t.dtype) {
        case Dtype::F32:
            if constexpr (std::endian::native == std::endian::little) {
                if (n) std::memcpy(out, p, n * 4);
            } else {
                for (std::size_t i = 0; i < n; ++i) {
                    std::uint32_t v = 0;
                    for (int b = 3; b >= 0; --b) v = (v << 8) | p[4 * i + b];
                    out[i] = std::bit_cast<float>(v);
                }
            }
            break;
        case Dtype::F16:
            for (std::size_t i = 0; i < n; ++i) out[i] = half_to_float(read_u16_le(p + 2 * i));
            break;
        case Dtype::BF16:
            for (std::size_t i = 0; i < n; ++i) out[i] = bf16_to_float(read_u16_le(p + 2 * i));
            break;
        case Dtype::F64:
            for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(std::bit_cast<double>(read_u64_le(p + 8 * i)));
            break;
        default:
            throw ModelError(path_, t.name, std::string("dtype ") + dtype_name(t.dtype) + " is not a floating-point type");
    }
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(out[i]))
            throw ModelError(path_, t.name, "non-finite value " + std::to_string(out[i]) + " at flat index " + std::to_string(i));
}

std::vector<float> SafetensorsFile::load_flat(const std::string& name) const {
    const TensorInfo* t = find(name);
    if (!t) throw ModelError(path_, name, "missing");
    std::vector<float> out(static_cast<std::size_t>(t->numel()));
    load_into(*t, out.data());
    return out;
}

namespace {
std::string shape_text(const std::vector<std::int64_t>& s) {
    std::string r = "[";
    for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}
std::string want_text(std::int64_t r, std::int64_t c) {
    return "[" + (r < 0 ? std::string("*") : std::to_string(r)) + ", " + (c < 0 ? std::string("*") : std::to_string(c)) + "]";
}
}  // namespace

Mat SafetensorsFile::load_matrix(const std::string& name, std::int64_t rows, std::int64_t cols) const {
    const TensorInfo* t = find(name);
    if (!t) throw ModelError(path_, name, "missing");
    if (t->shape.size() != 2 || (rows >= 0 && t->shape[0] != rows) || (cols >= 0 && t->shape[1] != cols))
        throw ModelError(path_, name, "shape " + shape_text(t->shape) + ", expected " + want_text(rows, cols));
    Mat m(t->shape[0], t->shape[1]);  // (rows, cols)
    load_into(*t, m.data());
    return m;
}

RowVec SafetensorsFile::load_vector(const std::string& name, std::int64_t size) const {
    const TensorInfo* t = find(name);
    if (!t) throw ModelError(path_, name, "missing");
    if (t->shape.size() != 1 || (size >= 0 && t->shape[0] != size))
        throw ModelError(path_, name,
                         "shape " + shape_text(t->shape) + ", expected [" + (size < 0 ? std::string("*") : std::to_string(size)) + "]");
    RowVec r(t->shape[0]);
    load_into(*t, r.data());
    return r;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Writer
// ---------------------------------------------------------------------------------------------
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors, Dtype dtype,
                       const std::map<std::string, std::string>& metadata) {
    if (dtype != Dtype::F32 && dtype != Dtype::F16 && dtype != Dtype::BF16)
        throw ModelError(path, "", std::string("cannot write dtype ") + dtype_name(dtype));
    const int es = dtype_size(dtype);
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        nlohmann::ordered_json md = nlohmann::ordered_json::object();
        for (const auto& [k, v] : metadata) md[k] = v;
        header["__metadata__"] = md;
    }
    std::uint64_t offset = 0;
    for (const auto& t : tensors) {
        if (t.name.empty() || t.name == "__metadata__") throw ModelError(path, t.name, "invalid tensor name");
        if (header.contains(t.name)) throw ModelError(path, t.name, "written twice");
        std::int64_t numel = 1;
        for (auto s : t.shape) {
            if (s < 0) throw ModelError(path, t.name, "negative dimension");
            numel *= s;
        }
        if (numel > 0 && !t.data) throw ModelError(path, t.name, "no data");
        const std::uint64_t bytes = static_cast<std::uint64_t>(numel) * static_cast<std::uint64_t>(es);
        header[t.name] = {{"dtype", dtype_name(dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string h = header.dump();
    while ((8 + h.size()) % 8 != 0) h.push_back(' ');

    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw ModelError(path, "", "cannot write " + tmp + ": " + std::strerror(errno));
    bool ok = true;
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((static_cast<std::uint64_t>(h.size()) >> (8 * i)) & 0xffu);
    ok = ok && std::fwrite(len, 1, 8, f) == 8;
    ok = ok && std::fwrite(h.data(), 1, h.size(), f) == h.size();
    std::vector<unsigned char> buf;
    for (const auto& t : tensors) {
        if (!ok) break;
        std::int64_t numel = 1;
        for (auto s : t.shape) numel *= s;
        buf.resize(static_cast<std::size_t>(numel) * static_cast<std::size_t>(es));
        for (std::int64_t i = 0; i < numel; ++i) {
            std::uint32_t v;
            if (dtype == Dtype::F32) v = std::bit_cast<std::uint32_t>(t.data[i]);
            else if (dtype == Dtype::F16) v = float_to_half(t.data[i]);
            else v = float_to_bf16(t.data[i]);
            for (int b = 0; b < es; ++b) buf[static_cast<std::size_t>(i * es + b)] = static_cast<unsigned char>((v >> (8 * b)) & 0xffu);
        }
        ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
    }
    ok = (std::fflush(f) == 0) && ok;
    ok = (::fsync(fileno(f)) == 0) && ok;
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) {
        ::unlink(tmp.c_str());
        throw ModelError(path, "", "cannot write " + tmp + ": " + std::strerror(errno));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw ModelError(path, "", "cannot rename " + tmp + ": " + std::strerror(err));
    }
}

}  // namespace attnviz
