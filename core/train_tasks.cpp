// attnviz core — training tasks, head scores and the training session (train_tasks.hpp).
#include "train_tasks.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "gpt2_model.hpp"
#include "random.hpp"

namespace attnviz {

namespace {

// Streams of the task's random numbers (counter-based: a pure function of seed and position).
enum : std::uint64_t { kTrainData = 0x7464, kHeldout = 0x6864, kProbe = 0x7062, kRepeatShape = 0x7273 };

std::uint64_t draw(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
    std::uint64_t h = rng::mix(seed ^ rng::mix(stream * 0x632BE59BD9B4E019ull));
    h = rng::mix(h ^ a);
    h = rng::mix(h ^ (b * 0x9E3779B97F4A7C15ull));
    return rng::mix(h ^ (c * 0xD1B54A32D192ED03ull));
}
// Uniform in [0, n).
int uniform(std::uint64_t h, int n) { return static_cast<int>(((h >> 32) * static_cast<std::uint64_t>(n)) >> 32); }

std::vector<int> random_tokens(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b, int n, int vocab) {
    std::vector<int> r(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) r[std::size_t(i)] = uniform(draw(seed, stream, a, b, std::uint64_t(i)), vocab);
    return r;
}

// An induction sequence for (stream, a, b): `context` random tokens, then the `L` tokens from
// position `p` on copied to p + L … p + 2L − 1 (L drawn from [repeat_min, half], short ones more
// often; p from [0, context − 2L]). `counted` gets the predictions the earlier copy determines: inputs p + L …
// p + 2L − 2 (predicting the copy's 2nd … last token).
std::vector<int> induction_sequence(const Task& t, std::uint64_t stream, std::uint64_t a, std::uint64_t b,
                                    std::pair<int, int>* counted) {
    std::vector<int> s = random_tokens(t.seed, stream, a, b, t.context, t.vocab_size());
    // L: uniform below a cap that is itself uniform in [repeat_min, half] — short repeats come more
    // often (a head that looks d positions back solves only repeats longer than d: short ones make
    // the previous-token head, d = 1, pay).
    const int cap = t.repeat_min + uniform(draw(t.seed, stream ^ kRepeatShape, a, b, 0), t.half - t.repeat_min + 1);
    const int L = t.repeat_min + uniform(draw(t.seed, stream ^ kRepeatShape, a, b, 2), cap - t.repeat_min + 1);
    const int p = uniform(draw(t.seed, stream ^ kRepeatShape, a, b, 1), t.context - 2 * L + 1);
    for (int j = 0; j < L; ++j) s[std::size_t(p + L + j)] = s[std::size_t(p + j)];
    if (counted) *counted = {p + L, p + 2 * L - 1};
    return s;
}

// The sequence of a generated task for (stream, a, b).
std::vector<int> generated_sequence(const Task& t, std::uint64_t stream, std::uint64_t a, std::uint64_t b,
                                    std::pair<int, int>* counted = nullptr) {
    if (t.kind == TaskKind::Induction) return induction_sequence(t, stream, a, b, counted);
    std::vector<int> s = random_tokens(t.seed, stream, a, b, t.list, t.values);
    std::vector<int> answer = s;
    if (t.kind == TaskKind::Sort) std::sort(answer.begin(), answer.end());
    else std::reverse(answer.begin(), answer.end());
    s.push_back(t.values);  // ">"
    s.insert(s.end(), answer.begin(), answer.end());
    return s;
}

// Token texts of generated tasks: single printable characters (so a saved model's vocabulary
// types: GPT-2's byte-level tokenizer with no merges gives one token per byte), "t<i>" past them.
const std::string kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&*+-/:;<=?@^_~";
std::string token_text(int i) {
    return i < int(kAlphabet.size()) ? std::string(1, kAlphabet[std::size_t(i)]) : std::string("t").append(std::to_string(i));
}

// The probe: a prefix of context/9 tokens, a segment of 5·context/16 tokens (7 and 20 for 64), the
// segment again; no token repeats except by the copy (when the vocabulary allows).
void set_probe(Task& t) {
    const int prefix = t.context / 9, segment = std::max(1, t.context * 5 / 16);
    std::vector<int> ids = repeated_random_sequence(prefix + segment, t.vocab_size(), t.seed ^ kProbe);
    ids.resize(std::size_t(prefix + segment));
    for (int j = 0; j < segment; ++j) ids.push_back(ids[std::size_t(prefix + j)]);
    t.probe = std::move(ids);
}

void need(bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
}

Task generated_task(TaskKind kind, int context, int vocab, std::uint64_t seed) {
    Task t;
    t.kind = kind;
    t.seed = seed;
    t.context = context;
    const std::string name = task_name(kind);
    if (kind == TaskKind::Induction) {
        need(context >= 4 && context % 2 == 0, name + ": --context must be even and at least 4 (two copies of context/2 tokens)");
        need(vocab >= 2, name + ": --vocab must be at least 2");
        t.half = context / 2;
        t.repeat_min = 2;
        for (int i = 0; i < vocab; ++i) t.vocab.push_back(token_text(i));
    } else {
        need(context >= 2 && context % 2 == 0, name + ": --context must be even and at least 2 (list, '>', answer: 2·list + 1 tokens)");
        need(vocab >= 3, name + ": --vocab must be at least 3 (values and the '>' separator)");
        t.list = context / 2;
        t.values = vocab - 1;
        for (int i = 0; i < t.values; ++i) t.vocab.push_back(token_text(i));
        t.vocab.push_back(">");
        t.heldout.loss_begin = t.list;
        t.heldout.loss_end = 2 * t.list;
    }
    for (int i = 0; i < 64; ++i) {
        std::pair<int, int> counted;
        t.heldout.sequences.push_back(generated_sequence(t, kHeldout, std::uint64_t(i), 0, &counted));
        if (kind == TaskKind::Induction) t.heldout.counted.push_back(counted);
    }
    set_probe(t);
    return t;
}

}  // namespace

const char* task_name(TaskKind k) {
    switch (k) {
        case TaskKind::Induction: return "induction";
        case TaskKind::Sort: return "sort";
        case TaskKind::Reverse: return "reverse";
        case TaskKind::Text: return "text";
        case TaskKind::Data: return "data";
    }
    return "?";
}

Task make_induction_task(int context, int vocab, std::uint64_t seed) { return generated_task(TaskKind::Induction, context, vocab, seed); }
Task make_sort_task(int context, int vocab, std::uint64_t seed) { return generated_task(TaskKind::Sort, context, vocab, seed); }
Task make_reverse_task(int context, int vocab, std::uint64_t seed) { return generated_task(TaskKind::Reverse, context, vocab, seed); }

Task make_text_task(const std::string& text, int context, std::uint64_t seed) {
    need(context >= 1, "text: --context must be at least 1");
    need(text.size() >= 3, "text: needs at least 3 characters");
    Task t;
    t.kind = TaskKind::Text;
    t.seed = seed;
    t.context = context;
    const std::set<unsigned char> distinct(text.begin(), text.end());
    std::map<unsigned char, int> id;
    for (unsigned char c : distinct) {
        id[c] = int(t.vocab.size());
        t.vocab.push_back(std::string(1, char(c)));
    }
    std::vector<int> ids;
    for (char c : text) ids.push_back(id[static_cast<unsigned char>(c)]);
    const std::size_t split = std::max<std::size_t>(2, ids.size() * 9 / 10);
    t.text_train.assign(ids.begin(), ids.begin() + std::ptrdiff_t(split));
    t.text_heldout.assign(ids.begin() + std::ptrdiff_t(split), ids.end());
    // Held-out: consecutive windows (up to 64) of the last 10 %.
    const std::size_t w = std::size_t(context) + 1;
    for (std::size_t at = 0; at + 2 <= t.text_heldout.size() && t.heldout.sequences.size() < 64; at += w) {
        const std::size_t end = std::min(t.text_heldout.size(), at + w);
        t.heldout.sequences.emplace_back(t.text_heldout.begin() + std::ptrdiff_t(at), t.text_heldout.begin() + std::ptrdiff_t(end));
    }
    set_probe(t);
    return t;
}

Task make_data_task(std::vector<std::vector<int>> sequences, int vocab, int context, std::uint64_t seed, bool hold_out) {
    need(!sequences.empty(), "data: no sequences");
    need(vocab >= 1, "data: the vocabulary is empty");
    Task t;
    t.kind = TaskKind::Data;
    t.seed = seed;
    t.context = context;
    for (int i = 0; i < vocab; ++i) t.vocab.push_back(std::to_string(i));
    for (std::size_t s = 0; s < sequences.size(); ++s) {
        need(sequences[s].size() >= 2, "data: sequences[" + std::to_string(s) + "] needs at least 2 tokens (one prediction)");
        need(sequences[s].size() <= std::size_t(context) + 1,
             "data: sequences[" + std::to_string(s) + "] has " + std::to_string(sequences[s].size()) +
                 " tokens; the context (" + std::to_string(context) + ") takes at most " + std::to_string(context + 1));
        for (std::size_t i = 0; i < sequences[s].size(); ++i)
            need(sequences[s][i] >= 0 && sequences[s][i] < vocab,
                 "data: sequences[" + std::to_string(s) + "][" + std::to_string(i) + "] = " + std::to_string(sequences[s][i]) +
                     " is outside the vocabulary (0 … " + std::to_string(vocab - 1) + ")");
    }
    const std::size_t keep = hold_out && sequences.size() >= 10 ? sequences.size() - sequences.size() / 10 : sequences.size();
    t.data_train.assign(sequences.begin(), sequences.begin() + std::ptrdiff_t(keep));
    t.data_heldout.assign(sequences.begin() + std::ptrdiff_t(keep), sequences.end());
    t.heldout.sequences = t.data_heldout;
    set_probe(t);
    return t;
}

Batch Task::batch(long step, int size) const {
    Batch b;
    b.loss_begin = heldout.loss_begin;
    b.loss_end = heldout.loss_end;
    const std::uint64_t st = static_cast<std::uint64_t>(step);
    switch (kind) {
        case TaskKind::Induction:
            for (int i = 0; i < size; ++i) {
                std::pair<int, int> counted;
                b.sequences.push_back(generated_sequence(*this, kTrainData, st, std::uint64_t(i), &counted));
                b.counted.push_back(counted);
            }
            break;
        case TaskKind::Sort:
        case TaskKind::Reverse:
            for (int i = 0; i < size; ++i) b.sequences.push_back(generated_sequence(*this, kTrainData, st, std::uint64_t(i)));
            break;
        case TaskKind::Text: {
            const int n = static_cast<int>(text_train.size());
            const int w = std::min(n, context + 1);
            for (int i = 0; i < size; ++i) {
                const int at = uniform(draw(seed, kTrainData, st, std::uint64_t(i), 0), n - w + 1);
                b.sequences.emplace_back(text_train.begin() + at, text_train.begin() + at + w);
            }
            break;
        }
        case TaskKind::Data:
            if (size <= 0) {
                b.sequences = data_train;
            } else {
                for (int i = 0; i < size; ++i)
                    b.sequences.push_back(
                        data_train[std::size_t(uniform(draw(seed, kTrainData, st, std::uint64_t(i), 0), int(data_train.size())))]);
            }
            break;
    }
    return b;
}

std::vector<std::vector<int>> load_sequences_json(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("sequences")) throw std::runtime_error(path + ": expected {\"sequences\": [[id, …], …]}");
    const auto& seqs = j["sequences"];
    if (!seqs.is_array() || seqs.empty()) throw std::runtime_error(path + ": sequences: must be a non-empty array of arrays");
    std::vector<std::vector<int>> out;
    for (std::size_t s = 0; s < seqs.size(); ++s) {
        const std::string where = path + ": sequences[" + std::to_string(s) + "]";
        if (!seqs[s].is_array()) throw std::runtime_error(where + ": must be an array of token ids");
        std::vector<int> q;
        for (std::size_t i = 0; i < seqs[s].size(); ++i) {
            const auto& v = seqs[s][i];
            if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > (1LL << 30))
                throw std::runtime_error(where + "[" + std::to_string(i) + "]: must be a non-negative integer token id");
            q.push_back(v.get<int>());
        }
        out.push_back(std::move(q));
    }
    return out;
}

std::string scenes_text(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::string text;
    auto add = [&](const std::string& s) {
        if (s.empty()) return;
        if (!text.empty()) text += '\n';
        text += s;
    };
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
        if (!j.is_object()) continue;
        for (const char* key : {"title", "description", "text"})
            if (j.contains(key) && j[key].is_string()) add(j[key].get<std::string>());
    }
    if (text.empty()) throw std::runtime_error(dir + ": no scene texts found (*.json with a title, description or text)");
    return text;
}

TrainSession::TrainSession(Task task, Params<float> init, TrainOptions options)
    : task_(std::move(task)),
      params_(std::move(init)),
      options_(std::move(options)),
      backprop_(options_.mask, options_.threads),
      optimizer_(options_.optimizer) {
    need(params_.cfg.vocab_size >= task_.vocab_size(),
         "the model's vocabulary (" + std::to_string(params_.cfg.vocab_size) + ") is smaller than the task's (" +
             std::to_string(task_.vocab_size()) + ")");
    need(params_.cfg.n_ctx >= task_.context, "the model's context (n_ctx " + std::to_string(params_.cfg.n_ctx) +
                                                 ") is shorter than the task's (" + std::to_string(task_.context) + ")");
}

float TrainSession::step() {
    const Batch b = task_.batch(steps_, options_.batch);
    const float loss = backprop_.loss_and_grad(params_, b, grad_);
    optimizer_.step(params_, grad_);
    ++steps_;
    return loss;
}

std::optional<float> TrainSession::heldout_loss() {
    if (task_.heldout.sequences.empty()) return std::nullopt;
    return backprop_.loss(params_, task_.heldout);
}

HeadScores TrainSession::head_scores() {
    HeadScores hs;
    std::vector<int> probe = task_.probe;
    if (int(probe.size()) > params_.cfg.n_ctx) probe.resize(std::size_t(params_.cfg.n_ctx));
    const auto pats = backprop_.patterns(params_, probe);
    for (std::size_t l = 0; l < pats.size(); ++l) {
        hs.previous_token.emplace_back();
        hs.induction.emplace_back();
        for (std::size_t h = 0; h < pats[l].size(); ++h) {
            const double prev = previous_token_score(pats[l][h]);
            const double ind = induction_score(pats[l][h], probe);
            hs.previous_token.back().push_back(prev);
            hs.induction.back().push_back(ind);
            hs.best_previous_token = std::max(hs.best_previous_token, prev);
            if (ind > hs.best_induction || hs.best_induction_layer < 0) {
                hs.best_induction = ind;
                hs.best_induction_layer = int(l);
                hs.best_induction_head = int(h);
            }
        }
    }
    return hs;
}

}  // namespace attnviz
