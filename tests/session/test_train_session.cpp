// The live trainer of the Train workspace (app/session/train_session.hpp) without a window: Play,
// Pause, Step and Reset on its worker thread, the bounded timeline of snapshots, and what it
// reports checked against a plain double-precision forward pass written here (from the GPT-2
// formulas, on the weights read back from the saved GPT-2 folder) — not against the trainer.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "gpt2_io.hpp"
#include "helpers.hpp"
#include "paths.hpp"
#include "train_session.hpp"

using namespace attnviz;
using namespace attnviz::app;

namespace {

// A tiny attention-only model on the induction task: fast enough to step hundreds of times.
TrainSettings tiny_settings() {
    TrainSettings s;
    s.task = TaskKind::Induction;
    s.context = 8;   // two copies of 4 tokens
    s.vocab = 8;
    s.layers = 1;
    s.heads = 2;
    s.d_model = 8;
    s.batch = 4;
    s.lr = 1e-2;
    s.seed = 3;
    s.threads = 1;
    s.log_every = 1;
    s.probe_every = 1;
    return s;
}

using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

MatD to_d(const Mat& m) { return m.cast<double>(); }

MatD layer_norm(const MatD& x, const RowVec& g, const RowVec& b, double eps) {
    MatD y(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        double mean = 0, var = 0;
        for (Eigen::Index j = 0; j < x.cols(); ++j) mean += x(i, j);
        mean /= double(x.cols());
        for (Eigen::Index j = 0; j < x.cols(); ++j) var += (x(i, j) - mean) * (x(i, j) - mean);
        var /= double(x.cols());
        for (Eigen::Index j = 0; j < x.cols(); ++j) y(i, j) = (x(i, j) - mean) / std::sqrt(var + eps) * g(j) + b(j);
    }
    return y;
}

// GPT-2's forward pass (attention only, causal) in double on `ids`: the logits (n, vocab) and every
// head's pattern [layer · heads + head] (n, n).
struct Reference {
    MatD logits;
    std::vector<MatD> patterns;
};
Reference reference_forward(const Model& m, const std::vector<int>& ids) {
    REQUIRE(!m.cfg.mlp);
    const int n = int(ids.size()), d = m.cfg.d_model, H = m.cfg.n_heads, dh = d / H;
    MatD x(n, d);  // (n, d)
    for (int t = 0; t < n; ++t) x.row(t) = to_d(m.wte.row(ids[std::size_t(t)])) + to_d(m.wpe.row(t));
    Reference r;
    for (const LayerWeights& L : m.layers) {
        const MatD a = layer_norm(x, L.ln1_g, L.ln1_b, m.cfg.ln_eps);
        MatD qkv = a * to_d(L.W_qkv);  // (n, 3d)
        for (int t = 0; t < n; ++t) qkv.row(t) += L.b_qkv.cast<double>();
        MatD mixed = MatD::Zero(n, d);  // (n, d)
        for (int h = 0; h < H; ++h) {
            MatD P = MatD::Zero(n, n);  // (n, n) row i = query i
            for (int i = 0; i < n; ++i) {
                std::vector<double> logit(std::size_t(i + 1));
                double mx = -1e300;
                for (int j = 0; j <= i; ++j) {
                    double dot = 0;
                    for (int k = 0; k < dh; ++k) dot += qkv(i, h * dh + k) * qkv(j, d + h * dh + k);
                    logit[std::size_t(j)] = dot / std::sqrt(double(dh));
                    mx = std::max(mx, logit[std::size_t(j)]);
                }
                double sum = 0;
                for (int j = 0; j <= i; ++j) sum += std::exp(logit[std::size_t(j)] - mx);
                for (int j = 0; j <= i; ++j) P(i, j) = std::exp(logit[std::size_t(j)] - mx) / sum;
            }
            for (int i = 0; i < n; ++i)
                for (int j = 0; j <= i; ++j)
                    for (int k = 0; k < dh; ++k) mixed(i, h * dh + k) += P(i, j) * qkv(j, 2 * d + h * dh + k);
            r.patterns.push_back(P);
        }
        MatD out = mixed * to_d(L.W_o);
        for (int t = 0; t < n; ++t) out.row(t) += L.b_o.cast<double>();
        x += out;
    }
    r.logits = layer_norm(x, m.lnf_g, m.lnf_b, m.cfg.ln_eps) * to_d(m.wte).transpose();
    return r;
}

// Mean next-token cross-entropy over the counted positions of every sequence of the batch.
double reference_loss(const Model& m, const Batch& b) {
    double sum = 0;
    long count = 0;
    for (std::size_t i = 0; i < b.sequences.size(); ++i) {
        const auto& s = b.sequences[i];
        const int lo = b.counted.empty() ? b.loss_begin : b.counted[i].first;  // the induction task counts per sequence
        const int hi = b.counted.empty() ? b.loss_end : b.counted[i].second;
        const std::vector<int> in(s.begin(), s.end() - 1);
        const MatD logits = reference_forward(m, in).logits;
        for (int t = std::max(0, lo); t < std::min(int(in.size()), hi); ++t) {
            const double mx = logits.row(t).maxCoeff();
            const double lse = mx + std::log((logits.row(t).array() - mx).exp().sum());
            sum += lse - logits(t, s[std::size_t(t + 1)]);
            ++count;
        }
    }
    return sum / double(count);
}

}  // namespace

TEST_CASE("train session: Pause stops the step count; Step advances exactly one; Play goes on") {
    LiveTrainer t(tiny_settings());
    CHECK(t.steps() == 0);
    t.play();
    for (int i = 0; i < 500 && t.steps() < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    t.pause();
    t.sync();
    const long paused_at = t.steps();
    CHECK(paused_at >= 5);
    CHECK_FALSE(t.playing());
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    CHECK(t.steps() == paused_at);
    CHECK(t.view()->step == paused_at);
    CHECK_FALSE(t.view()->playing);

    t.step();
    t.sync();
    CHECK(t.steps() == paused_at + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(t.steps() == paused_at + 1);
    t.step(3);
    t.sync();
    CHECK(t.steps() == paused_at + 4);
    // the paused view shows the current step's patterns
    REQUIRE(t.view()->probe);
    CHECK(t.view()->probe->step == paused_at + 4);
    // Step while playing pauses first, then takes exactly one
    t.play();
    for (int i = 0; i < 500 && t.steps() < paused_at + 8; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    t.step();
    t.sync();
    const long after = t.steps();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(t.steps() == after);
    CHECK(t.view()->steps_per_s > 0);
}

TEST_CASE("train session: Reset returns to step 0 with the seed's weights; a bad setting leaves the run as it is") {
    const TrainSettings s = tiny_settings();
    LiveTrainer t(s);
    const Task task = make_induction_task(8, 8, s.seed);
    ModelConfig cfg;
    cfg.vocab_size = 8, cfg.n_ctx = 8, cfg.d_model = 8, cfg.n_layers = 1, cfg.n_heads = 2, cfg.mlp = false;
    const Params<float> init = init_params<float>(cfg, s.seed);
    t.sync();
    CHECK(t.params().w == init.w);
    t.step(20);
    t.sync();
    CHECK(t.steps() == 20);
    CHECK(t.params().w != init.w);

    CHECK(t.reset() == "");
    t.sync();
    CHECK(t.steps() == 0);
    CHECK(t.params().w == init.w);
    const auto v = t.view();
    CHECK(v->step == 0);
    CHECK(v->losses.size() == 1);
    CHECK(v->snapshots.size() == 1);
    CHECK(v->run == 2);

    t.step(2);
    t.sync();
    TrainSettings bad = s;
    bad.heads = 3;  // 8 is not divisible by 3
    const std::string err = t.reset(bad);
    CHECK(err.find("d_model") != std::string::npos);
    t.sync();
    CHECK(t.steps() == 2);
    CHECK(t.view()->run == 2);

    // another seed: other weights, step 0
    TrainSettings other = s;
    other.seed = 4;
    CHECK(t.reset(other) == "");
    t.sync();
    CHECK(t.params().w == init_params<float>(cfg, 4).w);
}

TEST_CASE("train session: the timeline stays bounded and evenly spaced as training goes on") {
    TrainSettings s = tiny_settings();
    s.max_snapshots = 8;
    s.snapshot_every = 1;
    s.probe_every = 10;
    LiveTrainer t(s);
    for (int round = 0; round < 6; ++round) {
        t.step(37);
        t.sync();
        const auto v = t.view();
        INFO("step " << v->step);
        REQUIRE(v->snapshots.size() >= 2);
        CHECK(v->snapshots.size() <= 8);
        CHECK(v->snapshots.front().step == 0);
        const long gap = v->snapshots[1].step - v->snapshots[0].step;
        for (std::size_t i = 1; i < v->snapshots.size(); ++i) CHECK(v->snapshots[i].step - v->snapshots[i - 1].step == gap);
        // the newest snapshot is at most one interval old
        CHECK(v->step - v->snapshots.back().step < gap);
        for (const auto& snap : v->snapshots) {
            REQUIRE(snap.probe);
            CHECK(snap.probe->step == snap.step);
        }
    }
    CHECK(t.steps() == 6 * 37);
}

TEST_CASE("train session: a snapshot's patterns are those of the weights at its step (double-precision forward)") {
    TrainSettings s = tiny_settings();
    s.snapshot_every = 4;
    LiveTrainer t(s);
    t.step(12);
    t.sync();
    const auto v = t.view();
    REQUIRE(v->snapshots.size() == 4);  // steps 0, 4, 8, 12
    const TrainSnapshot& snap = v->snapshots[2];
    CHECK(snap.step == 8);

    // The same run again with core's session alone, to step 8 (same seed, one thread: the same bits).
    const Task task = make_task(s);
    TrainSession core(task, init_params<float>(model_config(s, task), s.seed), train_options(s));
    for (int i = 0; i < 8; ++i) core.step();
    REQUIRE(snap.weights);
    CHECK(*snap.weights == core.params().w);

    const Reference ref = reference_forward(model_from_params(core.params()), task.probe);
    REQUIRE(snap.probe->patterns.size() == 2);
    CHECK(snap.probe->tokens == task.probe);
    double worst = 0;
    for (std::size_t h = 0; h < 2; ++h) worst = std::max(worst, (to_d(snap.probe->patterns[h]) - ref.patterns[h]).cwiseAbs().maxCoeff());
    INFO("largest difference " << worst);
    CHECK(worst < 1e-5);
    // and the scores follow: the induction score of head 0 by its definition on the repeat
    const int T = int(task.probe.size()) / 2;
    double ind = 0;
    for (int i = T; i < 2 * T; ++i) ind += ref.patterns[0](i, i - T + 1);
    ind /= double(T);
    CHECK(snap.probe->scores.induction[0] == doctest::Approx(ind).epsilon(1e-5));
    // the step-0 snapshot differs from step 8's (it is not the live pattern)
    CHECK((v->snapshots[0].probe->patterns[0] - snap.probe->patterns[0]).cwiseAbs().maxCoeff() > 1e-4f);
}

TEST_CASE("train session: the reported losses equal the losses of the saved weights (double-precision forward)") {
    const TrainSettings s = tiny_settings();
    LiveTrainer t(s);
    t.step(15);
    t.sync();
    test::TempDir dir("train_session_loss");
    const std::string folder = dir.file("model");
    t.save(folder);
    t.sync();
    auto v = t.view();
    INFO(v->message);
    REQUIRE_FALSE(v->message_is_error);
    const Model m = load_gpt2_folder(folder);
    const Task task = make_task(s);
    // step 15's weights: the held-out loss logged at step 15, and step 16's batch loss before its update
    const double heldout = reference_loss(m, task.heldout);
    const double next = reference_loss(m, task.batch(15, s.batch));
    REQUIRE(v->losses.back().step == 15);
    CHECK(v->losses.back().heldout == doctest::Approx(heldout).epsilon(1e-5));
    t.step();
    t.sync();
    v = t.view();
    REQUIRE(v->losses.back().step == 16);
    CHECK(v->losses.back().loss == doctest::Approx(next).epsilon(1e-5));
    // the first point (step 0) is the first batch's loss at the seed's weights, near log(vocab)
    CHECK(v->losses.front().step == 0);
    CHECK(v->losses.front().loss == doctest::Approx(std::log(8.0)).epsilon(0.1));

    // saving into a path that is a file fails with a message naming it, and changes nothing
    const std::string file = dir.file("a_file");
    { std::ofstream(file) << "keep"; }
    t.save(file + "/model");
    t.sync();
    v = t.view();
    CHECK(v->message_is_error);
    CHECK(v->message.find(file) != std::string::npos);
}

namespace {
std::string slurp_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
}  // namespace

TEST_CASE("train workspace: Save as GPT-2 folder asks before replacing a model and never writes into the shipped assets") {
    TrainWorkspace w;
    w.edit = tiny_settings();
    test::TempDir dir("train_save_replace");
    // a folder that already holds someone's model: the first Save only asks, the second replaces
    const std::string folder = dir.file("theirs");
    std::filesystem::create_directories(folder);
    { std::ofstream(folder + "/config.json") << "{\"theirs\": true}"; }
    w.save_path = folder;
    const std::string asked = w.request_save();
    CHECK(asked.find("already holds a model") != std::string::npos);
    w.get().sync();
    CHECK(slurp_text(folder + "/config.json") == "{\"theirs\": true}");  // untouched
    CHECK_FALSE(std::filesystem::exists(folder + "/model.safetensors"));
    CHECK(w.request_save() == "");  // asked twice for the same folder: replaced
    w.get().sync();
    REQUIRE_FALSE(w.get().view()->message_is_error);
    CHECK(load_gpt2_folder(folder).cfg.n_layers == w.edit.layers);
    // a new folder is written at once
    w.save_path = dir.file("new");
    CHECK(w.request_save() == "");
    w.get().sync();
    CHECK(std::filesystem::exists(dir.file("new") + "/model.safetensors"));
    // a folder among the shipped assets is refused, whatever is asked (a new folder there, so that a
    // regression cannot overwrite the shipped checkpoint; removed again if it was written)
    w.save_path = asset_path("assets/models/attnviz_test_refused");
    CHECK(w.request_save().find("shipped") != std::string::npos);
    CHECK(w.request_save().find("shipped") != std::string::npos);
    w.get().sync();
    CHECK_FALSE(std::filesystem::exists(w.save_path));
    std::error_code ec;
    std::filesystem::remove_all(w.save_path, ec);
}
