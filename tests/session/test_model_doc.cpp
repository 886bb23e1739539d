// The model document (no window): a GPT-2 folder written by the test is opened, text is encoded,
// the forward runs on the worker and its next-token top-k is checked against a softmax of the last
// position's logits computed here in double; a malformed folder leaves the document as it was; a
// new edit supersedes the running one; the layer's patterns reach AppState::patterns().
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "gpt2_io.hpp"
#include "model_doc.hpp"

using namespace attnviz;
using namespace attnviz::app;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path root;
    TempDir() {
        root = fs::temp_directory_path() / ("attnviz_model_doc_" + std::to_string(::getpid()) + "_" +
                                            std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        fs::remove_all(root);
        fs::create_directories(root);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
};

ModelConfig tiny_cfg() {
    ModelConfig c;
    c.vocab_size = 256;  // the 256 single bytes: id = byte value
    c.n_ctx = 64;
    c.d_model = 16;
    c.n_layers = 3;
    c.n_heads = 4;
    return c;
}

std::vector<std::string> byte_tokens() {
    std::vector<std::string> t;
    for (int b = 0; b < 256; ++b) t.push_back(std::string(1, static_cast<char>(b)));
    return t;
}

// Writes a tiny random model in the Hugging Face layout; returns its folder.
std::string write_tiny(const fs::path& dir, std::uint64_t seed = 7) {
    Model m = random_gpt2_model(tiny_cfg(), seed, true, 0.3f);
    save_gpt2_folder(m, dir.string(), byte_tokens());
    return dir.string();
}

std::vector<int> bytes_of(const std::string& t) {
    std::vector<int> ids;
    for (unsigned char c : t) ids.push_back(c);
    return ids;
}

std::string file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("model doc: opens a folder, encodes text, top-k is a softmax of the last logits") {
    TempDir tmp;
    const std::string dir = write_tiny(tmp.root / "tiny");
    auto doc = ModelDoc::open(dir);
    REQUIRE(doc);
    CHECK(doc->cfg().n_layers == 3);
    CHECK(doc->cfg().n_heads == 4);
    CHECK(doc->name() == "tiny");
    CHECK(doc->result() == nullptr);

    REQUIRE(doc->set_text("hi there\nyou"));
    CHECK(doc->ids == bytes_of("hi there\nyou"));  // a byte-level vocabulary without merges
    // pieces as vocab.json has them: the space is Ġ, the newline Ċ
    const auto pieces = doc->pieces();
    REQUIRE(pieces.size() == 12);
    CHECK(pieces[0] == "h");
    CHECK(pieces[2] == "\xC4\xA0");  // Ġ
    CHECK(pieces[8] == "\xC4\x8A");  // Ċ
    doc->wait_idle();
    CHECK(doc->poll());
    auto r = doc->result();
    REQUIRE(r);
    CHECK(doc->up_to_date());
    CHECK(r->in.ids == doc->ids);
    REQUIRE(r->top.size() == static_cast<std::size_t>(ModelDoc::kTopK));

    // The last position's logits from a forward pass of the same ids, softmax in double here.
    const Model& m = *doc->model;
    Gpt2Forward f(m, bytes_of("hi there\nyou"));
    const RowVec logits = f.last_logits();
    double mx = -1e300;
    for (int v = 0; v < logits.size(); ++v) mx = std::max(mx, static_cast<double>(logits(v)));
    double z = 0;
    for (int v = 0; v < logits.size(); ++v) z += std::exp(static_cast<double>(logits(v)) - mx);
    std::vector<int> order(static_cast<std::size_t>(logits.size()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits(a) > logits(b); });
    double total = 0;
    for (int k = 0; k < ModelDoc::kTopK; ++k) {
        const double p = std::exp(static_cast<double>(logits(order[static_cast<std::size_t>(k)])) - mx) / z;
        CHECK(r->top[static_cast<std::size_t>(k)].id == order[static_cast<std::size_t>(k)]);
        CHECK(r->top[static_cast<std::size_t>(k)].prob == doctest::Approx(p).epsilon(1e-5));
        total += r->top[static_cast<std::size_t>(k)].prob;
    }
    CHECK(total <= 1.0 + 1e-6);
    CHECK(r->top[0].prob > 1.0 / 256);  // random weights still prefer some tokens

    // The selected layer's patterns: n × n, one per head, the selection clamped.
    doc->select(7, -3);
    CHECK(doc->layer == 2);
    CHECK(doc->head == 0);
    auto src = doc->patterns();
    REQUIRE(src);
    CHECK(src->n() == 12);
    CHECK(src->n_heads() == 4);
    const Mat P = f.pattern(2, 3);
    CHECK(src->cell(3, 11, 4).weight == doctest::Approx(P(11, 4)).epsilon(1e-6));
}

TEST_CASE("model doc: a text the vocabulary cannot encode changes nothing") {
    ModelConfig c = tiny_cfg();
    c.vocab_size = 128;
    auto m = std::make_shared<Model>(random_gpt2_model(c, 3));
    std::vector<std::string> ascii;
    for (int b = 0; b < 128; ++b) ascii.push_back(std::string(1, static_cast<char>(b)));
    ModelDoc doc(m, Gpt2Tokenizer::from_token_texts(ascii));
    REQUIRE(doc.set_text("abc"));
    std::string err;
    CHECK_FALSE(doc.set_text("caf\xC3\xA9", &err));  // é's bytes are not tokens here
    CHECK(err.find("no token") != std::string::npos);
    CHECK(doc.text == "abc");
    CHECK(doc.ids == bytes_of("abc"));
    // more tokens than positions: cut to n_ctx, said so
    REQUIRE(doc.set_text(std::string(100, 'a')));
    CHECK(doc.ids.size() == 64);
    CHECK(doc.truncated);
}

TEST_CASE("model doc: a new edit supersedes the running one; other slots run other options") {
    ModelConfig c = tiny_cfg();
    c.n_ctx = 1024;
    c.d_model = 64;
    c.n_layers = 6;
    auto m = std::make_shared<Model>(random_gpt2_model(c, 5));
    ModelDoc doc(m, Gpt2Tokenizer::from_token_texts(byte_tokens()));
    // several edits in quick succession, the first ones long: only the newest is shown
    REQUIRE(doc.set_text(std::string(1000, 'x')));
    REQUIRE(doc.set_text(std::string(900, 'y')));
    REQUIRE(doc.set_text("short"));
    doc.wait_idle();
    doc.poll();
    auto r = doc.result();
    REQUIRE(r);
    CHECK(r->in.ids == bytes_of("short"));
    CHECK(doc.up_to_date());
    CHECK_FALSE(doc.busy());

    // A slot of its own: the same ids with head (1, 2) ablated; the main result stays.
    ModelInputs in = doc.inputs();
    in.opt.ablate = {{1, 2}};
    doc.request("ablated", in);
    doc.wait_idle();
    CHECK(doc.poll());
    auto a = doc.result("ablated");
    REQUIRE(a);
    CHECK(doc.result() == r);
    CHECK(a->in.opt.ablated(1, 2));
    CHECK((a->fwd->mixed(1).middleCols(2 * 16, 16).array() == 0).all());
    CHECK((r->fwd->mixed(1).middleCols(2 * 16, 16).array() != 0).any());

    // A cancelled computation leaves the last finished result.
    REQUIRE(doc.set_text(std::string(1000, 'z')));
    doc.cancel();
    doc.wait_idle();
    doc.poll();
    REQUIRE(doc.result());
    if (!doc.up_to_date()) CHECK(doc.result() == r);  // (it may also have finished before the cancel)
}

TEST_CASE("model doc: a malformed folder leaves the document as it was") {
    TempDir tmp;
    const std::string good = write_tiny(tmp.root / "good");
    const fs::path bad = tmp.root / "bad";
    fs::create_directories(bad);
    for (const char* f : {"config.json", "vocab.json", "merges.txt"}) fs::copy_file(fs::path(good) / f, bad / f);
    // model.safetensors cut in the middle of the data
    const std::string st = file_bytes(fs::path(good) / "model.safetensors");
    {
        std::ofstream out(bad / "model.safetensors", std::ios::binary);
        out.write(st.data(), static_cast<std::streamsize>(st.size() / 2));
    }

    AppState s;
    s.new_scene();
    const auto scene_text = s.scene.input.text;
    // a scene is the document: a bad folder keeps it
    CHECK_FALSE(s.open_model(bad.string()));
    CHECK(s.model == nullptr);
    CHECK(s.status_is_error);
    CHECK(s.status.find("model.safetensors") != std::string::npos);
    CHECK(s.scene.input.text == scene_text);

    // a model is the document: a bad folder keeps it too
    REQUIRE(s.open_model(good, "abc"));
    auto before = s.model;
    CHECK_FALSE(s.open_model(bad.string()));
    CHECK(s.model == before);
    CHECK(s.status.find("model.safetensors") != std::string::npos);
    // the message names the tensor whose data is cut
    CHECK((s.status.find(".weight") != std::string::npos || s.status.find(".bias") != std::string::npos));
    CHECK_FALSE(s.open_model((tmp.root / "missing").string()));
    CHECK(s.model == before);

    // the state dump carries the model's fields once the forward finished
    s.model->wait_idle();
    CHECK(s.poll_model());
    auto j = nlohmann::json::parse(s.state_json());
    REQUIRE(j.contains("model"));
    CHECK(j["model"]["folder"] == good);
    CHECK(j["model"]["pieces"] == nlohmann::json::array({"a", "b", "c"}));
    CHECK(j["model"]["top_k"].size() == 10);
    CHECK(j["model"]["layer"] == 0);
    // views read the model's layer
    auto src = s.patterns();
    REQUIRE(src);
    CHECK(src->n() == 3);
    // opening a scene makes it the document again
    s.new_scene();
    CHECK(s.model == nullptr);
    CHECK(s.patterns()->n() == s.scene.n());
}

TEST_CASE("model doc: opening a model while the scene is modified asks first") {
    TempDir tmp;
    const std::string good = write_tiny(tmp.root / "good");
    AppState s;
    s.new_scene();
    s.edit([](Scene& sc) { sc.scale = !sc.scale; });
    REQUIRE(s.modified);
    CHECK_FALSE(s.request_open_model(good));
    CHECK(s.pending_switch.active());
    CHECK(s.model == nullptr);
    s.resolve_unsaved(UnsavedChoice::Cancel);
    CHECK(s.model == nullptr);
    CHECK(s.modified);
    CHECK_FALSE(s.request_open_model(good));
    s.resolve_unsaved(UnsavedChoice::Discard);
    REQUIRE(s.model != nullptr);
    CHECK_FALSE(s.has_unsaved_changes());
}

TEST_CASE("model doc: a lecture scene with \"model\" opens that GPT-2 folder with the scene's tokens") {
    const fs::path scene_path = fs::path(ATTNVIZ_SCENES) / "10_induction_head_trained.json";
    REQUIRE(fs::exists(scene_path));
    // What the scene and the folder say, read here with plain JSON: the tokens, and each token's id.
    nlohmann::json scene_json = nlohmann::json::parse(std::ifstream(scene_path));
    const fs::path folder = (scene_path.parent_path() / scene_json["model"].get<std::string>());
    nlohmann::json vocab = nlohmann::json::parse(std::ifstream(folder / "vocab.json"));
    std::vector<int> want;
    for (const auto& t : scene_json["tokens"]) want.push_back(vocab.at(t.get<std::string>()).get<int>());
    REQUIRE(want.size() > 8);

    AppState s;
    REQUIRE(s.open_file(scene_path.string()));
    REQUIRE(s.model);
    CHECK(s.model->ids == want);
    CHECK(fs::equivalent(s.model->folder, folder));
    CHECK(s.model->cfg().n_layers == nlohmann::json::parse(std::ifstream(folder / "config.json"))["n_layer"].get<int>());
}
