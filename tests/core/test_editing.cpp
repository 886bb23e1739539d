// The editing API: each edit leaves the scene valid, or throws and changes nothing.
#include <doctest/doctest.h>

#include "engine.hpp"
#include "helpers.hpp"
#include "scene_compare.hpp"

using namespace attnviz;

TEST_CASE("a token's drawn embedding depends on its text, not its position") {
    const Scene s = make_scene({"the", "cat", "saw", "the", "dog"}, 16, 2, 8, 5);
    CHECK_MAT(Mat(s.input.embeddings.row(0)), Mat(s.input.embeddings.row(3)), 0.0f);
    CHECK((s.input.embeddings.row(0) - s.input.embeddings.row(1)).norm() > 0.1f);
    const Scene t = make_scene({"dog"}, 16, 2, 8, 5);
    CHECK_MAT(Mat(t.input.embeddings.row(0)), Mat(s.input.embeddings.row(4)), 0.0f);
    const Scene u = make_scene({"dog"}, 16, 2, 8, 6);  // another seed, another vector
    CHECK((u.input.embeddings.row(0) - t.input.embeddings.row(0)).norm() > 0.1f);
    // Drawn weights are scaled ~1/√d_model: the mean square of W_Q entries is about 1/16.
    const Scene big = make_scene({"x"}, 256, 1, 64, 1);
    const double ms = big.heads[0].W[kQuery].squaredNorm() / (256.0 * 64.0);
    CHECK(ms == doctest::Approx(1.0 / 256.0).epsilon(0.1));
}

TEST_CASE("adding a head draws its weights from the seed and keeps the others") {
    Scene s = make_scene({"a", "b", "c"}, 8, 2, 4, 21);
    set_weight(s, 0, kQuery, 1, 2, 9.0f);
    const Mat head1_k = s.heads[1].W[kKey];
    set_n_heads(s, 3);
    CHECK(s.n_heads == 3);
    CHECK(s.heads[0].W[kQuery](1, 2) == 9.0f);
    CHECK_MAT(s.heads[1].W[kKey], head1_k, 0.0f);
    CHECK_MAT(s.heads[2].W[kValue], drawn_projection(21, 2, kValue, 8, 4), 0.0f);
    CHECK(s.W_O.rows() == 12);
    CHECK_NOTHROW(forward(s));
    set_n_heads(s, 1);
    CHECK(s.heads.size() == 1);
    CHECK(s.W_O.rows() == 4);
    CHECK(s.heads[0].W[kQuery](1, 2) == 9.0f);
}

TEST_CASE("changing d_model or d_head keeps whatever weights still fit") {
    Scene s = make_scene({"a", "b"}, 8, 2, 4, 3);
    set_weight(s, 1, kValue, 5, 3, 7.0f);
    set_output_weight(s, 6, 2, -2.0f);  // head 1, row 2 of its slice
    set_embedding(s, 1, 4, 3.5f);
    set_d_model(s, 12);
    CHECK(s.d_model == 12);
    CHECK(s.heads[1].W[kValue].rows() == 12);
    CHECK(s.heads[1].W[kValue](5, 3) == 7.0f);
    CHECK(s.W_O(6, 2) == -2.0f);
    CHECK(s.input.embeddings(1, 4) == 3.5f);
    CHECK(s.input.embeddings.cols() == 12);
    set_d_head(s, 6);
    CHECK(s.heads[1].W[kValue].cols() == 6);
    CHECK(s.heads[1].W[kValue](5, 3) == 7.0f);
    CHECK(s.W_O.rows() == 12);
    CHECK(s.W_O(6 + 2, 2) == -2.0f);  // head 1's block now starts at row 6
    set_d_model(s, 4);
    CHECK(s.heads[1].W[kValue].rows() == 4);
    CHECK_NOTHROW(validate(s));
    CHECK_NOTHROW(forward(s));
}

TEST_CASE("a wrong edit throws with the field's name and leaves the scene as it was") {
    Scene s = make_scene({"a", "b"}, 8, 2, 4, 3);
    const Mat before = s.heads[0].W[kQuery];
    CHECK_THROWS_WITH(set_weight(s, 0, kQuery, 0, 0, std::nanf("")), doctest::Contains("heads[0].W_Q[0][0]"));
    CHECK_THROWS_WITH(set_weight(s, 5, kQuery, 0, 0, 1.0f), doctest::Contains("heads"));
    CHECK_THROWS_WITH(set_weight_matrix(s, 0, kKey, Mat::Zero(3, 4)), doctest::Contains("expected 8 rows of 4 numbers"));
    CHECK_THROWS_WITH(set_n_heads(s, 0), doctest::Contains("n_heads"));
    CHECK_THROWS_WITH(set_d_model(s, 100000), doctest::Contains("d_model"));
    CHECK_THROWS_WITH(set_mask(s, Mask::strided(0)), doctest::Contains("mask.stride"));
    CHECK_THROWS_WITH(set_temperature(s, -1.0f), doctest::Contains("temperature"));
    CHECK(s.n_heads == 2);
    CHECK(s.d_model == 8);
    CHECK_MAT(s.heads[0].W[kQuery], before, 0.0f);
}

TEST_CASE("new text keeps hand-designed embeddings of the words it reuses") {
    Scene s = make_scene({"red", "dog"}, 4, 1, 4, 3);
    s.input.embeddings = test::mat({{1, 0, 0, 0}, {0, 1, 0, 0}});
    s.input.embeddings_given = true;
    set_text(s, "dog red cat");
    REQUIRE(s.n() == 3);
    CHECK_MAT(Mat(s.input.embeddings.row(0)), test::mat({{0, 1, 0, 0}}), 0.0f);
    CHECK_MAT(Mat(s.input.embeddings.row(1)), test::mat({{1, 0, 0, 0}}), 0.0f);
    CHECK_MAT(Mat(s.input.embeddings.row(2)), Mat(token_embedding("cat", 3, 4)), 0.0f);
    CHECK(s.input.from_text);
}

TEST_CASE("an explicit mask follows the token count") {
    Scene s = make_scene({"a", "b"}, 4, 1, 4, 3);
    set_mask(s, Mask::matrix(2, 2, {1, 1, 1, 1}));
    set_tokens(s, {"a", "b", "c"});
    CHECK(s.mask.rows == 3);
    CHECK(s.mask.allows(0, 1));   // kept
    CHECK_FALSE(s.mask.allows(0, 2));  // new cells are causal
    CHECK(s.mask.allows(2, 2));
    CHECK_NOTHROW(forward(s));
}

TEST_CASE("seed and re-randomize") {
    Scene s = make_scene({"a", "b"}, 8, 2, 4, 3);
    set_weight(s, 0, kQuery, 0, 0, 5.0f);
    set_seed(s, 4);
    CHECK(s.heads[0].W[kQuery](0, 0) == 5.0f);  // given weights stay
    CHECK_MAT(s.heads[1].W[kQuery], drawn_projection(4, 1, kQuery, 8, 4), 0.0f);
    rerandomize(s, 4);
    CHECK_MAT(s.heads[0].W[kQuery], drawn_projection(4, 0, kQuery, 8, 4), 0.0f);
}

namespace {
// Every row of `s`'s drawn embeddings is token_embedding(text, seed, d_model) of its token —
// the definition, drawn here one row at a time — and `s` equals a scene made fresh for its tokens.
void check_drawn_like_fresh(const Scene& s) {
    REQUIRE_FALSE(s.input.embeddings_given);
    REQUIRE(s.input.embeddings.rows() == s.n());
    for (int i = 0; i < s.n(); ++i) {
        CAPTURE(i);
        const RowVec want = token_embedding(s.input.tokens[static_cast<std::size_t>(i)].text, s.seed, s.d_model);
        CHECK(RowVec(s.input.embeddings.row(i)) == want);  // bit for bit
    }
    const Scene fresh = make_scene(token_texts(s.input.tokens), s.d_model, s.n_heads, s.d_head, s.seed);
    CHECK(s.input.embeddings == fresh.input.embeddings);
    for (int h = 0; h < s.n_heads; ++h)
        for (int p = 0; p < 3; ++p) CHECK(s.heads[h].W[p] == fresh.heads[h].W[p]);
    CHECK(s.W_O == fresh.W_O);
}
}  // namespace

TEST_CASE("set_text/set_tokens copy the drawn rows of unchanged words: the same scene as drawn fresh") {
    Scene s = make_scene({"x"}, 24, 2, 12, 77);
    set_text(s, "the cat sat on the mat and the dog sat too");
    check_drawn_like_fresh(s);
    const int n = s.n();
    // One word changed: the same number of tokens, one row drawn, the others copied.
    set_text(s, "the cat sat on the hat and the dog sat too");
    CHECK(s.n() == n);
    check_drawn_like_fresh(s);
    // Words inserted at the front: every old word moved (rows found by text, not position).
    set_text(s, "yesterday evening the cat sat on the hat and the dog sat too");
    CHECK(s.n() > n);
    check_drawn_like_fresh(s);
    // Words removed and repeated words.
    set_text(s, "dog dog cat dog new new");
    check_drawn_like_fresh(s);
    set_tokens(s, {"dog", "owl", "cat", "dog", "owl"});
    check_drawn_like_fresh(s);
    set_tokens(s, {});
    check_drawn_like_fresh(s);
    set_tokens(s, {"a", "b"});
    check_drawn_like_fresh(s);
    // A new seed or d_model redraws everything (the old rows do not fit).
    set_seed(s, 78);
    set_text(s, "a b c");
    check_drawn_like_fresh(s);
    set_d_model(s, 36);
    set_text(s, "a b d");
    check_drawn_like_fresh(s);
}

TEST_CASE("set_source_text reuses drawn rows the same way") {
    Scene s = make_scene({"q"}, 16, 2, 8, 5);
    set_source_text(s, "one two three four");
    set_source_text(s, "one two five four three");
    REQUIRE(s.source);
    REQUIRE(s.source->size() >= 5);
    for (int i = 0; i < s.m(); ++i)
        CHECK(RowVec(s.source->embeddings.row(i)) ==
              token_embedding(s.source->tokens[static_cast<std::size_t>(i)].text, 5, 16));
}

TEST_CASE("one word changed: one row replaced in place, every other field as it was") {
    Scene s = make_scene({"x"}, 16, 2, 8, 9);
    set_text(s, "the cat sat on the mat");
    const Scene before = s;
    set_text(s, "the cat sat on the rug");  // "mat" → "rug": token 5
    REQUIRE(s.n() == before.n());
    for (int i = 0; i < 5; ++i) CHECK(s.input.embeddings.row(i) == before.input.embeddings.row(i));
    CHECK(RowVec(s.input.embeddings.row(5)) == token_embedding("rug", 9, 16));
    CHECK(s.input.text == "the cat sat on the rug");
    CHECK(s.input.tokens[5].text == "rug");
    CHECK(s.input.tokens[5].offset == 19);
    // as a list: the text is gone, the offsets are those of words joined by single spaces
    set_tokens(s, {"the", "cat", "sat", "on", "the", "owl"});
    CHECK(s.input.text.empty());
    CHECK_FALSE(s.input.from_text);
    CHECK(s.input.tokens[5].offset == 19);
    CHECK(RowVec(s.input.embeddings.row(5)) == token_embedding("owl", 9, 16));
    CHECK(s.input.embeddings.row(4) == before.input.embeddings.row(4));
    // the keys of cross-attention, the same way
    set_source_tokens(s, {"un", "deux", "trois"});
    const Mat keys = s.source->embeddings;
    set_source_tokens(s, {"un", "zwei", "trois"});
    CHECK(s.source->embeddings.row(0) == keys.row(0));
    CHECK(s.source->embeddings.row(2) == keys.row(2));
    CHECK(RowVec(s.source->embeddings.row(1)) == token_embedding("zwei", 9, 16));
}

TEST_CASE("given embeddings: a word that stays where it was keeps its own row, a new one takes a known word's") {
    Scene s = make_scene({"a", "b", "a"}, 4, 1, 4, 3);
    // the two "a" rows were edited apart
    s.input.embeddings = test::mat({{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}});
    s.input.embeddings_given = true;
    set_tokens(s, {"a", "c", "a"});  // same count: in place
    CHECK_MAT(s.input.embeddings, (Mat(3, 4) << 1, 0, 0, 0, token_embedding("c", 3, 4), 0, 0, 1, 0).finished(), 0.0f);
    set_tokens(s, {"a", "b", "a", "c", "b"});  // another count; "b" is no longer known: drawn
    const RowVec b = token_embedding("b", 3, 4);
    CHECK_MAT(s.input.embeddings,
              (Mat(5, 4) << 1, 0, 0, 0, b, 0, 0, 1, 0, token_embedding("c", 3, 4), b).finished(), 0.0f);
    CHECK(s.input.embeddings_given);
}

TEST_CASE("a refused token edit changes nothing") {
    Scene s = make_scene({"a", "b"}, 8, 2, 4, 3);
    set_mask(s, Mask::matrix(2, 2, {1, 0, 1, 1}));
    const Scene before = s;
    std::vector<std::string> many(static_cast<std::size_t>(Limits::kMaxTokens) + 1, "w");
    CHECK_THROWS_WITH(set_tokens(s, many), doctest::Contains("tokens"));
    CHECK_THROWS_WITH(set_source_tokens(s, many), doctest::Contains("source.tokens"));
    std::string text;
    for (int i = 0; i <= Limits::kMaxTokens; ++i) text += "w ";
    CHECK_THROWS_WITH(set_text(s, text), doctest::Contains("text"));
    CHECK_SAME_SCENE(s, before);
    // d_model 16384 with 32,768 tokens would hold 2 GiB of embeddings, more than the scene limit
    Scene wide = make_scene({"a"}, 16384, 1, 1, 1);
    const Scene wide_before = wide;
    std::vector<std::string> long_list(static_cast<std::size_t>(Limits::kMaxTokens), "w");
    CHECK_THROWS_WITH(set_tokens(wide, long_list), doctest::Contains("d_model"));
    CHECK_SAME_SCENE(wide, wide_before);
}
