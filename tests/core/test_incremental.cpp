// Incremental edits of PatternTiles against a full forward pass of the edited scene.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>

#include "engine.hpp"
#include "helpers.hpp"
#include "incremental.hpp"

using namespace attnviz;
using attnviz::test::word;

namespace {

std::vector<std::string> token_list(int n) {
    std::vector<std::string> tokens;
    for (int i = 0; i < n; ++i) tokens.push_back(word("w", (i * 31) % (n / 3 + 1)));
    return tokens;
}

Scene inc_scene(int n, const Mask& mask, float temperature = 1.0f) {
    Scene s = make_scene(token_list(n), 24, 3, 8, 17);
    set_positional(s, Positional::Learned);
    set_mask(s, mask);
    set_temperature(s, temperature);
    return s;
}

Mat col(const std::vector<float>& v) { return Eigen::Map<const Mat>(v.data(), static_cast<Eigen::Index>(v.size()), 1); }

// The statistics and on-demand results of `t` against a full forward pass of `s`.
void check_equals_full(const PatternTiles& t, const Scene& s, float tol) {
    const Forward f = forward(s);
    for (int h = 0; h < s.n_heads; ++h) {
        CAPTURE(h);
        const HeadResult& r = f.heads[static_cast<std::size_t>(h)];
        const HeadStats& st = t.head(h);
        CHECK_MAT(st.Q, r.Q, 1e-5f);
        CHECK_MAT(st.K, r.K, 1e-5f);
        CHECK_MAT(st.V, r.V, 1e-5f);
        // Maxima compared relative to their size (logits reach hundreds at low temperature).
        CHECK_MAT(Mat(col(st.row_max).array() / (col(r.row_max).array().abs() + 1.0f)),
                  Mat(col(r.row_max).array() / (col(r.row_max).array().abs() + 1.0f)), tol);
        // Sums compared relative to their size (a row sum is between 1 and n).
        Mat rel = col(st.row_sum);
        for (Eigen::Index i = 0; i < rel.rows(); ++i) rel(i) = r.row_sum[i] > 0 ? rel(i) / r.row_sum[i] : rel(i);
        Mat ones = col(r.row_sum);
        for (Eigen::Index i = 0; i < ones.rows(); ++i) ones(i) = r.row_sum[i] > 0 ? 1.0f : 0.0f;
        CHECK_MAT(rel, ones, tol);
        CHECK_MAT(st.mixed, r.mixed, tol);
        CHECK_MAT(t.tile(h, 0, 0, s.n(), s.m()), r.pattern, tol);
    }
    CHECK_MAT(t.delta(), f.delta, tol);
    CHECK_MAT(Mat(t.output_row(s.n() / 2)), Mat(f.output.row(s.n() / 2)), tol);
}

}  // namespace

TEST_CASE("a one-token edit updates the statistics to what a full recompute gives") {
    const int n = 120;
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * n);
    std::mt19937 rng(5);
    for (auto& a : allowed) a = rng() % 4 != 0;
    for (const Mask& mask : {Mask::none(), Mask::causal(), Mask::sliding_window(10), Mask::strided(7), Mask::fixed(9),
                             Mask::matrix(n, n, allowed)}) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        Scene s = inc_scene(n, mask);
        PatternTiles t;
        REQUIRE(t.build(s));
        auto tokens = token_list(n);
        for (int pos : {0, n / 2, n - 1, 7}) {
            CAPTURE(pos);
            tokens[static_cast<std::size_t>(pos)] = word("edited", pos);
            set_tokens(s, tokens);
            t.update_token(s, pos);
            check_equals_full(t, s, 2e-5f);
        }
    }
}

TEST_CASE("token edits with sharp patterns: the max moves, one key dominates, rows are rescanned") {
    // Temperature 0.02 makes most rows nearly one-hot: removing the dominant key's term from the
    // sum would cancel, and the row max often sits on the edited key.
    for (const Mask& mask : {Mask::none(), Mask::causal()}) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        Scene s = inc_scene(90, mask, 0.02f);
        PatternTiles t;
        REQUIRE(t.build(s));
        auto tokens = token_list(90);
        std::mt19937 rng(3);
        for (int k = 0; k < 40; ++k) {  // many edits in a row: no drift
            const int pos = static_cast<int>(rng() % 90);
            tokens[static_cast<std::size_t>(pos)] = word("x", rng() % 12);
            set_tokens(s, tokens);
            t.update_token(s, pos);
        }
        check_equals_full(t, s, 5e-5f);
    }
}

TEST_CASE("a causal token edit leaves the rows before it untouched") {
    Scene s = inc_scene(100, Mask::causal());
    PatternTiles t;
    REQUIRE(t.build(s));
    const PatternTiles before = t;
    auto tokens = token_list(100);
    tokens[60] = "changed";
    set_tokens(s, tokens);
    t.update_token(s, 60);
    for (int h = 0; h < 3; ++h) {
        const HeadStats &a = before.head(h), &b = t.head(h);
        CHECK(Mat(a.mixed.topRows(60)) == Mat(b.mixed.topRows(60)));  // bit for bit
        CHECK(std::equal(a.row_sum.begin(), a.row_sum.begin() + 60, b.row_sum.begin()));
        CHECK(Mat(a.Q.topRows(60)) == Mat(b.Q.topRows(60)));
    }
    check_equals_full(t, s, 2e-5f);
}

TEST_CASE("cross-attention: editing a query token changes only its row") {
    Scene s = inc_scene(30, Mask::none());
    std::vector<std::string> src;
    for (int i = 0; i < 45; ++i) src.push_back(word("src", i % 20));
    set_source_tokens(s, src);
    PatternTiles t;
    REQUIRE(t.build(s));
    auto tokens = token_list(30);
    tokens[4] = "other";
    set_tokens(s, tokens);
    t.update_token(s, 4);
    check_equals_full(t, s, 2e-5f);
}

TEST_CASE("a W_Q/W_K/W_V edit rebuilds that head only; a W_O edit rebuilds nothing") {
    Scene s = inc_scene(80, Mask::causal());
    PatternTiles t;
    REQUIRE(t.build(s));
    const PatternTiles before = t;
    set_weight(s, 1, kKey, 3, 2, 2.5f);
    set_weight(s, 1, kQuery, 0, 0, -1.0f);
    t.update_head(s, 1);
    CHECK(Mat(t.head(0).mixed) == Mat(before.head(0).mixed));
    CHECK(Mat(t.head(2).mixed) == Mat(before.head(2).mixed));
    CHECK_FALSE(Mat(t.head(1).mixed) == Mat(before.head(1).mixed));
    check_equals_full(t, s, 2e-5f);
    set_output_weight(s, 5, 7, 3.0f);
    t.update_output(s);
    check_equals_full(t, s, 2e-5f);
}

TEST_CASE("an update with a scene of other sizes is refused") {
    Scene s = inc_scene(50, Mask::causal());
    PatternTiles t;
    REQUIRE(t.build(s));
    Scene longer = inc_scene(51, Mask::causal());
    CHECK_THROWS_AS(t.update_token(longer, 3), std::invalid_argument);
    Scene other_mask = s;
    set_mask(other_mask, Mask::none());
    CHECK_THROWS_AS(t.update_token(other_mask, 3), std::invalid_argument);
    CHECK_THROWS_AS(t.update_token(s, 50), std::out_of_range);
    CHECK_THROWS_AS(t.update_head(s, 3), std::out_of_range);
}

namespace {

// Every field of an updated Forward against a fresh forward pass of the edited scene.
void check_forward_equal(const Forward& got, const Forward& want, float tol) {
    REQUIRE(got.heads.size() == want.heads.size());
    CHECK_MAT(got.E, want.E, 1e-6f);
    CHECK_MAT(got.X, want.X, 1e-6f);
    for (std::size_t h = 0; h < want.heads.size(); ++h) {
        CAPTURE(h);
        const HeadResult &g = got.heads[h], &w = want.heads[h];
        CHECK_MAT(g.Q, w.Q, 1e-5f);
        CHECK_MAT(g.K, w.K, 1e-5f);
        CHECK_MAT(g.V, w.V, 1e-5f);
        CHECK_MAT(g.scores, w.scores, 1e-4f);
        CHECK_MAT(g.pattern, w.pattern, tol);
        CHECK_MAT(g.mixed, w.mixed, tol);
        CHECK_MAT(g.delta, w.delta, tol);
        Mat rel(static_cast<Eigen::Index>(w.row_sum.size()), 1), one(rel.rows(), 1);
        for (Eigen::Index i = 0; i < rel.rows(); ++i) {
            rel(i) = w.row_sum[i] > 0 ? g.row_sum[i] / w.row_sum[i] : g.row_sum[i];
            one(i) = w.row_sum[i] > 0 ? 1.0f : 0.0f;
        }
        CHECK_MAT(rel, one, tol);
    }
    CHECK_MAT(got.delta, want.delta, tol);
    CHECK_MAT(got.output, want.output, tol);
    CHECK(got.fully_masked_rows == want.fully_masked_rows);
}

}  // namespace

TEST_CASE("update_token on a full Forward equals a fresh forward pass (scores, pattern, ΔE, E')") {
    const int n = 110;
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * n);
    std::mt19937 rng(8);
    for (auto& a : allowed) a = rng() % 4 != 0;
    for (auto masked_scores : {ForwardOptions::MaskedScores::Compute, ForwardOptions::MaskedScores::Skip}) {
        ForwardOptions opt;
        opt.masked_scores = masked_scores;
        for (const Mask& mask : {Mask::none(), Mask::causal(), Mask::sliding_window(12), Mask::strided(5),
                                 Mask::fixed(10), Mask::matrix(n, n, allowed)}) {
            const std::string mask_name = mask_type_name(mask.type);
            CAPTURE(mask_name);
            CAPTURE(opt.masked_scores == ForwardOptions::MaskedScores::Skip);
            for (float temperature : {1.0f, 0.02f}) {  // 0.02: sharp rows, the max moves, rows are refreshed
                CAPTURE(temperature);
                Scene s = inc_scene(n, mask, temperature);
                Forward f = forward(s, opt);
                auto tokens = token_list(n);
                std::mt19937 pick(4);
                for (int k = 0; k < 12; ++k) {
                    const int pos = k < 3 ? std::vector<int>{0, n - 1, n / 2}[k] : static_cast<int>(pick() % n);
                    tokens[static_cast<std::size_t>(pos)] = word("e", pick() % 9);
                    set_tokens(s, tokens);
                    update_token(s, f, pos);
                }
                check_forward_equal(f, forward(s, opt), 5e-5f);
            }
        }
    }
}

TEST_CASE("update_token on a Forward: cross-attention, and refusing other sizes") {
    Scene s = inc_scene(25, Mask::none());
    std::vector<std::string> src;
    for (int i = 0; i < 33; ++i) src.push_back(word("src", i % 11));
    set_source_tokens(s, src);
    Forward f = forward(s);
    auto tokens = token_list(25);
    tokens[9] = "new";
    set_tokens(s, tokens);
    update_token(s, f, 9);
    check_forward_equal(f, forward(s), 2e-5f);
    CHECK_THROWS_AS(update_token(s, f, 25), std::out_of_range);
    CHECK_THROWS_AS(update_token(inc_scene(26, Mask::none()), f, 1), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// classify_change and applying the update it names
// ---------------------------------------------------------------------------------------------
namespace {

using Kind = SceneChange::Kind;

// a ≈ b within tol relative to b's largest entry: |a − b| ≤ tol · (1 + max |b|).
void check_rel(const Mat& a, const Mat& b, float tol, const char* what) {
    CAPTURE(what);
    const float scale = b.size() ? b.cwiseAbs().maxCoeff() : 0.0f;
    CHECK_MAT(a, b, tol * (1.0f + scale));
}

void check_forward_rel(const Forward& got, const Forward& want, float tol) {
    REQUIRE(got.heads.size() == want.heads.size());
    check_rel(got.E, want.E, tol, "E");
    for (std::size_t h = 0; h < want.heads.size(); ++h) {
        CAPTURE(h);
        const HeadResult &g = got.heads[h], &w = want.heads[h];
        check_rel(g.Q, w.Q, tol, "Q");
        check_rel(g.K, w.K, tol, "K");
        check_rel(g.V, w.V, tol, "V");
        check_rel(g.scores, w.scores, tol, "scores");
        check_rel(g.pattern, w.pattern, tol, "pattern");
        check_rel(g.mixed, w.mixed, tol, "mixed");
        check_rel(g.delta, w.delta, tol, "delta_h");
        check_rel(col(g.row_max), col(w.row_max), tol, "row_max");
        check_rel(col(g.row_sum), col(w.row_sum), tol, "row_sum");
    }
    check_rel(got.delta, want.delta, tol, "delta");
    check_rel(got.output, want.output, tol, "output");
    CHECK(got.fully_masked_rows == want.fully_masked_rows);
}

void check_tiles_rel(const PatternTiles& got, const Scene& after, float tol) {
    PatternTiles want;
    REQUIRE(want.build(after));
    for (int h = 0; h < after.n_heads; ++h) {
        CAPTURE(h);
        const HeadStats &g = got.head(h), &w = want.head(h);
        check_rel(g.Q, w.Q, tol, "Q");
        check_rel(g.K, w.K, tol, "K");
        check_rel(g.V, w.V, tol, "V");
        check_rel(g.mixed, w.mixed, tol, "mixed");
        check_rel(col(g.row_max), col(w.row_max), tol, "row_max");
        check_rel(col(g.row_sum), col(w.row_sum), tol, "row_sum");
        check_rel(got.tile(h, 0, 0, after.n(), after.m()), want.tile(h, 0, 0, after.n(), after.m()), tol, "pattern");
    }
    check_rel(got.delta(), want.delta(), tol, "delta");
}

// The update the classification names, applied to a Forward and to PatternTiles of `before`.
void apply_change(const SceneChange& c, const Scene& after, Forward& f, PatternTiles& t) {
    switch (c.kind) {
        case Kind::None: break;
        case Kind::Token:
            update_token(after, f, c.index);
            t.update_token(after, c.index);
            break;
        case Kind::HeadWeights:
            recompute_head(after, f, c.index);
            t.update_head(after, c.index);
            break;
        case Kind::Output:
            update_output(after, f);
            t.update_output(after);
            break;
        case Kind::Other: FAIL("not an incremental change"); break;
    }
}

Scene text_scene() {
    Scene s = make_scene({"x"}, 16, 3, 4, 9);
    set_text(s, "the quick brown fox jumps over the lazy dog");
    return s;
}

// The one position whose token text differs (−1 if none or several).
int changed_text(const Scene& a, const Scene& b) {
    int at = -1;
    for (int i = 0; i < a.n(); ++i)
        if (a.input.tokens[static_cast<std::size_t>(i)].text != b.input.tokens[static_cast<std::size_t>(i)].text) {
            if (at >= 0) return -1;
            at = i;
        }
    return at;
}

}  // namespace

TEST_CASE("classify_change names each kind of edit made with the editing API") {
    const Scene s = text_scene();
    const auto texts = token_texts(s.input.tokens);
    const int n = s.n();
    REQUIRE(n >= 9);
    auto expect = [&](const Scene& after, Kind kind, int index) {
        const SceneChange c = classify_change(s, after);
        CHECK_MESSAGE(c.kind == kind, "got " << change_kind_name(c.kind) << ", want " << change_kind_name(kind));
        CHECK(c.index == index);
    };
    {  // nothing, or nothing the forward pass depends on
        Scene a = s;
        expect(a, Kind::None, -1);
        a.title = "another title";
        a.description = "text";
        a.view_json = "{\"zoom\": 2}";
        set_text(a, "the quick brown fox jumps over the lazy dog");
        expect(a, Kind::None, -1);
        set_weight_matrix(a, 1, kKey, s.heads[1].W[kKey]);  // the same values, now marked given
        expect(a, Kind::None, -1);
    }
    {  // one word of the text
        Scene a = s;
        set_text(a, "the quick brown cat jumps over the lazy dog");
        const int t = changed_text(s, a);
        REQUIRE(t >= 0);
        CHECK(a.input.tokens[static_cast<std::size_t>(t)].text.find("cat") != std::string::npos);
        expect(a, Kind::Token, t);
    }
    {  // one token of the list
        Scene a = s;
        auto list = texts;
        list[5] = "zebra";
        set_tokens(a, list);
        expect(a, Kind::Token, 5);
    }
    {  // one embedding value (the embeddings become given; the other rows are bit-identical)
        Scene a = s;
        set_embedding(a, 3, 7, 0.125f);
        expect(a, Kind::Token, 3);
        Scene b = a;  // both given: rows are compared
        set_embedding(b, n - 1, 0, -2.0f);
        const SceneChange c = classify_change(a, b);
        CHECK(c.kind == Kind::Token);
        CHECK(c.index == n - 1);
        Scene both = a;  // the text and the given row of the same token
        set_embedding(both, 4, 2, 1.5f);
        auto list = texts;
        list[4] = "owl";
        set_tokens(both, list);
        CHECK(classify_change(b, both).kind == Kind::Other);  // rows n−1 and 4 differ
    }
    {  // weights of one head, and W_O
        Scene a = s;
        set_weight(a, 2, kValue, 1, 1, 0.3f);
        expect(a, Kind::HeadWeights, 2);
        set_weight(a, 2, kQuery, 0, 3, -0.3f);
        expect(a, Kind::HeadWeights, 2);
        Scene o = s;
        set_output_weight(o, 3, 4, 0.1f);
        expect(o, Kind::Output, -1);
        Scene w0 = s;
        set_weight_matrix(w0, 0, kKey, Mat::Constant(16, 4, 0.5f));
        expect(w0, Kind::HeadWeights, 0);
    }
    {  // everything else
        std::vector<Scene> others;
        auto edited = [&](auto&& edit) {
            Scene a = s;
            edit(a);
            others.push_back(std::move(a));
        };
        edited([](Scene& a) { set_mask(a, Mask::causal()); });
        edited([](Scene& a) { set_temperature(a, 0.5f); });
        edited([](Scene& a) { set_scale(a, false); });
        edited([](Scene& a) { set_positional(a, Positional::Sinusoidal); });
        edited([](Scene& a) { set_n_heads(a, 4); });
        edited([](Scene& a) { set_d_model(a, 20); });
        edited([](Scene& a) { set_d_head(a, 5); });
        edited([](Scene& a) { set_seed(a, 10); });       // every drawn matrix redrawn
        edited([](Scene& a) { rerandomize(a, 9); });      // the same seed: nothing changes …
        edited([&](Scene& a) {                            // two words
            auto list = texts;
            list[1] = "slow";
            list[7] = "busy";
            set_tokens(a, list);
        });
        edited([&](Scene& a) {  // one more token
            auto list = texts;
            list.push_back("again");
            set_tokens(a, list);
        });
        edited([&](Scene& a) {  // a token and a weight
            auto list = texts;
            list[2] = "red";
            set_tokens(a, list);
            set_weight(a, 0, kQuery, 0, 0, 1.0f);
        });
        edited([](Scene& a) {  // two heads
            set_weight(a, 0, kQuery, 0, 0, 1.0f);
            set_weight(a, 1, kQuery, 0, 0, 1.0f);
        });
        edited([](Scene& a) {  // a head and W_O
            set_weight(a, 0, kKey, 0, 0, 1.0f);
            set_output_weight(a, 0, 0, 1.0f);
        });
        edited([](Scene& a) {  // W_O and a token's embedding
            set_output_weight(a, 0, 0, 1.0f);
            set_embedding(a, 0, 0, 1.0f);
        });
        edited([](Scene& a) {  // two embedding rows
            set_embedding(a, 0, 0, 1.0f);
            set_embedding(a, 6, 0, 1.0f);
        });
        edited([](Scene& a) { set_source_tokens(a, {"keys", "from", "elsewhere"}); });
        for (std::size_t k = 0; k < others.size(); ++k) {
            CAPTURE(k);
            const Kind kind = classify_change(s, others[k]).kind;
            // rerandomize with the scene's own seed redraws the same values: nothing changed.
            CHECK(kind == (k == 8 ? Kind::None : Kind::Other));
        }
    }
}

TEST_CASE("classify_change: cross-attention, learned positions and the seed") {
    Scene s = text_scene();
    set_source_tokens(s, {"ein", "schneller", "brauner", "Fuchs"});
    {
        Scene a = s;
        auto list = token_texts(s.input.tokens);
        list[2] = "grey";
        set_tokens(a, list);
        const SceneChange c = classify_change(s, a);
        CHECK(c.kind == Kind::Token);
        CHECK(c.index == 2);
    }
    {  // a key token of the source: no incremental update exists for it
        Scene a = s;
        set_source_tokens(a, {"ein", "langsamer", "brauner", "Fuchs"});
        CHECK(classify_change(s, a).kind == Kind::Other);
        Scene b = s;
        clear_source(b);
        CHECK(classify_change(s, b).kind == Kind::Other);
    }
    // The seed alone (set directly, nothing redrawn): drawn rows are then compared as numbers.
    Scene p = text_scene();
    Scene q = p;
    q.seed = p.seed + 1;
    CHECK(classify_change(p, q).kind == Kind::None);
    q.input.embeddings(4, 4) += 1.0f;  // a row that no longer matches its text
    CHECK(classify_change(p, q).kind == Kind::Token);
    CHECK(classify_change(p, q).index == 4);
    // Learned positions are drawn from the seed: a new seed moves every position.
    set_positional(p, Positional::Learned);
    Scene r = p;
    r.seed = p.seed + 1;
    CHECK(classify_change(p, r).kind == Kind::Other);
}

TEST_CASE("applying the update classify_change names equals a full recompute (Forward and PatternTiles)") {
    const int n = 96;
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(n) * n);
    std::mt19937 rng(12);
    for (auto& a : allowed) a = rng() % 3 != 0;
    for (const Mask& mask : {Mask::none(), Mask::causal(), Mask::sliding_window(6), Mask::matrix(n, n, allowed)}) {
        const std::string mask_name = mask_type_name(mask.type);
        CAPTURE(mask_name);
        const Scene base = inc_scene(n, mask);
        struct Edit {
            const char* what;
            Kind kind;
            std::function<void(Scene&)> edit;
        };
        const std::vector<Edit> edits = {
            {"token text", Kind::Token, [](Scene& a) {
                 auto list = token_texts(a.input.tokens);
                 list[40] = "edited";
                 set_tokens(a, list);
             }},
            {"embedding value", Kind::Token, [](Scene& a) { set_embedding(a, 0, 3, 2.0f); }},
            {"last token", Kind::Token, [](Scene& a) { set_embedding(a, a.n() - 1, 0, -1.5f); }},
            {"W_K of head 1", Kind::HeadWeights, [](Scene& a) { set_weight(a, 1, kKey, 5, 2, 1.25f); }},
            {"W_Q of head 2", Kind::HeadWeights, [](Scene& a) { set_weight(a, 2, kQuery, 0, 7, -0.75f); }},
            {"W_V of head 0", Kind::HeadWeights, [](Scene& a) { set_weight(a, 0, kValue, 23, 0, 0.5f); }},
            {"W_O", Kind::Output, [](Scene& a) { set_output_weight(a, 9, 11, 3.0f); }},
            {"title", Kind::None, [](Scene& a) { a.title = "renamed"; }},
        };
        for (const Edit& e : edits) {
            CAPTURE(e.what);
            Scene after = base;
            e.edit(after);
            const SceneChange c = classify_change(base, after);
            REQUIRE(c.kind == e.kind);
            Forward f = forward(base);
            PatternTiles t;
            REQUIRE(t.build(base));
            apply_change(c, after, f, t);
            check_forward_rel(f, forward(after), 1e-5f);
            check_tiles_rel(t, after, 1e-5f);
        }
    }
}

TEST_CASE("update_output: ΔE_h = mixed_h · W_O[h], worked out by hand on a 2-token scene") {
    // One head, d_model 2, d_head 2, no scaling, embeddings e0 = (1, 0), e1 = (0, 1), identity
    // W_Q = W_K = W_V: scores = E·Eᵀ = I, pattern rows softmax(1, 0) = (a, b) with
    // a = e/(e+1), b = 1/(e+1); mixed = pattern·V = [[a, b], [b, a]].
    Scene s = make_scene({"p", "q"}, 2, 1, 2, 1);
    set_scale(s, false);
    set_embedding(s, 0, 0, 1.0f);
    set_embedding(s, 0, 1, 0.0f);
    set_embedding(s, 1, 0, 0.0f);
    set_embedding(s, 1, 1, 1.0f);
    for (auto p : {kQuery, kKey, kValue}) set_weight_matrix(s, 0, p, Mat::Identity(2, 2));
    Forward f = forward(s);
    Scene after = s;
    set_output_matrix(after, test::mat({{2, 0}, {1, 3}}));
    REQUIRE(classify_change(s, after).kind == Kind::Output);
    update_output(after, f);
    const float a = std::exp(1.0f) / (std::exp(1.0f) + 1.0f), b = 1.0f / (std::exp(1.0f) + 1.0f);
    // ΔE = mixed·W_O = [[2a + b, 3b], [2b + a, 3a]]; E' = E + ΔE.
    CHECK_MAT(f.heads[0].delta, test::mat({{2 * a + b, 3 * b}, {2 * b + a, 3 * a}}), 1e-6f);
    CHECK_MAT(f.delta, test::mat({{2 * a + b, 3 * b}, {2 * b + a, 3 * a}}), 1e-6f);
    CHECK_MAT(f.output, test::mat({{1 + 2 * a + b, 3 * b}, {2 * b + a, 1 + 3 * a}}), 1e-6f);
    CHECK_THROWS_AS(update_output(inc_scene(5, Mask::none()), f), std::invalid_argument);
}
