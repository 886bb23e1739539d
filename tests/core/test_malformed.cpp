// The malformed-file corpus (tests/data/malformed/): every file must be refused with a SceneError
// whose message names the problem, as listed in EXPECTED.tsv — never a crash, a hang or a
// runaway allocation.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "engine.hpp"
#include "scene_io.hpp"

using namespace attnviz;
namespace fs = std::filesystem;

namespace {
std::map<std::string, std::string> expected() {
    std::map<std::string, std::string> out;
    std::ifstream in(std::string(ATTNVIZ_TEST_DATA) + "/malformed/EXPECTED.tsv");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto tab = line.find('\t');
        REQUIRE(tab != std::string::npos);
        out[line.substr(0, tab)] = line.substr(tab + 1);
    }
    return out;
}
}  // namespace

TEST_CASE("every malformed file is refused with a message that names the problem") {
    const auto exp = expected();
    REQUIRE(exp.size() >= 60);
    std::set<std::string> seen;
    for (const auto& e : fs::directory_iterator(std::string(ATTNVIZ_TEST_DATA) + "/malformed")) {
        const std::string name = e.path().filename().string();
        if (name == "EXPECTED.tsv") continue;
        seen.insert(name);
        INFO("file: " << name);
        auto it = exp.find(name);
        REQUIRE_MESSAGE(it != exp.end(), "no expected message in EXPECTED.tsv");
        std::string msg;
        try {
            // A scene too big for a full forward pass is valid (explored tile by tile); forward()
            // refuses it, as `attnviz export` does (tests/cli/malformed_cli.sh).
            const Scene s = load_scene(e.path().string());
            (void)forward(s);
        } catch (const SceneError& err) {
            msg = err.what();
        }
        INFO("message: " << msg);
        CHECK_MESSAGE(!msg.empty(), "loaded without an error");
        CHECK_MESSAGE(msg.find(it->second) != std::string::npos, "expected the message to contain: " << it->second);
    }
    CHECK(seen.size() == exp.size());  // every listed file exists
}

TEST_CASE("brackets inside strings do not count as nesting; 64 levels of view are fine") {
    const std::string deep_title = std::string(100000, '[');
    const std::string ok = "{\"attnviz_scene\":1,\"title\":\"" + deep_title + "\",\"tokens\":[\"a\"],\"d_model\":4,\"n_heads\":1}";
    CHECK(scene_from_json(ok).title.size() == 100000);
    // An escaped quote does not end the string: the '[' after it are still inside.
    const std::string esc = "{\"attnviz_scene\":1,\"title\":\"\\\"" + std::string(1000, '{') + "\",\"tokens\":[\"a\"],\"d_model\":4,\"n_heads\":1}";
    CHECK(scene_from_json(esc).title.size() == 1001);
    std::string view;
    for (int i = 0; i < 62; ++i) view += "[";
    for (int i = 0; i < 62; ++i) view += "]";
    const std::string at_limit = "{\"attnviz_scene\":1,\"tokens\":[\"a\"],\"d_model\":4,\"n_heads\":1,\"view\":{\"v\":" + view + "}}";
    const Scene s = scene_from_json(at_limit);  // the scene object, the view object and 62 arrays: 64 levels, allowed
    CHECK(scene_from_json(scene_to_json(s)).view_json == s.view_json);
    const std::string over = "{\"attnviz_scene\":1,\"tokens\":[\"a\"],\"d_model\":4,\"n_heads\":1,\"view\":{\"v\":[" + view + "]}}";
    CHECK_THROWS_WITH_AS(scene_from_json(over), doctest::Contains("nested more than 64 levels deep"), SceneError);
}

TEST_CASE("huge sizes are refused before anything is allocated") {
    // Each of these would need terabytes; the refusal must come from the size check.
    CHECK_THROWS_WITH_AS(check_sizes(32768, 32768, 16384, 256, 16384), doctest::Contains("MiB limit"), SceneError);
    CHECK_THROWS_WITH_AS(check_sizes(1000000000, 1, 8, 1, 8), doctest::Contains("tokens: expected 0..32768, got 1000000000"), SceneError);
    Scene s = make_scene({"a", "b"}, 8, 2, 4, 1);
    const std::string before = scene_to_json(s);
    CHECK_THROWS_WITH_AS(set_d_model(s, 1 << 30), doctest::Contains("d_model: expected 1..16384"), SceneError);
    CHECK_THROWS_WITH_AS(set_n_heads(s, 100000), doctest::Contains("n_heads: expected 1..256"), SceneError);
    CHECK(scene_to_json(s) == before);  // refused edits change nothing
    // d_model 16384 with one head of 1 is small; d_head 16384 then needs 4 GiB of weights
    // (4 bytes × 16384² × (3 + 1)): refused by the estimate, before any matrix is resized.
    Scene wide = make_scene({"a"}, 16384, 1, 1, 1);
    CHECK_THROWS_WITH_AS(set_d_head(wide, 16384), doctest::Contains("d_model: the weights would need 4096 MiB"), SceneError);
    CHECK(wide.d_head == 1);
}

TEST_CASE("a text of far more tokens than the limit is refused without tokenizing all of it") {
    // 10 million commas are 10 million tokens; only the first 32769 are ever made.
    const std::string commas(10'000'000, ',');
    CHECK(tokenize(commas, 5).size() == 6);
    Scene s = make_scene({"a", "b"}, 8, 2, 4, 1);
    CHECK_THROWS_WITH_AS(set_text(s, commas), doctest::Contains("text: the text has more than 32768 tokens"), SceneError);
    CHECK(s.n() == 2);
    CHECK_THROWS_WITH_AS(set_source_text(s, commas), doctest::Contains("source.text: the text has more than 32768"), SceneError);
    CHECK_FALSE(s.cross());
}

TEST_CASE("the value count is bounded before parsing") {
    // Values are counted as commas + 1: 11 numbers here.
    const std::string eleven = "[0,1,2,3,4,5,6,7,8,9,10]";
    CHECK_NOTHROW(prescan_json(eleven, 64, 11));
    CHECK_THROWS_WITH_AS(prescan_json(eleven, 64, 10), doctest::Contains("more than 10 values"), SceneError);
    CHECK_NOTHROW(prescan_json("[\"a,b,c,d\"]", 64, 2));  // commas inside a string are not values
    CHECK_THROWS_WITH_AS(prescan_json("[[[]]]", 2, 100), doctest::Contains("nested more than 2 levels deep (at byte 2)"), SceneError);
}
