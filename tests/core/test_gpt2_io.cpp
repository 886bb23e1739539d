// GPT-2 model folders: tiny checkpoints in the real Hugging Face layout, written here (F32 and F16,
// bare and "transformer." names), and every refusal naming the file and the tensor or field.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "gpt2_io.hpp"

#include "helpers.hpp"

using namespace attnviz;

namespace {
namespace fs = std::filesystem;

using test::TempDir;

ModelConfig tiny_config(bool mlp = true) { return test::model_config(50, 16, 32, 2, 4, mlp); }

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string config_text(int vocab, int ctx, int d, int layers, int heads) {
    return "{\"vocab_size\": " + std::to_string(vocab) + ", \"n_positions\": " + std::to_string(ctx) + ", \"n_embd\": " +
           std::to_string(d) + ", \"n_layer\": " + std::to_string(layers) + ", \"n_head\": " + std::to_string(heads) +
           ", \"layer_norm_epsilon\": 1e-05, \"activation_function\": \"gelu_new\", \"n_inner\": null}";
}

// A checkpoint written by hand in Hugging Face's names (not through gpt2_tensors): tensor k of the
// list below is filled with the value (k + 1) / 64, so the test can see where each one lands.
// `edit` may change the list (drop, reshape, add) before writing.
struct HandTensor {
    std::string name;
    std::vector<std::int64_t> shape;
    std::vector<float> data;
};
std::vector<HandTensor> hand_tensors(int vocab, int ctx, int d, int layers, const std::string& prefix) {
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> spec = {{"wte.weight", {vocab, d}}, {"wpe.weight", {ctx, d}}};
    for (int l = 0; l < layers; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        spec.push_back({p + "ln_1.weight", {d}});
        spec.push_back({p + "ln_1.bias", {d}});
        spec.push_back({p + "attn.c_attn.weight", {d, 3 * d}});
        spec.push_back({p + "attn.c_attn.bias", {3 * d}});
        spec.push_back({p + "attn.c_proj.weight", {d, d}});
        spec.push_back({p + "attn.c_proj.bias", {d}});
        spec.push_back({p + "ln_2.weight", {d}});
        spec.push_back({p + "ln_2.bias", {d}});
        spec.push_back({p + "mlp.c_fc.weight", {d, 4 * d}});
        spec.push_back({p + "mlp.c_fc.bias", {4 * d}});
        spec.push_back({p + "mlp.c_proj.weight", {4 * d, d}});
        spec.push_back({p + "mlp.c_proj.bias", {d}});
    }
    spec.push_back({"ln_f.weight", {d}});
    spec.push_back({"ln_f.bias", {d}});
    std::vector<HandTensor> out;
    for (std::size_t k = 0; k < spec.size(); ++k) {
        std::int64_t n = 1;
        for (auto s : spec[k].second) n *= s;
        out.push_back({prefix + spec[k].first, spec[k].second, std::vector<float>(static_cast<std::size_t>(n), float(k + 1) / 64)});
    }
    return out;
}
void write_hand_folder(const std::string& dir, const std::vector<HandTensor>& ts, const std::string& config, Dtype dtype = Dtype::F32) {
    fs::create_directories(dir);
    std::vector<TensorToWrite> w;
    for (const auto& t : ts) w.push_back({t.name, t.shape, t.data.data()});
    write_safetensors(dir + "/model.safetensors", w, dtype);
    write_text(dir + "/config.json", config);
    write_text(dir + "/vocab.json", R"({"a": 0, "b": 1, "Ġ": 2})");
    write_text(dir + "/merges.txt", "#version: 0.2\n");
}

std::string load_error(const std::string& dir, bool with_tokenizer = true) {
    try {
        Gpt2Tokenizer t;
        load_gpt2_folder(dir, with_tokenizer ? &t : nullptr);
    } catch (const ModelError& e) {
        return e.what();
    }
    return "";
}

bool all_equal(const Mat& m, float v) { return m.size() > 0 && (m.array() == v).all(); }
bool all_equal(const RowVec& m, float v) { return m.size() > 0 && (m.array() == v).all(); }
}  // namespace

TEST_CASE("gpt2 folder: a hand-written checkpoint in Hugging Face names lands in the right fields (both name styles, F32 and F16)") {
    TempDir dir("gpt2_hand");
    for (const std::string prefix : {"", "transformer."}) {
        for (Dtype dt : {Dtype::F32, Dtype::F16}) {
            const std::string d = dir.file(std::string("m") + (prefix.empty() ? "bare" : "pref") + dtype_name(dt));
            auto ts = hand_tensors(50, 16, 32, 2, prefix);
            // An old checkpoint's mask buffers are ignored.
            ts.push_back({prefix + "h.0.attn.bias", {1, 1, 16, 16}, std::vector<float>(256, 1.0f)});
            ts.push_back({prefix + "h.0.attn.masked_bias", {}, std::vector<float>(1, -1e4f)});
            write_hand_folder(d, ts, config_text(50, 16, 32, 2, 4), dt);
            Gpt2Tokenizer tok;
            const Model m = load_gpt2_folder(d, &tok);
            CHECK(tok.size() == 3);
            CHECK(m.cfg.d_model == 32);
            CHECK(m.cfg.n_heads == 4);
            CHECK(m.cfg.n_layers == 2);
            CHECK(m.cfg.vocab_size == 50);
            CHECK(m.cfg.n_ctx == 16);
            CHECK(m.cfg.mlp);
            // Values k/64 are exact in F16 too.
            CHECK(all_equal(m.wte, 1 / 64.f));
            CHECK(all_equal(m.wpe, 2 / 64.f));
            for (int l = 0; l < 2; ++l) {
                const auto& w = m.layers[static_cast<std::size_t>(l)];
                const float b = 2 + 12 * l;
                CHECK(all_equal(w.ln1_g, (b + 1) / 64));
                CHECK(all_equal(w.ln1_b, (b + 2) / 64));
                CHECK(all_equal(w.W_qkv, (b + 3) / 64));
                CHECK(w.W_qkv.rows() == 32);
                CHECK(w.W_qkv.cols() == 96);
                CHECK(all_equal(w.b_qkv, (b + 4) / 64));
                CHECK(all_equal(w.W_o, (b + 5) / 64));
                CHECK(all_equal(w.b_o, (b + 6) / 64));
                CHECK(all_equal(w.ln2_g, (b + 7) / 64));
                CHECK(all_equal(w.ln2_b, (b + 8) / 64));
                CHECK(all_equal(w.W_fc, (b + 9) / 64));
                CHECK(w.W_fc.cols() == 128);
                CHECK(all_equal(w.b_fc, (b + 10) / 64));
                CHECK(all_equal(w.W_proj, (b + 11) / 64));
                CHECK(w.W_proj.rows() == 128);
                CHECK(all_equal(w.b_proj, (b + 12) / 64));
            }
            CHECK(all_equal(m.lnf_g, 27 / 64.f));
            CHECK(all_equal(m.lnf_b, 28 / 64.f));
        }
    }
}

TEST_CASE("gpt2 folder: save then load gives the same model (F32 exact, F16 rounded, attention-only)") {
    TempDir dir("gpt2_roundtrip");
    const Model m = random_gpt2_model(tiny_config(), 7, true);
    check_model(m);
    std::vector<std::string> texts;
    for (int i = 0; i < 50; ++i) texts.push_back(std::string(1, static_cast<char>('A' + i)));
    save_gpt2_folder(m, dir.file("f32"), texts);
    Gpt2Tokenizer tok;
    const Model a = load_gpt2_folder(dir.file("f32"), &tok);
    CHECK(tok.encode("ABC") == std::vector<int>{0, 1, 2});
    CHECK(a.wte == m.wte);
    CHECK(a.wpe == m.wpe);
    CHECK(a.lnf_g == m.lnf_g);
    CHECK(a.lnf_b == m.lnf_b);
    for (std::size_t l = 0; l < 2; ++l) {
        CHECK(a.layers[l].W_qkv == m.layers[l].W_qkv);
        CHECK(a.layers[l].b_qkv == m.layers[l].b_qkv);
        CHECK(a.layers[l].W_o == m.layers[l].W_o);
        CHECK(a.layers[l].b_o == m.layers[l].b_o);
        CHECK(a.layers[l].ln1_g == m.layers[l].ln1_g);
        CHECK(a.layers[l].ln2_b == m.layers[l].ln2_b);
        CHECK(a.layers[l].W_fc == m.layers[l].W_fc);
        CHECK(a.layers[l].W_proj == m.layers[l].W_proj);
        CHECK(a.layers[l].b_proj == m.layers[l].b_proj);
    }
    // F16, "transformer." names, lm_head present (equal to wte): loads, values rounded to half.
    Gpt2SaveOptions o;
    o.dtype = Dtype::F16;
    o.prefixed = true;
    o.lm_head = true;
    save_gpt2_folder(m, dir.file("f16"), texts, o);
    {
        SafetensorsFile st(dir.file("f16") + "/model.safetensors");
        CHECK(st.find("transformer.h.1.mlp.c_proj.weight") != nullptr);
        CHECK(st.find("lm_head.weight") != nullptr);
        CHECK(st.find("transformer.h.1.mlp.c_proj.weight")->shape == std::vector<std::int64_t>{128, 32});
    }
    const Model b = load_gpt2_folder(dir.file("f16"));
    for (Eigen::Index i = 0; i < m.wte.size(); ++i) CHECK(b.wte.data()[i] == half_to_float(float_to_half(m.wte.data()[i])));
    CHECK((b.layers[1].W_qkv - m.layers[1].W_qkv).cwiseAbs().maxCoeff() < 1e-4f);
    // Attention-only models round-trip too (no ln_2 / MLP tensors written or read).
    const Model c = random_gpt2_model(tiny_config(false), 3);
    save_gpt2_folder(c, dir.file("attn_only"), texts);
    const Model d = load_gpt2_folder(dir.file("attn_only"));
    CHECK(!d.cfg.mlp);
    CHECK(d.layers[0].W_fc.size() == 0);
    CHECK(d.layers[1].W_o == c.layers[1].W_o);
    // Saving refuses a model whose shapes disagree with its config.
    Model bad = m;
    bad.layers[1].W_o.resize(32, 31);
    CHECK_THROWS_WITH_AS(save_gpt2_folder(bad, dir.file("bad"), texts), doctest::Contains("layers[1].W_o: shape [32, 31], expected [32, 32]"),
                         ModelError);
}

TEST_CASE("gpt2 folder: malformed folders are refused naming the file and the tensor") {
    TempDir dir("gpt2_bad");
    const std::string cfg = config_text(50, 16, 32, 2, 4);
    const auto make = [&](const std::string& name, const std::function<void(std::vector<HandTensor>&)>& edit,
                          const std::string& config) {
        auto ts = hand_tensors(50, 16, 32, 2, "");
        edit(ts);
        write_hand_folder(dir.file(name), ts, config);
        return dir.file(name);
    };
    const auto expect = [&](const std::string& folder, const std::string& file, const std::string& part) {
        const std::string msg = load_error(folder);
        CHECK_MESSAGE(msg.find(folder + "/" + file) == 0, msg);
        CHECK_MESSAGE(msg.find(part) != std::string::npos, msg);
    };
    const auto none = [](std::vector<HandTensor>&) {};
    CHECK(load_error(make("good", none, cfg)) == "");

    expect(make("missing_tensor", [](auto& ts) { std::erase_if(ts, [](auto& t) { return t.name == "h.1.mlp.c_fc.bias"; }); }, cfg),
           "model.safetensors", "tensor h.1.mlp.c_fc.bias: missing");
    expect(make("no_wte", [](auto& ts) { ts.erase(ts.begin()); }, cfg), "model.safetensors", "tensor wte.weight: missing");
    expect(make("shape", [](auto& ts) { ts[1] = {"wpe.weight", {8, 32}, std::vector<float>(256, 0.f)}; }, cfg), "model.safetensors",
           "tensor wpe.weight: shape [8, 32], expected [16, 32]");
    expect(make("qkv_shape", [](auto& ts) {
               for (auto& t : ts)
                   if (t.name == "h.0.attn.c_attn.weight") t = {t.name, {96, 32}, t.data};
           }, cfg),
           "model.safetensors", "tensor h.0.attn.c_attn.weight: shape [96, 32], expected [32, 96]");
    expect(make("nan", [](auto& ts) { ts[5].data[3] = std::nanf(""); }, cfg), "model.safetensors",
           "tensor h.0.attn.c_attn.bias: non-finite value");
    expect(make("extra_layer", [](auto& ts) { ts.push_back({"h.2.ln_1.weight", {32}, std::vector<float>(32, 1.f)}); }, cfg),
           "model.safetensors", "tensor h.2.ln_1.weight: layer 2 but config.json says n_layer 2");
    expect(make("lm_head", [](auto& ts) { ts.push_back({"lm_head.weight", {50, 32}, std::vector<float>(1600, 0.5f)}); }, cfg),
           "model.safetensors", "tensor lm_head.weight: differs from wte.weight");
    expect(make("heads", none, config_text(50, 16, 32, 2, 5)), "config.json", "n_head: 5 does not divide n_embd 32");
    expect(make("config_vs_file", none, config_text(50, 16, 64, 2, 4)), "model.safetensors",
           "tensor wte.weight: shape [50, 32], expected [50, 64]");
    expect(make("no_layers_key", none, R"({"vocab_size": 50, "n_positions": 16, "n_embd": 32, "n_head": 4})"), "config.json",
           "n_layer: missing");
    expect(make("bad_json", none, "{\"vocab_size\": "), "config.json", "not valid JSON");
    expect(make("act", none, R"({"vocab_size": 50, "n_positions": 16, "n_embd": 32, "n_layer": 2, "n_head": 4, "activation_function": "relu"})"),
           "config.json", "activation_function: \"relu\" is not supported");
    {  // vocabulary ids past vocab_size
        const std::string d = make("vocab_ids", none, cfg);
        write_text(d + "/vocab.json", R"({"a": 0, "b": 77})");
        expect(d, "vocab.json", "token id 77 is not below config.json's vocab_size 50");
        write_text(d + "/vocab.json", R"({"a": 0)");
        expect(d, "vocab.json", "not valid JSON");
    }
    {  // a truncated model.safetensors
        const std::string d = make("truncated", none, cfg);
        fs::resize_file(d + "/model.safetensors", fs::file_size(d + "/model.safetensors") - 100);
        expect(d, "model.safetensors", "run past the end of the data");
    }
    {  // missing files
        const std::string d = make("no_merges", none, cfg);
        fs::remove(d + "/merges.txt");
        expect(d, "merges.txt", "missing");
        CHECK(load_error(d, false) == "");  // the tokenizer's files are read only when asked for
        fs::remove(d + "/model.safetensors");
        CHECK(load_error(d, false).find(d + "/model.safetensors: missing") == 0);
        fs::remove(d + "/config.json");
        expect(d, "config.json", "missing");
    }
    CHECK(load_error(dir.file("nowhere")).find("not a folder") != std::string::npos);
}
