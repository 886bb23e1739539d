// attnviz core — GPT-2 model folders: load, save, check, random models (see gpt2_io.hpp).
#include "gpt2_io.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "parallel.hpp"
#include "random.hpp"
#include "scene_io.hpp"  // write_file_atomic

namespace attnviz {

namespace {
namespace fs = std::filesystem;

std::string join(const std::string& dir, const std::string& name) { return (fs::path(dir) / name).string(); }

std::string read_small_file(const std::string& path, std::size_t max_bytes) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw ModelError(path, "", "missing (or not a file)");
    const auto size = fs::file_size(path, ec);
    if (ec) throw ModelError(path, "", "cannot read: " + ec.message());
    if (size > max_bytes) throw ModelError(path, "", "too large (" + std::to_string(size) + " bytes)");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw ModelError(path, "", "cannot read");
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

int config_int(const nlohmann::json& j, const std::string& file, const char* key, int lo, int hi, const char* alt = nullptr) {
    const nlohmann::json* v = nullptr;
    if (j.contains(key)) v = &j[key];
    else if (alt && j.contains(alt)) v = &j[alt];
    if (!v) throw ModelError(file, key, "missing");
    if (!v->is_number_integer()) throw ModelError(file, key, "expected an integer, got " + v->dump());
    const auto x = v->get<std::int64_t>();
    if (x < lo || x > hi)
        throw ModelError(file, key, std::to_string(x) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    return static_cast<int>(x);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] config.json
// ---------------------------------------------------------------------------------------------
ModelConfig load_gpt2_config(const std::string& path) {
    const std::string text = read_small_file(path, 1 << 20);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(path, "", std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw ModelError(path, "", "expected a JSON object");
    ModelConfig c;
    c.d_model = config_int(j, path, "n_embd", 1, Gpt2Limits::kMaxDModel);
    c.n_layers = config_int(j, path, "n_layer", 1, Gpt2Limits::kMaxLayers);
    c.n_heads = config_int(j, path, "n_head", 1, Gpt2Limits::kMaxHeads);
    c.vocab_size = config_int(j, path, "vocab_size", 1, Gpt2Limits::kMaxVocab);
    c.n_ctx = config_int(j, path, "n_positions", 1, Gpt2Limits::kMaxPositions, "n_ctx");
    if (c.d_model % c.n_heads != 0)
        throw ModelError(path, "n_head", std::to_string(c.n_heads) + " does not divide n_embd " + std::to_string(c.d_model));
    if (j.contains("layer_norm_epsilon")) {
        const auto& e = j["layer_norm_epsilon"];
        if (!e.is_number() || !(e.get<double>() > 0) || !(e.get<double>() < 1))
            throw ModelError(path, "layer_norm_epsilon", "expected a number in (0, 1), got " + e.dump());
        c.ln_eps = e.get<float>();
    }
    if (j.contains("n_inner") && !j["n_inner"].is_null()) {
        if (!j["n_inner"].is_number_integer() || j["n_inner"].get<std::int64_t>() != 4 * static_cast<std::int64_t>(c.d_model))
            throw ModelError(path, "n_inner", j["n_inner"].dump() + " is not 4·n_embd (only GPT-2's MLP width is supported)");
    }
    if (j.contains("activation_function")) {
        const auto& a = j["activation_function"];
        const std::string s = a.is_string() ? a.get<std::string>() : a.dump();
        if (s != "gelu_new" && s != "gelu_pytorch_tanh" && s != "gelu_fast")
            throw ModelError(path, "activation_function", "\"" + s + "\" is not supported (GELU's tanh form: gelu_new)");
    }
    if (j.contains("scale_attn_by_inverse_layer_idx") && j["scale_attn_by_inverse_layer_idx"].is_boolean() &&
        j["scale_attn_by_inverse_layer_idx"].get<bool>())
        throw ModelError(path, "scale_attn_by_inverse_layer_idx", "true is not supported");
    if (j.contains("attnviz_attention_only")) {
        if (!j["attnviz_attention_only"].is_boolean()) throw ModelError(path, "attnviz_attention_only", "expected true or false");
        c.mlp = !j["attnviz_attention_only"].get<bool>();
    }
    return c;
}

std::string gpt2_config_json(const ModelConfig& c) {
    nlohmann::ordered_json j;
    j["architectures"] = {"GPT2LMHeadModel"};
    j["model_type"] = "gpt2";
    j["activation_function"] = "gelu_new";
    j["vocab_size"] = c.vocab_size;
    j["n_positions"] = c.n_ctx;
    j["n_ctx"] = c.n_ctx;
    j["n_embd"] = c.d_model;
    j["n_layer"] = c.n_layers;
    j["n_head"] = c.n_heads;
    j["n_inner"] = nullptr;
    j["layer_norm_epsilon"] = c.ln_eps;
    if (!c.mlp) j["attnviz_attention_only"] = true;
    return j.dump(2) + "\n";
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Shapes
// ---------------------------------------------------------------------------------------------
void check_model(const Model& m) {
    const ModelConfig& c = m.cfg;
    if (c.d_model <= 0 || c.n_heads <= 0 || c.d_model % c.n_heads != 0)
        throw ModelError("", "n_head", std::to_string(c.n_heads) + " does not divide d_model " + std::to_string(c.d_model));
    if (c.vocab_size <= 0 || c.n_ctx <= 0 || c.n_layers < 0) throw ModelError("", "config", "sizes must be positive");
    if (!(c.ln_eps > 0)) throw ModelError("", "layer_norm_epsilon", "must be positive");
    const auto mat = [](const Mat& x, Eigen::Index r, Eigen::Index k, const std::string& name) {
        if (x.rows() != r || x.cols() != k)
            throw ModelError("", name, "shape [" + std::to_string(x.rows()) + ", " + std::to_string(x.cols()) + "], expected [" +
                                           std::to_string(r) + ", " + std::to_string(k) + "]");
    };
    const auto vec = [](const RowVec& x, Eigen::Index k, const std::string& name) {
        if (x.size() != k)
            throw ModelError("", name, "size " + std::to_string(x.size()) + ", expected " + std::to_string(k));
    };
    const int d = c.d_model;
    mat(m.wte, c.vocab_size, d, "wte");
    mat(m.wpe, c.n_ctx, d, "wpe");
    vec(m.lnf_g, d, "lnf_g");
    vec(m.lnf_b, d, "lnf_b");
    if (static_cast<int>(m.layers.size()) != c.n_layers)
        throw ModelError("", "layers", std::to_string(m.layers.size()) + " layers, config says " + std::to_string(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        const LayerWeights& w = m.layers[static_cast<std::size_t>(l)];
        const std::string p = "layers[" + std::to_string(l) + "].";
        vec(w.ln1_g, d, p + "ln1_g");
        vec(w.ln1_b, d, p + "ln1_b");
        mat(w.W_qkv, d, 3 * d, p + "W_qkv");
        vec(w.b_qkv, 3 * d, p + "b_qkv");
        mat(w.W_o, d, d, p + "W_o");
        vec(w.b_o, d, p + "b_o");
        if (c.mlp) {
            vec(w.ln2_g, d, p + "ln2_g");
            vec(w.ln2_b, d, p + "ln2_b");
            mat(w.W_fc, d, 4 * d, p + "W_fc");
            vec(w.b_fc, 4 * d, p + "b_fc");
            mat(w.W_proj, 4 * d, d, p + "W_proj");
            vec(w.b_proj, d, p + "b_proj");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Load
// ---------------------------------------------------------------------------------------------
Model load_gpt2_folder(const std::string& dir, Gpt2Tokenizer* tok_out) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw ModelError(dir, "", "not a folder (expected config.json, vocab.json, merges.txt, model.safetensors)");
    Model m;
    m.cfg = load_gpt2_config(join(dir, "config.json"));
    const ModelConfig& c = m.cfg;
    const int d = c.d_model;

    if (tok_out) {
        const std::string vp = join(dir, "vocab.json"), mp = join(dir, "merges.txt");
        Gpt2Tokenizer tok = Gpt2Tokenizer::from_text(read_small_file(vp, std::size_t(1) << 30), read_small_file(mp, std::size_t(1) << 30), vp, mp);
        if (tok.max_id() >= c.vocab_size)
            throw ModelError(vp, "", "token id " + std::to_string(tok.max_id()) + " is not below config.json's vocab_size " +
                                         std::to_string(c.vocab_size));
        *tok_out = std::move(tok);
    }

    const std::string sp = join(dir, "model.safetensors");
    if (!fs::exists(sp, ec)) throw ModelError(sp, "", "missing");
    SafetensorsFile st(sp);
    std::string prefix;
    if (st.find("wte.weight")) prefix = "";
    else if (st.find("transformer.wte.weight")) prefix = "transformer.";
    else throw ModelError(sp, "wte.weight", "missing (neither wte.weight nor transformer.wte.weight)");

    // Layers the file has beyond config.json's n_layer: the two disagree.
    for (const auto& t : st.tensors()) {
        const std::string hp = prefix + "h.";
        if (t.name.rfind(hp, 0) != 0) continue;
        std::size_t i = hp.size();
        long long layer = 0;
        bool digits = false;
        while (i < t.name.size() && std::isdigit(static_cast<unsigned char>(t.name[i])) && layer < 1'000'000) {
            layer = layer * 10 + (t.name[i++] - '0');
            digits = true;
        }
        if (digits && layer >= c.n_layers)
            throw ModelError(sp, t.name, "layer " + std::to_string(layer) + " but config.json says n_layer " + std::to_string(c.n_layers));
    }

    m.wte = st.load_matrix(prefix + "wte.weight", c.vocab_size, d);
    m.wpe = st.load_matrix(prefix + "wpe.weight", c.n_ctx, d);
    m.layers.resize(static_cast<std::size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights& w = m.layers[static_cast<std::size_t>(l)];
        const std::string p = prefix + "h." + std::to_string(l) + ".";
        w.ln1_g = st.load_vector(p + "ln_1.weight", d);
        w.ln1_b = st.load_vector(p + "ln_1.bias", d);
        w.W_qkv = st.load_matrix(p + "attn.c_attn.weight", d, 3 * d);
        w.b_qkv = st.load_vector(p + "attn.c_attn.bias", 3 * d);
        w.W_o = st.load_matrix(p + "attn.c_proj.weight", d, d);
        w.b_o = st.load_vector(p + "attn.c_proj.bias", d);
        if (c.mlp) {
            w.ln2_g = st.load_vector(p + "ln_2.weight", d);
            w.ln2_b = st.load_vector(p + "ln_2.bias", d);
            w.W_fc = st.load_matrix(p + "mlp.c_fc.weight", d, 4 * d);
            w.b_fc = st.load_vector(p + "mlp.c_fc.bias", 4 * d);
            w.W_proj = st.load_matrix(p + "mlp.c_proj.weight", 4 * d, d);
            w.b_proj = st.load_vector(p + "mlp.c_proj.bias", d);
        }
    }
    m.lnf_g = st.load_vector(prefix + "ln_f.weight", d);
    m.lnf_b = st.load_vector(prefix + "ln_f.bias", d);
    for (const char* name : {"lm_head.weight", "transformer.lm_head.weight"}) {
        if (!st.find(name)) continue;
        const Mat head = st.load_matrix(name, c.vocab_size, d);
        if (head != m.wte)
            throw ModelError(sp, name, "differs from wte.weight: an untied unembedding is not supported");
    }
    return m;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Save
// ---------------------------------------------------------------------------------------------
std::vector<TensorToWrite> gpt2_tensors(const Model& m, const std::string& prefix) {
    std::vector<TensorToWrite> t;
    const auto add_m = [&](const std::string& name, const Mat& x) { t.push_back({prefix + name, {x.rows(), x.cols()}, x.data()}); };
    const auto add_v = [&](const std::string& name, const RowVec& x) { t.push_back({prefix + name, {x.size()}, x.data()}); };
    add_m("wte.weight", m.wte);
    add_m("wpe.weight", m.wpe);
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const LayerWeights& w = m.layers[l];
        const std::string p = "h." + std::to_string(l) + ".";
        add_v(p + "ln_1.weight", w.ln1_g);
        add_v(p + "ln_1.bias", w.ln1_b);
        add_m(p + "attn.c_attn.weight", w.W_qkv);
        add_v(p + "attn.c_attn.bias", w.b_qkv);
        add_m(p + "attn.c_proj.weight", w.W_o);
        add_v(p + "attn.c_proj.bias", w.b_o);
        if (m.cfg.mlp) {
            add_v(p + "ln_2.weight", w.ln2_g);
            add_v(p + "ln_2.bias", w.ln2_b);
            add_m(p + "mlp.c_fc.weight", w.W_fc);
            add_v(p + "mlp.c_fc.bias", w.b_fc);
            add_m(p + "mlp.c_proj.weight", w.W_proj);
            add_v(p + "mlp.c_proj.bias", w.b_proj);
        }
    }
    add_v("ln_f.weight", m.lnf_g);
    add_v("ln_f.bias", m.lnf_b);
    return t;
}

void save_gpt2_folder(const Model& m, const std::string& dir, const Gpt2Tokenizer& vocab, const Gpt2SaveOptions& opt) {
    check_model(m);
    if (vocab.max_id() >= m.cfg.vocab_size)
        throw ModelError(join(dir, "vocab.json"), "", "token id " + std::to_string(vocab.max_id()) + " is not below vocab_size " +
                                                           std::to_string(m.cfg.vocab_size));
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw ModelError(dir, "", "cannot create the folder: " + ec.message());
    std::vector<TensorToWrite> tensors = gpt2_tensors(m, opt.prefixed ? "transformer." : "");
    if (opt.lm_head) tensors.push_back({"lm_head.weight", {m.wte.rows(), m.wte.cols()}, m.wte.data()});
    write_safetensors(join(dir, "model.safetensors"), tensors, opt.dtype, {{"format", "pt"}});
    try {
        write_file_atomic(join(dir, "config.json"), gpt2_config_json(m.cfg));
        write_file_atomic(join(dir, "vocab.json"), vocab.vocab_json());
        write_file_atomic(join(dir, "merges.txt"), vocab.merges_txt());
    } catch (const SceneError& e) {
        throw ModelError(dir, "", e.what());
    }
}

void save_gpt2_folder(const Model& m, const std::string& dir, const std::vector<std::string>& token_texts, const Gpt2SaveOptions& opt) {
    save_gpt2_folder(m, dir, Gpt2Tokenizer::from_token_texts(token_texts), opt);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Random models
// ---------------------------------------------------------------------------------------------
namespace {
// N(0, 1) for (seed, stream, index): Box–Muller on two mixed counters (portable, parallel-safe).
inline float normal_at(std::uint64_t key, std::uint64_t i) {
    const std::uint64_t a = rng::mix(key ^ (2 * i + 1) * 0x9E3779B97F4A7C15ull);
    const std::uint64_t b = rng::mix(a ^ 0xD1B54A32D192ED03ull);
    const double u1 = (static_cast<double>(a >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(b >> 11) * 0x1.0p-53;
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}
void fill_normal(float* x, std::int64_t n, std::uint64_t key, float std) {
    const int blocks = static_cast<int>((n + 65535) / 65536);
    parallel_for(blocks, n > 1'000'000 ? 0 : 1, [&](int b) {
        const std::int64_t lo = std::int64_t(b) * 65536, hi = std::min<std::int64_t>(n, lo + 65536);
        for (std::int64_t i = lo; i < hi; ++i) x[i] = std * normal_at(key, static_cast<std::uint64_t>(i));
    });
}
}  // namespace

Model random_gpt2_model(const ModelConfig& cfg, std::uint64_t seed, bool random_affine, float std) {
    Model m;
    m.cfg = cfg;
    const int d = cfg.d_model;
    std::uint64_t stream = 0;
    const auto key = [&] { return rng::mix(seed * 0x100000001B3ull + ++stream); };
    const auto mat = [&](Mat& x, int r, int c, float s) {
        x.resize(r, c);
        fill_normal(x.data(), x.size(), key(), s);
    };
    const auto bias = [&](RowVec& x, int n) {
        x.setZero(n);
        if (random_affine) fill_normal(x.data(), n, key(), 0.1f);
    };
    const auto gain = [&](RowVec& x, int n) {
        x.setOnes(n);
        if (random_affine) {
            RowVec e(n);
            fill_normal(e.data(), n, key(), 0.2f);
            x += e;
        }
    };
    const float out_std = std / std::sqrt(2.0f * static_cast<float>(std::max(1, cfg.n_layers)));
    mat(m.wte, cfg.vocab_size, d, std);
    mat(m.wpe, cfg.n_ctx, d, std * 0.5f);
    m.layers.resize(static_cast<std::size_t>(cfg.n_layers));
    for (auto& w : m.layers) {
        gain(w.ln1_g, d);
        bias(w.ln1_b, d);
        mat(w.W_qkv, d, 3 * d, std);
        bias(w.b_qkv, 3 * d);
        mat(w.W_o, d, d, out_std);
        bias(w.b_o, d);
        if (cfg.mlp) {
            gain(w.ln2_g, d);
            bias(w.ln2_b, d);
            mat(w.W_fc, d, 4 * d, std);
            bias(w.b_fc, 4 * d);
            mat(w.W_proj, 4 * d, d, out_std);
            bias(w.b_proj, d);
        }
    }
    gain(m.lnf_g, d);
    bias(m.lnf_b, d);
    return m;
}

}  // namespace attnviz
