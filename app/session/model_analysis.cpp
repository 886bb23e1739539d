// attnviz session — the analysis panels' computations on the worker (model_analysis.hpp).
#include "model_analysis.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

namespace attnviz::app {

namespace {
// Job kinds: the comparison first (it follows clicks), then the lens, then labels (slowest).
enum Kind { kComparison = 0, kLens = 1, kLabels = 2 };

std::string ptr_key(const void* p) {
    std::ostringstream os;
    os << p;
    return os.str();
}

// (Strings are built by appending: GCC 12 warns falsely about "literal" + std::string at -O3.)
std::string mask_key(const Mask& m) {
    std::string k = mask_type_name(m.type);
    k += ':';
    k += std::to_string(m.size);
    return k;
}

std::string intervention_key(const Intervention& iv) {
    std::string k = "ablate";
    for (const auto& [l, h] : iv.ablate) {
        k += ' ';
        k += head_name(l, h);
    }
    if (iv.mask) {
        k += " mask ";
        k += mask_key(*iv.mask);
        k += '@';
        k += std::to_string(iv.mask_layer);
    } else {
        k += " no mask";
    }
    return k;
}
}  // namespace

std::string head_name(int layer, int head) {
    std::string n = "L";
    n += std::to_string(layer);
    n += 'H';
    n += std::to_string(head);
    return n;
}

ModelAnalysis::ModelAnalysis() : jobs_(std::make_unique<JobRunner>()) {}

ModelAnalysis::~ModelAnalysis() { jobs_->cancel_all_and_wait(); }

void ModelAnalysis::reset() {
    jobs_->cancel_all_and_wait();
    std::lock_guard<std::mutex> lock(mu_);
    labels_ = {};
    comparison_ = {};
    lens_ = {};
    intervention = {};
    mask_choice = 0;
    token = -1;
    token_text.clear();
    lens_pos = -1;
    for_model = nullptr;
}

void ModelAnalysis::want_labels(std::shared_ptr<const Model> m, std::shared_ptr<const Gpt2Forward> text) {
    if (!m || !text) return;
    const int T = label_T;
    std::string key = ptr_key(text.get());
    key += " T";
    key += std::to_string(T);
    if (key == labels_.key && labels_.asked) return;
    labels_.key = key;
    labels_.keep = text;
    const std::uint64_t req = labels_.asked = ++next_request_;
    jobs_->submit(kLabels, "head labels", [this, m, text, T, req](Progress& p) {
        p.total = 1;
        auto out = std::make_shared<Labels>();
        out->text = text.get();
        out->T = T;
        out->scores = label_heads_on_text(*text, T, 1, 1);
        if (p.cancel) return;
        p.done = 1;
        std::lock_guard<std::mutex> lock(mu_);
        labels_.finished = std::move(out);
        labels_.finished_request = req;
    });
}

void ModelAnalysis::want_comparison(std::shared_ptr<const Model> m, std::shared_ptr<const Gpt2Forward> before,
                                    const Intervention& iv, int k, int token, int layer) {
    if (!m || !before) return;
    std::string key = ptr_key(before.get());
    key += ' ';
    key += intervention_key(iv);
    for (const int x : {k, token, layer}) {
        key += ' ';
        key += std::to_string(x);
    }
    if (key == comparison_.key && comparison_.asked) return;
    comparison_.key = key;
    comparison_.keep = before;
    const std::uint64_t req = comparison_.asked = ++next_request_;
    jobs_->submit(kComparison, "intervention", [this, m, before, iv, k, token, layer, req](Progress& p) {
        p.total = 1;
        auto out = std::make_shared<Comparison>();
        out->before = before.get();
        out->iv = iv;
        out->k = k;
        out->token = token;
        out->layer = layer;
        const int t = token >= 0 ? token : top_k(before->last_logits(), 1).front().id;
        if (iv.empty()) {
            out->c = compare_forwards(*before, *before, k, t, layer);
        } else {
            Gpt2Options o = apply_intervention(before->options(), iv, m->cfg);
            o.threads = 1;
            o.pattern_budget_bytes = 0;  // the differences below are computed once, from Q and K
            const Gpt2Forward after(*m, before->ids(), std::move(o));
            if (p.cancel) return;
            out->c = compare_forwards(*before, after, k, t, layer);
        }
        if (p.cancel) return;
        p.done = 1;
        std::lock_guard<std::mutex> lock(mu_);
        comparison_.finished = std::move(out);
        comparison_.finished_request = req;
    });
}

void ModelAnalysis::want_lens(std::shared_ptr<const Model> m, std::shared_ptr<const Gpt2Forward> f, int pos, int k) {
    if (!m || !f) return;
    const int at = pos < 0 || pos >= f->n() ? f->n() - 1 : pos;
    std::string key = ptr_key(f.get());
    key += " p";
    key += std::to_string(at);
    key += " k";
    key += std::to_string(k);
    if (key == lens_.key && lens_.asked) return;
    lens_.key = key;
    lens_.keep = f;
    const std::uint64_t req = lens_.asked = ++next_request_;
    jobs_->submit(kLens, "logit lens", [this, m, f, at, k, req](Progress& p) {
        p.total = 1;
        auto out = std::make_shared<Lens>();
        out->f = f.get();
        out->pos = at;
        out->k = k;
        out->rows = logit_lens_rows(*f, at, k, true);
        if (p.cancel) return;
        p.done = 1;
        std::lock_guard<std::mutex> lock(mu_);
        lens_.finished = std::move(out);
        lens_.finished_request = req;
    });
}

template <class T>
bool ModelAnalysis::adopt(Slot<T>& slot) {
    if (!slot.finished) return false;
    slot.shown = std::move(slot.finished);
    slot.answered = slot.finished_request;
    slot.finished.reset();
    return true;
}

bool ModelAnalysis::poll(std::vector<std::string>* errors) {
    bool changed = false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        changed |= adopt(labels_);
        changed |= adopt(comparison_);
        changed |= adopt(lens_);
    }
    if (changed) ++generation_;
    for (std::string& e : jobs_->take_errors())
        if (errors) errors->push_back(std::move(e));
    return changed;
}

std::string ModelAnalysis::state_json() const {
    nlohmann::json j;
    nlohmann::json heads = nlohmann::json::array();
    for (const auto& [l, h] : intervention.ablate) heads.push_back(head_name(l, h));
    j["ablated"] = heads;
    j["mask"] = intervention.mask ? mask_key(*intervention.mask) : "";
    j["mask_layer"] = intervention.mask_layer;
    j["busy"] = jobs_->busy();
    if (const auto c = comparison_.shown) {
        j["kl"] = c->c.kl;
        j["token"] = c->c.token;
        j["logit_diff"] = c->c.logit_diff();
        nlohmann::json shown = nlohmann::json::array();
        for (const auto& [l, h] : c->iv.ablate) shown.push_back(head_name(l, h));
        j["kl_ablated"] = shown;  // the heads the shown KL is about
        double diff_max = 0;      // largest |after − before| of the shown layer's patterns
        for (const Mat& d : c->c.pattern_diff)
            if (d.size()) diff_max = std::max(diff_max, static_cast<double>(d.cwiseAbs().maxCoeff()));
        j["pattern_diff_max"] = diff_max;
        j["pattern_diff_layer"] = c->c.layer;
        j["comparison_current"] = comparison_.current();
    } else {
        j["kl"] = nullptr;
        j["comparison_current"] = false;
    }
    j["labels"] = labels_.shown ? static_cast<int>(labels_.shown->scores.size()) : 0;
    j["labels_current"] = labels_.current();
    j["requests"] = {labels_.asked, labels_.answered, comparison_.asked, comparison_.answered, lens_.asked, lens_.answered};
    j["lens_rows"] = lens_.shown ? static_cast<int>(lens_.shown->rows.size()) : 0;
    j["lens_pos"] = lens_.shown ? lens_.shown->pos : -1;
    if (lens_.shown && !lens_.shown->rows.empty() && !lens_.shown->rows.back().top.empty())
        j["lens_top"] = lens_.shown->rows.back().top.front().id;
    j["lens_current"] = lens_.current();
    j["map_score"] = head_score_name(map_score);
    return j.dump();
}

}  // namespace attnviz::app
