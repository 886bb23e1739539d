// attnviz session — training a small model live on a worker thread. See train_session.hpp.
#include "train_session.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>

#include "gpt2_io.hpp"
#include "gpt2_model.hpp"
#include "paths.hpp"

namespace attnviz::app {

namespace {

double now_s() {
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("text: " + path + ": cannot open");
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

// Keeps every other element (the first always): a history that stays evenly spaced and bounded.
template <class T>
void thin_half(std::vector<T>& v) {
    std::size_t k = 0;
    for (std::size_t i = 0; i < v.size(); i += 2) v[k++] = std::move(v[i]);
    v.resize(k);
}

constexpr std::size_t kMaxHistory = 4000;  // loss points and score rows kept (thinned beyond)

}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Settings
// ---------------------------------------------------------------------------------------------
Task make_task(const TrainSettings& s) {
    switch (s.task) {
        case TaskKind::Induction: return make_induction_task(s.context > 0 ? s.context : 64, s.vocab > 0 ? s.vocab : 64, s.seed);
        case TaskKind::Sort: return make_sort_task(s.context > 0 ? s.context : 16, s.vocab > 0 ? s.vocab : 11, s.seed);
        case TaskKind::Reverse: return make_reverse_task(s.context > 0 ? s.context : 16, s.vocab > 0 ? s.vocab : 11, s.seed);
        case TaskKind::Text: {
            const std::string text = s.text.empty() ? scenes_text(asset_path("assets/scenes")) : read_text_file(s.text);
            return make_text_task(text, s.context > 0 ? s.context : 64, s.seed);
        }
        case TaskKind::Data: break;
    }
    throw std::invalid_argument("task: the Train workspace trains induction, sort, reverse or text");
}

ModelConfig model_config(const TrainSettings& s, const Task& task) {
    ModelConfig cfg;
    cfg.vocab_size = task.vocab_size();
    cfg.n_ctx = task.context;
    cfg.d_model = s.d_model;
    cfg.n_layers = s.layers;
    cfg.n_heads = s.heads;
    cfg.mlp = s.mlp;
    parameter_layout(cfg);  // throws naming the bad size
    return cfg;
}

TrainOptions train_options(const TrainSettings& s) {
    if (s.batch < 1) throw std::invalid_argument("batch: must be at least 1");
    if (!(s.lr > 0) || !std::isfinite(s.lr)) throw std::invalid_argument("learning rate: must be a positive number");
    if (s.threads < 1) throw std::invalid_argument("threads: must be at least 1");
    TrainOptions o;
    o.batch = s.batch;
    o.threads = s.threads;
    o.optimizer.kind = s.optimizer;
    o.optimizer.lr = s.lr;
    o.optimizer.weight_decay = s.weight_decay >= 0 ? s.weight_decay : (s.optimizer == OptimizerKind::AdamW ? 0.01 : 0.0);
    o.optimizer.clip = s.clip;
    return o;
}

namespace {
std::shared_ptr<TrainSession> make_session(const TrainSettings& s) {
    if (s.log_every < 1 || s.probe_every < 1 || s.snapshot_every < 1)
        throw std::invalid_argument("log_every, probe_every and snapshot_every must be at least 1");
    if (s.max_snapshots < 2) throw std::invalid_argument("max_snapshots: must be at least 2");
    Task task = make_task(s);
    const ModelConfig cfg = model_config(s, task);
    const TrainOptions opt = train_options(s);
    return std::make_shared<TrainSession>(std::move(task), init_params<float>(cfg, s.seed), opt);
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] LiveTrainer
// ---------------------------------------------------------------------------------------------
std::shared_ptr<const ProbePatterns> LiveTrainer::probe_patterns(const Params<float>& p, const Task& task, long step,
                                                                 Backprop<float>& backprop) {
    auto out = std::make_shared<ProbePatterns>();
    out->step = step;
    out->tokens = task.probe;
    if (int(out->tokens.size()) > p.cfg.n_ctx) out->tokens.resize(std::size_t(p.cfg.n_ctx));
    auto pats = backprop.patterns(p, out->tokens);  // [layer][head] (n, n)
    ScoreRow& sc = out->scores;
    sc.step = step;
    for (auto& layer : pats)
        for (auto& pat : layer) {
            const int flat = int(out->patterns.size());
            const double prev = previous_token_score(pat), ind = induction_score(pat, out->tokens);
            sc.previous_token.push_back(prev);
            sc.induction.push_back(ind);
            sc.duplicate_token.push_back(duplicate_token_score(pat, out->tokens));
            sc.first_token.push_back(first_token_score(pat));
            sc.best_previous_token = std::max(sc.best_previous_token, prev);
            if (sc.best_induction_head < 0 || ind > sc.best_induction) {
                sc.best_induction = ind;
                sc.best_induction_head = flat;
            }
            out->patterns.push_back(std::move(pat));
        }
    return out;
}

LiveTrainer::LiveTrainer(const TrainSettings& settings) {
    Command c;
    c.kind = Command::Reset;
    c.session = make_session(settings);  // throws before the worker starts
    c.settings = settings;
    apply(c);                            // no worker yet: this thread owns the state
    worker_ = std::thread([this] { loop(); });
}

LiveTrainer::~LiveTrainer() {
    {
        std::lock_guard<std::mutex> lk(mutex_);
        quit_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
}

void LiveTrainer::post(Command c) {
    {
        std::lock_guard<std::mutex> lk(mutex_);
        commands_.push_back(std::move(c));
    }
    wake_.notify_all();
}

void LiveTrainer::play() {
    Command c;
    c.kind = Command::Play;
    post(std::move(c));
}

void LiveTrainer::pause() {
    Command c;
    c.kind = Command::Pause;
    post(std::move(c));
}

void LiveTrainer::step(int n) {
    Command c;
    c.kind = Command::Step;
    c.n = std::max(0, n);
    post(std::move(c));
}

std::string LiveTrainer::reset(const TrainSettings& settings) {
    Command c;
    c.kind = Command::Reset;
    try {
        c.session = make_session(settings);
    } catch (const std::exception& e) {
        return e.what();
    }
    c.settings = settings;
    post(std::move(c));
    return {};
}

std::string LiveTrainer::reset() {
    TrainSettings s;
    {
        std::lock_guard<std::mutex> lk(mutex_);
        s = view_->settings;
    }
    return reset(s);
}

void LiveTrainer::save(const std::string& dir) {
    Command c;
    c.kind = Command::Save;
    c.path = dir;
    post(std::move(c));
}

void LiveTrainer::sync() {
    Command c;
    c.kind = Command::Fence;
    c.done = std::make_shared<std::promise<void>>();
    std::future<void> f = c.done->get_future();
    post(std::move(c));
    f.wait();
}

Params<float> LiveTrainer::params() {
    Params<float> out;
    Command c;
    c.kind = Command::Fence;
    c.fn = [&] { out = session_->params(); };
    c.done = std::make_shared<std::promise<void>>();
    std::future<void> f = c.done->get_future();
    post(std::move(c));
    f.wait();
    return out;
}

std::shared_ptr<const TrainView> LiveTrainer::view() const {
    std::lock_guard<std::mutex> lk(mutex_);
    return view_;
}

void LiveTrainer::loop() {
    std::unique_lock<std::mutex> lk(mutex_);
    for (;;) {
        wake_.wait(lk, [&] { return quit_ || !commands_.empty() || playing_.load() || pending_steps_ > 0; });
        if (quit_) return;
        // A fence waits for the steps asked before it (Step's n steps); other commands come first.
        const bool fence_waits = !commands_.empty() && commands_.front().kind == Command::Fence && pending_steps_ > 0;
        if (!commands_.empty() && !fence_waits) {
            Command c = std::move(commands_.front());
            commands_.pop_front();
            lk.unlock();
            apply(c);
            lk.lock();
            continue;
        }
        lk.unlock();
        try {
            take_step();
        } catch (const std::exception& e) {  // a NaN loss or a bad batch: stop and say so
            playing_ = false;
            pending_steps_ = 0;
            message_ = std::string("training stopped: ") + e.what();
            message_is_error_ = true;
            publish();
        }
        lk.lock();
    }
}

void LiveTrainer::apply(Command& c) {
    switch (c.kind) {
        case Command::Play:
            playing_ = true;
            pending_steps_ = 0;
            rate_window_.clear();
            publish();
            break;
        case Command::Pause:
        case Command::Step: {
            const bool was_playing = playing_.load();
            playing_ = false;
            pending_steps_ = c.kind == Command::Step ? pending_steps_ + c.n : 0;
            if (was_playing || pending_steps_ == 0) {
                // what the paused view shows is the current step
                if (interval_steps_ > 0) {
                    const long s = session_->steps();
                    const auto h = session_->heldout_loss();
                    losses_.push_back({s, interval_loss_sum_ / double(interval_steps_), h ? double(*h) : std::nan("")});
                    interval_loss_sum_ = 0, interval_steps_ = 0;
                }
                if (!probe_ || probe_->step != session_->steps()) record_probe();
            }
            publish();
            break;
        }
        case Command::Reset: {
            session_ = std::move(c.session);
            settings_ = c.settings;
            probe_backprop_ = std::make_unique<Backprop<float>>(session_->options().mask, 1);
            ++run_;
            playing_ = false;
            pending_steps_ = 0;
            interval_loss_sum_ = 0, interval_steps_ = 0;
            losses_.clear();
            scores_.clear();
            snapshots_.clear();
            probe_.reset();
            snapshot_interval_ = settings_.snapshot_every;
            rate_window_.clear();
            steps_per_s_ = 0;
            message_.clear();
            message_is_error_ = false;
            step_count_ = 0;
            // step 0: the first batch's loss (what step 1 will report) and the held-out loss
            const Task& task = session_->task();
            const double first = probe_backprop_->loss(session_->params(), task.batch(0, session_->options().batch));
            const auto h = session_->heldout_loss();
            losses_.push_back({0, first, h ? double(*h) : std::nan("")});
            record_probe();
            add_snapshot();
            publish();
            break;
        }
        case Command::Save:
            try {
                save_gpt2_folder(model_from_params(session_->params()), c.path, session_->task().vocab);
                message_ = "saved step " + std::to_string(session_->steps()) + " as a GPT-2 folder: " + c.path;
                message_is_error_ = false;
            } catch (const std::exception& e) {
                message_ = "saving to " + c.path + ": " + e.what();
                message_is_error_ = true;
            }
            publish();
            break;
        case Command::Fence:
            if (c.fn) c.fn();
            if (c.done) c.done->set_value();
            break;
    }
}

void LiveTrainer::take_step() {
    const float loss = session_->step();
    if (!std::isfinite(loss)) throw std::runtime_error("the loss is not a finite number (lower the learning rate)");
    interval_loss_sum_ += loss;
    ++interval_steps_;
    if (pending_steps_ > 0) --pending_steps_;
    const long s = session_->steps();
    step_count_ = s;
    const double t = now_s();
    if (playing_.load()) {
        rate_window_.emplace_back(t, s);
        while (rate_window_.size() > 2 && t - rate_window_.front().first > 1.0) rate_window_.pop_front();
        const double span = t - rate_window_.front().first;
        if (rate_window_.size() >= 2 && span > 0) steps_per_s_ = double(s - rate_window_.front().second) / span;
    }
    const bool finished = !playing_.load() && pending_steps_ == 0;  // the last of Step's steps
    bool changed = false;
    if (s % settings_.log_every == 0 || (finished && interval_steps_ > 0)) {
        const auto h = session_->heldout_loss();
        losses_.push_back({s, interval_loss_sum_ / double(interval_steps_), h ? double(*h) : std::nan("")});
        if (losses_.size() > kMaxHistory) thin_half(losses_);
        interval_loss_sum_ = 0, interval_steps_ = 0;
        changed = true;
    }
    if (s % settings_.probe_every == 0 || finished) {
        record_probe();
        changed = true;
    }
    if (s % snapshot_interval_ == 0) {
        add_snapshot();
        changed = true;
    }
    if (changed || t - last_publish_s_ > 0.1) publish();
}

void LiveTrainer::record_probe() {
    probe_ = probe_patterns(session_->params(), session_->task(), session_->steps(), *probe_backprop_);
    scores_.push_back(probe_->scores);
    if (scores_.size() > kMaxHistory) thin_half(scores_);
}

void LiveTrainer::add_snapshot() {
    const long s = session_->steps();
    if (!probe_ || probe_->step != s) record_probe();
    TrainSnapshot snap;
    snap.step = s;
    snap.weights = std::make_shared<const AlignedVec<float>>(session_->params().w);
    snap.probe = probe_;
    snapshots_.push_back(std::move(snap));
    if (int(snapshots_.size()) > settings_.max_snapshots) {
        thin_half(snapshots_);  // those at multiples of twice the interval stay
        snapshot_interval_ *= 2;
    }
}

void LiveTrainer::publish() {
    auto v = std::make_shared<TrainView>();
    v->version = ++version_;
    v->run = run_;
    v->settings = settings_;
    v->cfg = session_->params().cfg;
    v->vocab = session_->task().vocab;
    v->playing = playing_.load();
    v->step = session_->steps();
    v->steps_per_s = steps_per_s_;
    v->losses = losses_;
    v->scores = scores_;
    v->probe = probe_;
    v->snapshots = snapshots_;
    v->message = message_;
    v->message_is_error = message_is_error_;
    last_publish_s_ = now_s();
    std::lock_guard<std::mutex> lk(mutex_);
    view_ = std::move(v);
}

LiveTrainer& TrainWorkspace::get() {
    if (!trainer) trainer = std::make_unique<LiveTrainer>(edit);
    return *trainer;
}

std::string TrainWorkspace::request_save() {
    namespace fs = std::filesystem;
    if (save_path.empty()) return "Train: type a folder to save the model in";
    if (is_bundled_path(save_path)) return "Train: " + save_path + " is one of attnviz's shipped files (read-only): choose another folder";
    std::error_code ec;
    const fs::path dir(save_path);
    const bool holds_model = fs::exists(dir / "config.json", ec) || fs::exists(dir / "model.safetensors", ec);
    if (holds_model && replace_path != save_path) {
        replace_path = save_path;
        return "Train: " + save_path + " already holds a model: press Save again to replace it";
    }
    replace_path.clear();
    get().save(save_path);
    return "";
}

}  // namespace attnviz::app
