// The analysis panels' worker state (app/session/model_analysis.hpp): requests run on the worker,
// results are adopted by poll(), equal requests do nothing, a newer request wins, the state dump
// names the ablated heads and the KL.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "gpt2_io.hpp"
#include "model_analysis.hpp"
#include "helpers.hpp"

using namespace attnviz;
using namespace attnviz::app;

namespace {
std::shared_ptr<const Model> tiny_model() {
    const ModelConfig c = test::model_config(40, 32, 16, 2, 2, ModelConfig{}.mlp);
    return std::make_shared<const Model>(random_gpt2_model(c, 31, true, 0.3f));
}
}  // namespace

TEST_CASE("model analysis: an ablation on the worker, then Reset gives KL 0") {
    const auto m = tiny_model();
    const std::vector<int> ids = {1, 5, 9, 2, 5, 9, 3};
    const auto before = std::make_shared<const Gpt2Forward>(*m, ids);
    ModelAnalysis a;
    CHECK(!a.comparison());
    a.intervention.ablate = {{1, 0}};
    a.want_comparison(m, before, a.intervention, 5, -1, 1);
    a.wait_idle();
    CHECK(a.poll());
    REQUIRE(a.comparison());
    CHECK(a.comparison_current());
    // The KL of the plain forward against a forward with L1H0 ablated, computed here.
    Gpt2Options o;
    o.ablate = {{1, 0}};
    const Gpt2Forward after(*m, ids, o);
    const double kl = kl_divergence(before->last_logits(), after.last_logits());
    CHECK(kl > 1e-6);
    CHECK(a.comparison()->c.kl == doctest::Approx(kl).epsilon(1e-9));
    // token −1: the logit difference of the top token before
    const int top = top_k(before->last_logits(), 1).front().id;
    CHECK(a.comparison()->c.token == top);
    CHECK(a.comparison()->c.logit_diff() == doctest::Approx(after.last_logits()(top) - before->last_logits()(top)));
    nlohmann::json j = nlohmann::json::parse(a.state_json());
    CHECK(j["ablated"] == nlohmann::json::array({"L1H0"}));
    CHECK(j["kl"].get<double>() > 0);
    // The same request again: nothing to do.
    a.want_comparison(m, before, a.intervention, 5, -1, 1);
    CHECK(!a.busy());
    CHECK(!a.poll());
    // Reset: no intervention, KL exactly 0.
    a.intervention = {};
    a.want_comparison(m, before, a.intervention, 5, -1, 1);
    CHECK(!a.comparison_current());  // asked, not adopted yet
    a.wait_idle();
    CHECK(a.poll());
    CHECK(a.comparison()->c.kl == 0.0);
    REQUIRE(a.comparison()->c.pattern_diff.size() == 2);
    for (const Mat& d : a.comparison()->c.pattern_diff) CHECK(d.isZero(0));
    j = nlohmann::json::parse(a.state_json());
    CHECK(j["pattern_diff_max"].get<double>() == 0.0);
    CHECK(j["ablated"].empty());
    CHECK(j["kl"].get<double>() == 0.0);
    CHECK(j["comparison_current"] == true);
}

TEST_CASE("model analysis: head labels and the logit lens on the worker") {
    const auto m = tiny_model();
    const auto f = std::make_shared<const Gpt2Forward>(*m, std::vector<int>{3, 4, 5, 6, 7, 8});
    ModelAnalysis a;
    a.label_T = 8;
    a.want_labels(m, f);
    a.want_lens(m, f, 2, 3);
    a.wait_idle();
    CHECK(a.poll());
    REQUIRE(a.labels());
    CHECK(a.labels()->scores.size() == 4);
    CHECK(a.labels_current());
    const auto want = label_heads_on_text(*f, 8, 1, 1);
    for (std::size_t i = 0; i < want.size(); ++i) {
        CHECK(a.labels()->scores[i].induction == want[i].induction);
        CHECK(a.labels()->scores[i].previous_token == want[i].previous_token);
    }
    REQUIRE(a.lens());
    CHECK(a.lens()->pos == 2);
    CHECK(a.lens()->rows.size() == 3);  // embeddings + 2 blocks
    CHECK(a.lens()->rows[0].top.size() == 3);
    // −1 is the last position
    a.want_lens(m, f, -1, 3);
    a.wait_idle();
    a.poll();
    CHECK(a.lens()->pos == 5);
    // A newer forward (another text) makes the shown labels stale until its own arrive.
    const auto g = std::make_shared<const Gpt2Forward>(*m, std::vector<int>{9, 9, 9});
    a.want_labels(m, g);
    CHECK(!a.labels_current());
    a.wait_idle();
    a.poll();
    CHECK(a.labels_current());
    CHECK(a.labels()->text == g.get());
}
