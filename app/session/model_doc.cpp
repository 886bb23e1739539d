#include "model_doc.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "gpt2_io.hpp"
#include "safetensors.hpp"  // ModelError

namespace attnviz::app {

std::shared_ptr<ModelDoc> ModelDoc::open(const std::string& dir) {
    Gpt2Tokenizer tok;
    auto m = std::make_shared<Model>(load_gpt2_folder(dir, &tok));
    return std::make_shared<ModelDoc>(std::move(m), std::move(tok), dir);
}

ModelDoc::ModelDoc(std::shared_ptr<const Model> m, Gpt2Tokenizer tok, std::string dir)
    : folder(std::move(dir)), model(std::move(m)), tokenizer(std::move(tok)), jobs_(std::make_unique<JobRunner>()) {
    kinds_[kMain] = 0;
}

ModelDoc::~ModelDoc() {
    if (jobs_) jobs_->cancel_all_and_wait();
}

std::string ModelDoc::name() const {
    std::string f = folder;
    while (f.size() > 1 && (f.back() == '/' || f.back() == '\\')) f.pop_back();
    const auto slash = f.find_last_of("/\\");
    const std::string base = slash == std::string::npos ? f : f.substr(slash + 1);
    return base.empty() ? std::string("model") : base;
}

std::string ModelDoc::piece(int id) const {
    const std::string& p = tokenizer.piece(id);
    return p.empty() ? "<" + std::to_string(id) + ">" : p;
}

std::vector<std::string> ModelDoc::pieces() const {
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (int id : ids) out.push_back(piece(id));
    return out;
}

bool ModelDoc::set_text(const std::string& t, std::string* error) {
    std::vector<int> enc;
    try {
        enc = tokenizer.encode(t);
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return false;
    }
    const bool cut = static_cast<int>(enc.size()) > cfg().n_ctx;
    if (cut) enc.resize(static_cast<std::size_t>(cfg().n_ctx));
    if (!set_ids(std::move(enc), error)) return false;
    text = t;
    truncated = cut;
    return true;
}

bool ModelDoc::set_ids(std::vector<int> new_ids, std::string* error) {
    if (static_cast<int>(new_ids.size()) > cfg().n_ctx) {
        if (error)
            *error = std::to_string(new_ids.size()) + " tokens, more than the model's " + std::to_string(cfg().n_ctx) +
                     " positions";
        return false;
    }
    for (std::size_t i = 0; i < new_ids.size(); ++i)
        if (new_ids[i] < 0 || new_ids[i] >= cfg().vocab_size) {
            if (error)
                *error = "token id " + std::to_string(new_ids[i]) + " at position " + std::to_string(i) +
                         " is not in the model's vocabulary (0.." + std::to_string(cfg().vocab_size - 1) + ")";
            return false;
        }
    ids = std::move(new_ids);
    truncated = false;
    if (query >= static_cast<int>(ids.size())) query = -1;
    recompute();
    return true;
}

void ModelDoc::select(int l, int h) {
    layer = std::clamp(l, 0, cfg().n_layers - 1);
    head = std::clamp(h, 0, cfg().n_heads - 1);
}

int ModelDoc::kind_of(const std::string& slot) {
    auto it = kinds_.find(slot);
    if (it != kinds_.end()) return it->second;
    const int k = static_cast<int>(kinds_.size());
    kinds_[slot] = k;
    return k;
}

std::shared_ptr<ModelResult> ModelDoc::compute(std::shared_ptr<const Model> m, ModelInputs in, Progress* progress) {
    auto r = std::make_shared<ModelResult>();
    const auto t0 = std::chrono::steady_clock::now();
    r->model = m;
    r->fwd = std::make_shared<Gpt2Forward>(*m, in.ids, in.opt, progress);
    r->top = top_k(r->fwd->last_logits(), kTopK);
    r->in = std::move(in);
    r->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

std::uint64_t ModelDoc::request(const std::string& slot, ModelInputs in) {
    const std::uint64_t req = ++next_request_;
    asked_[slot] = req;
    const int kind = kind_of(slot);
    if (in.ids.empty()) {
        jobs_->cancel(kind);
        std::lock_guard<std::mutex> lk(mu_);
        finished_.erase(slot);
        errors_.erase(slot);
        asked_.erase(slot);
        if (shown_.erase(slot)) {
            ++generation_;
            if (slot == kMain) sources_.clear();
        }
        return req;
    }
    auto m = model;
    const int layer_hint = slot == kMain ? layer : -1;
    const std::string label = slot == kMain ? "forward pass" : "forward pass (" + slot + ")";
    jobs_->submit(kind, label, [this, m, slot, req, layer_hint, in = std::move(in)](Progress& p) mutable {
        std::shared_ptr<ModelResult> r;
        try {
            r = compute(m, std::move(in), &p);
            if (layer_hint >= 0 && layer_hint < m->cfg.n_layers && !p.cancel) {  // the views' layer, ready to read
                // owns the forward and the model, not the result (the result owns the source: no cycle)
                struct Keep {
                    std::shared_ptr<const Model> model;
                    std::shared_ptr<const Gpt2Forward> fwd;
                };
                auto keep = std::make_shared<Keep>(Keep{m, r->fwd});
                auto src = std::make_shared<Gpt2LayerSource>(std::shared_ptr<const Gpt2Forward>(keep, keep->fwd.get()), layer_hint);
                src->full();
                r->layer = layer_hint;
                r->layer_source = std::move(src);
            }
            if (slot == kMain) {  // the model view's cells
                const int L = m->cfg.n_layers, H = m->cfg.n_heads, n = r->fwd->n();
                auto owner = std::shared_ptr<const Gpt2Forward>(r->model, r->fwd.get());  // (no cycle: the source goes at once)
                r->thumbnails.resize(static_cast<std::size_t>(L) * static_cast<std::size_t>(H));
                for (int l = 0; l < L && !p.cancel; ++l) {
                    Gpt2LayerSource src(owner, l);
                    for (int h = 0; h < H; ++h) {
                        Mat& t = r->thumbnails[static_cast<std::size_t>(l * H + h)];
                        if (n <= kThumbnail) t = src.stage_tile(h, Stage::Pattern, 0, 0, n, n);
                        else src.overview(h, 0, 0, n, n, kThumbnail, kThumbnail, Pool::Max, t, &p);
                    }
                }
                if (p.cancel) return;
            }
        } catch (const Gpt2Cancelled&) {
            return;  // superseded or cancelled: the last finished result stays
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lk(mu_);
            errors_[slot] = e.what();
            return;
        }
        r->request = req;
        std::lock_guard<std::mutex> lk(mu_);
        auto& slot_done = finished_[slot];
        if (!slot_done || slot_done->request < req) slot_done = std::move(r);
    });
    return req;
}

bool ModelDoc::poll(std::vector<std::string>* errors) {
    std::map<std::string, std::shared_ptr<const ModelResult>> done;
    std::map<std::string, std::string> errs;
    {
        std::lock_guard<std::mutex> lk(mu_);
        done.swap(finished_);
        errs.swap(errors_);
    }
    if (errors)
        for (auto& [slot, e] : errs) errors->push_back(e);
    bool changed = false;
    for (auto& [slot, r] : done) {
        auto& cur = shown_[slot];
        if (cur && cur->request > r->request) continue;
        cur = r;
        changed = true;
        if (slot == kMain) sources_.clear();
    }
    if (changed) ++generation_;
    return changed;
}

std::shared_ptr<const ModelResult> ModelDoc::result(const std::string& slot) const {
    auto it = shown_.find(slot);
    return it == shown_.end() ? nullptr : it->second;
}

std::shared_ptr<const Gpt2Forward> ModelDoc::latest() const {
    auto r = result(kMain);
    if (!r) return nullptr;
    return std::shared_ptr<const Gpt2Forward>(r, r->fwd.get());  // keeps the result (and model) alive
}

bool ModelDoc::up_to_date(const std::string& slot) const {
    auto a = asked_.find(slot);
    if (a == asked_.end()) return true;
    auto r = result(slot);
    return r && r->request == a->second;
}

bool ModelDoc::busy() const { return jobs_->busy(); }

double ModelDoc::progress() const { return jobs_->current().fraction; }

std::string ModelDoc::progress_label() const { return jobs_->current().label; }

void ModelDoc::cancel(const std::string& slot) {
    auto it = kinds_.find(slot);
    if (it != kinds_.end()) jobs_->cancel(it->second);
}

void ModelDoc::wait_idle() { jobs_->wait_idle(); }

std::shared_ptr<const PatternSource> ModelDoc::patterns() const { return patterns(layer); }

std::shared_ptr<const PatternSource> ModelDoc::patterns(int l) const {
    auto f = latest();
    if (!f || l < 0 || l >= f->n_layers()) return nullptr;
    auto& src = sources_[l];
    if (!src) {
        auto r = result();
        src = r->layer == l && r->layer_source ? r->layer_source : std::make_shared<Gpt2LayerSource>(f, l);
    }
    return src;
}

}  // namespace attnviz::app
