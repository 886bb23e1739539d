// attnviz app — the Train workspace: a small GPT-2-style model trained live on a worker thread
// (app/session/train_session.hpp), three windows:
//   "Train"               the model, task and optimizer; Play, Pause, Step, Reset; steps/s; Save
//   "Training curves"     the loss (train and held-out) over steps, and every head's label scores
//                         over steps (induction highlighted), with the step shown marked on both
//   "Heads while training" every head's pattern on the probe (random tokens, a segment, the segment again)
//                         and the timeline of weight snapshots to scrub back to
// The windows read the trainer's published TrainView and never wait for a step.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "panels.hpp"
#include "plot_draw.hpp"
#include "text.hpp"
#include "train_session.hpp"

namespace attnviz::app {

namespace {

const ImU32 kTrainColor = IM_COL32(90, 170, 255, 255);
const ImU32 kHeldoutColor = IM_COL32(255, 160, 60, 255);
const ImU32 kMarkColor = IM_COL32(255, 214, 0, 200);

TrainWorkspace& workspace(AppState& s) {
    if (!s.train) s.train = std::make_shared<TrainWorkspace>();
    return *s.train;
}

// A line plot on a step axis: a frame, a few ticks, the series, vertical markers.
struct Series {
    std::vector<float> x, y;
    ImU32 color = 0;
    float thickness = 1.5f;
};
struct Marker {
    float x = 0;
    ImU32 color = 0;
    const char* label = "";
};

void nice_ticks(float lo, float hi, std::vector<float>& out) {
    out.clear();
    const float span = hi - lo;
    if (!(span > 0)) return;
    const float raw = span / 4.0f;
    const float mag = std::pow(10.0f, std::floor(std::log10(raw)));
    float step = mag;
    for (float m : {1.0f, 2.0f, 5.0f, 10.0f})
        if (m * mag >= raw) {
            step = m * mag;
            break;
        }
    for (float t = std::ceil(lo / step) * step; t <= hi + step * 1e-3f; t += step) out.push_back(t);
}

// Returns the screen rectangle of the plotting area (for MarkItem).
void draw_plot(AppState& s, const char* id, const char* title, ImVec2 size, float x_max, float y_lo, float y_hi,
               const std::vector<Series>& series, const std::vector<Marker>& markers) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton(id, size);
    MarkItem(s, id);
    const float font = ImGui::GetFontSize();
    const ImVec2 a(p0.x + font * 3.2f, p0.y + font * 1.3f);             // plotting area
    const ImVec2 b(p0.x + size.x - font * 0.5f, p0.y + size.y - font * 1.4f);
    if (b.x - a.x < 20 || b.y - a.y < 20) return;
    dl->AddRectFilled(a, b, IM_COL32(20, 22, 28, 255));
    dl->AddRect(a, b, IM_COL32(110, 110, 120, 255));
    dl->AddText(ImVec2(p0.x, p0.y), IM_COL32(220, 220, 220, 255), title);
    if (!(x_max > 0)) x_max = 1;
    if (!(y_hi > y_lo)) y_hi = y_lo + 1;
    auto X = [&](float x) { return a.x + (b.x - a.x) * std::clamp(x / x_max, 0.0f, 1.0f); };
    auto Y = [&](float y) { return b.y - (b.y - a.y) * std::clamp((y - y_lo) / (y_hi - y_lo), 0.0f, 1.0f); };
    std::vector<float> ticks;
    char buf[32];
    nice_ticks(y_lo, y_hi, ticks);
    for (float t : ticks) {
        dl->AddLine(ImVec2(a.x, Y(t)), ImVec2(b.x, Y(t)), IM_COL32(60, 60, 70, 255));
        std::snprintf(buf, sizeof buf, "%.3g", double(t));
        const ImVec2 ts = ImGui::CalcTextSize(buf);
        dl->AddText(ImVec2(a.x - ts.x - 4, Y(t) - ts.y * 0.5f), IM_COL32(170, 170, 170, 255), buf);
    }
    nice_ticks(0, x_max, ticks);
    for (float t : ticks) {
        dl->AddLine(ImVec2(X(t), b.y), ImVec2(X(t), b.y + 4), IM_COL32(140, 140, 140, 255));
        std::snprintf(buf, sizeof buf, "%.0f", double(t));
        const ImVec2 ts = ImGui::CalcTextSize(buf);
        dl->AddText(ImVec2(std::min(X(t) - ts.x * 0.5f, b.x - ts.x), b.y + 4), IM_COL32(170, 170, 170, 255), buf);
    }
    dl->PushClipRect(a, b, true);
    for (const Marker& m : markers) {
        dl->AddLine(ImVec2(X(m.x), a.y), ImVec2(X(m.x), b.y), m.color, 1.5f);
        if (m.label && *m.label) dl->AddText(ImVec2(X(m.x) + 3, a.y + 2), m.color, m.label);
    }
    std::vector<ImVec2> pts;
    for (const Series& sr : series) {
        pts.clear();
        for (std::size_t i = 0; i < sr.x.size(); ++i)
            if (std::isfinite(sr.y[i])) pts.emplace_back(X(sr.x[i]), Y(sr.y[i]));
        if (pts.size() >= 2) dl->AddPolyline(pts.data(), int(pts.size()), sr.color, 0, sr.thickness);
        else if (pts.size() == 1) dl->AddCircleFilled(pts[0], sr.thickness + 1, sr.color);
    }
    dl->PopClipRect();
    if (ImGui::IsItemHovered()) {
        const float mx = ImGui::GetIO().MousePos.x;
        if (mx >= a.x && mx <= b.x) {
            const float step = (mx - a.x) / (b.x - a.x) * x_max;
            dl->AddLine(ImVec2(mx, a.y), ImVec2(mx, b.y), IM_COL32(255, 255, 255, 60));
            ImGui::SetTooltip("step %.0f", double(step));
        }
    }
}

// The first logged step where the best induction score reached `level` (-1: not yet).
long first_step_above(const TrainView& v, double level) {
    for (const ScoreRow& r : v.scores)
        if (r.best_induction >= level) return r.step;
    return -1;
}

// The patterns shown: the scrubbed snapshot's, else the live probe's.
std::shared_ptr<const ProbePatterns> shown_probe(const TrainWorkspace& w, const TrainView& v) {
    if (w.scrub >= 0 && w.scrub < int(v.snapshots.size())) return v.snapshots[std::size_t(w.scrub)].probe;
    return v.probe;
}

bool int_field(AppState& s, const char* label, const char* id, int& v, int lo, int hi, const char* help) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6.5f);
    const bool changed = ImGui::InputInt(label, &v, 1, 8);
    MarkItem(s, id);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", help);
    v = std::clamp(v, lo, hi);
    return changed;
}

bool same_settings(const TrainSettings& a, const TrainSettings& b) {
    return a.task == b.task && a.layers == b.layers && a.heads == b.heads && a.d_model == b.d_model && a.context == b.context &&
           a.mlp == b.mlp && a.batch == b.batch && a.lr == b.lr && a.optimizer == b.optimizer && a.seed == b.seed &&
           a.threads == b.threads;
}

void DrawTrainControls(AppState& s, TrainWorkspace& w, LiveTrainer& t, const TrainView& v) {
    SetNextPanelLayout(kTrainWindow);
    if (!ImGui::Begin(kTrainWindow)) {
        ImGui::End();
        return;
    }
    TrainSettings& e = w.edit;
    const float font = ImGui::GetFontSize();
    // -- run --
    if (ImGui::Button(v.playing ? "Playing" : "Play")) t.play();
    MarkItem(s, "train.play");
    ImGui::SameLine();
    if (ImGui::Button("Pause")) t.pause();
    MarkItem(s, "train.pause");
    ImGui::SameLine();
    if (ImGui::Button("Step")) t.step();
    MarkItem(s, "train.step");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("One optimizer step (pauses first)");
    ImGui::SameLine();
    if (ImGui::Button("Reset")) {
        const std::string err = t.reset(e);
        if (!err.empty()) s.set_error("Train: " + err);
        else {
            w.scrub = -1;
            s.set_info("Train: a new model from seed " + std::to_string(e.seed));
        }
    }
    MarkItem(s, "train.reset");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Back to step 0: the seed's weights, with the settings below");
    ImGui::Text("step %ld", t.steps());
    ImGui::SameLine(font * 7);
    if (v.playing) ImGui::Text("%.1f steps/s", v.steps_per_s);
    else ImGui::TextDisabled("paused");
    if (!v.losses.empty()) {
        const LossPoint& l = v.losses.back();
        ImGui::Text("loss %.4f", l.loss);
        if (std::isfinite(l.heldout)) {
            ImGui::SameLine(font * 7);
            ImGui::Text("held-out %.4f", l.heldout);
        }
    }
    if (v.probe) {
        const ScoreRow& sc = v.probe->scores;
        const int H = std::max(1, v.cfg.n_heads);
        if (sc.best_induction_head >= 0)
            ImGui::Text("best induction head L%d H%d: %.2f", sc.best_induction_head / H, sc.best_induction_head % H, sc.best_induction);
        const long formed = first_step_above(v, 0.5);
        if (formed >= 0) ImGui::TextColored(ImVec4(1.0f, 0.84f, 0.0f, 1.0f), "induction head formed at step %ld", formed);
    }
    if (!v.message.empty()) {
        ImGui::PushTextWrapPos(0);
        ImGui::TextColored(v.message_is_error ? ImVec4(1.0f, 0.45f, 0.4f, 1.0f) : ImVec4(0.6f, 0.9f, 0.6f, 1.0f), "%s", v.message.c_str());
        ImGui::PopTextWrapPos();
    }

    // -- the model and task (applied by Reset) --
    ImGui::Separator();
    ImGui::TextUnformatted("Task");
    const TaskKind tasks[] = {TaskKind::Induction, TaskKind::Sort, TaskKind::Reverse, TaskKind::Text};
    for (int k = 0; k < 4; ++k) {
        if (k) same_line_if_fits(checkbox_width(task_name(tasks[k])));
        if (ImGui::RadioButton(task_name(tasks[k]), e.task == tasks[k])) {
            if (e.task != tasks[k]) e.context = 0;  // the new task's default context
            e.task = tasks[k];
            if (tasks[k] != TaskKind::Induction) e.mlp = true;
        }
        MarkItem(s, std::string("train.task.") + task_name(tasks[k]));
    }
    int_field(s, "layers", "train.layers", e.layers, 1, 8, "Transformer blocks");
    int_field(s, "heads", "train.heads", e.heads, 1, 16, "Attention heads per layer (d_model must divide by it)");
    int_field(s, "d_model", "train.d_model", e.d_model, 1, 512, "Model width");
    int context = e.context > 0 ? e.context : (e.task == TaskKind::Sort || e.task == TaskKind::Reverse ? 16 : 64);
    if (int_field(s, "context", "train.context", context, 2, 256,
                  "Tokens per sequence (induction: random tokens with a segment of 2 … context/2 tokens repeated right after itself; sort/reverse: list, '>', answer)"))
        e.context = context;
    ImGui::Checkbox("MLP", &e.mlp);
    MarkItem(s, "train.mlp");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Off: attention-only blocks (induction heads form fastest)");
    int_field(s, "batch", "train.batch", e.batch, 1, 1024, "Sequences per step");
    ImGui::SetNextItemWidth(font * 6.5f);
    ImGui::InputDouble("learning rate", &e.lr, 0, 0, "%.3g");
    MarkItem(s, "train.lr");
    e.lr = std::clamp(e.lr, 1e-6, 10.0);
    ImGui::TextUnformatted("Optimizer");
    ImGui::SameLine();
    if (ImGui::RadioButton("AdamW", e.optimizer == OptimizerKind::AdamW)) e.optimizer = OptimizerKind::AdamW;
    MarkItem(s, "train.optimizer.adamw");
    ImGui::SameLine();
    if (ImGui::RadioButton("SGD", e.optimizer == OptimizerKind::SGD)) e.optimizer = OptimizerKind::SGD;
    MarkItem(s, "train.optimizer.sgd");
    ImGui::SetNextItemWidth(font * 6.5f);
    ImGui::InputScalar("seed", ImGuiDataType_U64, &e.seed);
    MarkItem(s, "train.seed");
    int_field(s, "threads", "train.threads", e.threads, 1, 16, "Training threads (the result depends on the count)");
    if (!same_settings(e, v.settings)) ImGui::TextColored(ImVec4(1.0f, 0.84f, 0.0f, 1.0f), "Reset to apply the changes");

    // -- save --
    ImGui::Separator();
    ImGui::SetNextItemWidth(std::max(font * 8, ImGui::GetContentRegionAvail().x - font * 0.5f));
    char buf[1024];
    std::snprintf(buf, sizeof buf, "%s", w.save_path.c_str());
    if (ImGui::InputTextWithHint("##save_path", "folder to save in", buf, sizeof buf)) w.save_path = buf;
    MarkItem(s, "train.save_path");
    if (ImGui::Button("Save as GPT-2 folder")) {
        const std::string refused = w.request_save();  // asks before replacing a model (train_session.hpp)
        if (!refused.empty()) s.set_error(refused);
    }
    MarkItem(s, "train.save");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("config.json, vocab.json, merges.txt and model.safetensors of the current step (attnviz --model opens it)");
    ImGui::End();
}

void DrawTrainCurves(AppState& s, const TrainWorkspace& w, const TrainView& v) {
    SetNextPanelLayout(kTrainCurvesWindow);
    if (!ImGui::Begin(kTrainCurvesWindow)) {
        ImGui::End();
        return;
    }
    const float font = ImGui::GetFontSize();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float x_max = float(std::max<long>(v.step, 10));
    std::vector<Marker> markers;
    const long formed = first_step_above(v, 0.5);
    if (formed >= 0) markers.push_back({float(formed), kMarkColor, "induction \xE2\x89\xA5 0.5"});
    if (w.scrub >= 0 && w.scrub < int(v.snapshots.size()))
        markers.push_back({float(v.snapshots[std::size_t(w.scrub)].step), IM_COL32(255, 255, 255, 200), "shown"});

    // the loss
    Series train, held;
    train.color = kTrainColor;
    held.color = kHeldoutColor;
    float hi = 0;
    for (const LossPoint& l : v.losses) {
        train.x.push_back(float(l.step));
        train.y.push_back(float(l.loss));
        held.x.push_back(float(l.step));
        held.y.push_back(float(l.heldout));
        if (std::isfinite(l.loss)) hi = std::max(hi, float(l.loss));
        if (std::isfinite(l.heldout)) hi = std::max(hi, float(l.heldout));
    }
    const float plot_h = std::max(font * 8, (avail.y - font * 2.5f) * 0.5f);
    ImGui::TextColored(ImVec4(0.35f, 0.67f, 1.0f, 1.0f), "train loss");
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(1.0f, 0.63f, 0.24f, 1.0f), "held-out loss");
    ImGui::SameLine();
    ImGui::TextDisabled("(mean next-token cross-entropy, nats)");
    draw_plot(s, "train.loss_plot", "loss", ImVec2(avail.x, plot_h), x_max, 0.0f, std::max(hi * 1.05f, 0.1f), {train, held}, markers);

    // every head's induction score (the best head thick), previous-token thin and dashed-looking
    std::vector<Series> lines;
    const int heads = v.scores.empty() ? 0 : int(v.scores.back().induction.size());
    const int best = v.probe ? v.probe->scores.best_induction_head : -1;
    const int H = std::max(1, v.cfg.n_heads);
    for (int h = 0; h < heads; ++h) {
        Series prev, ind;
        prev.color = head_color(h, 0.35f);
        prev.thickness = 1.0f;
        ind.color = head_color(h, h == best ? 1.0f : 0.55f);
        ind.thickness = h == best ? 3.5f : 1.5f;
        for (const ScoreRow& r : v.scores) {
            if (int(r.induction.size()) != heads) continue;
            prev.x.push_back(float(r.step));
            prev.y.push_back(float(r.previous_token[std::size_t(h)]));
            ind.x.push_back(float(r.step));
            ind.y.push_back(float(r.induction[std::size_t(h)]));
        }
        lines.push_back(std::move(prev));
        lines.push_back(std::move(ind));
    }
    if (best >= 0) std::rotate(lines.begin() + 2 * best, lines.begin() + 2 * best + 2, lines.end());  // the best on top
    ImGui::TextUnformatted("head scores on the probe:");
    ImGui::SameLine();
    ImGui::TextDisabled("induction (thick: the best head, L%d H%d) and previous-token (faint), per head", best >= 0 ? best / H : 0,
                        best >= 0 ? best % H : 0);
    draw_plot(s, "train.score_plot", "score", ImVec2(avail.x, ImGui::GetContentRegionAvail().y), x_max, 0.0f, 1.0f, lines, markers);
    ImGui::End();
}

void DrawTrainHeads(AppState& s, TrainWorkspace& w, const TrainView& v) {
    SetNextPanelLayout(kTrainHeadsWindow);
    if (!ImGui::Begin(kTrainHeadsWindow)) {
        ImGui::End();
        return;
    }
    const float font = ImGui::GetFontSize();
    // -- the timeline --
    const int count = int(v.snapshots.size());
    if (w.scrub >= count) w.scrub = count - 1;
    bool live = w.scrub < 0;
    if (ImGui::Checkbox("live", &live)) w.scrub = live ? -1 : std::max(0, count - 1);
    MarkItem(s, "train.live");
    ImGui::SameLine();
    int idx = w.scrub < 0 ? count - 1 : w.scrub;
    ImGui::SetNextItemWidth(std::max(font * 6, ImGui::GetContentRegionAvail().x - font * 9));
    char fmt[64];
    std::snprintf(fmt, sizeof fmt, "step %ld", idx >= 0 && idx < count ? v.snapshots[std::size_t(idx)].step : 0L);
    if (ImGui::SliderInt("##timeline", &idx, 0, std::max(0, count - 1), fmt)) w.scrub = idx;
    MarkItem(s, "train.timeline");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Snapshots of the weights (%d kept, evenly spaced): drag to see the patterns as they were", count);
    ImGui::SameLine();
    ImGui::TextDisabled("%d snapshots", count);

    const auto probe = shown_probe(w, v);
    if (!probe || probe->patterns.empty()) {
        ImGui::TextDisabled("no patterns yet");
        ImGui::End();
        return;
    }
    ImGui::Text("step %ld%s: every head on the probe (%d tokens; a segment repeated)", probe->step, w.scrub >= 0 ? " (snapshot)" : "",
                int(probe->tokens.size()));
    // -- every head's pattern, one row per layer --
    AppState::Views& vw = views(s);
    const int L = std::max(1, v.cfg.n_layers), H = std::max(1, v.cfg.n_heads);
    const int tiles = int(probe->patterns.size());
    if (int(vw.train_heads.size()) > tiles) {
        for (std::size_t i = std::size_t(tiles); i < vw.train_heads.size(); ++i) vw.train_heads[i].release_gpu();
        vw.train_heads.resize(std::size_t(tiles));
    }
    vw.train_heads.resize(std::size_t(tiles));
    std::vector<std::string> labels;
    for (int id : probe->tokens) labels.push_back(id < int(v.vocab.size()) ? v.vocab[std::size_t(id)] : std::to_string(id));
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float title_h = ImGui::GetTextLineHeightWithSpacing();
    const ImGuiStyle& st = ImGui::GetStyle();
    const float tile = std::max(font * 3, std::min((avail.x - st.ItemSpacing.x * float(H - 1)) / float(H),
                                                   (avail.y - float(L) * (title_h + st.ItemSpacing.y)) / float(L)));
    const std::uint64_t base = (v.run << 40) ^ (std::uint64_t(probe->step) << 12) ^ (w.scrub >= 0 ? 1ull << 39 : 0);
    const ScoreRow& sc = probe->scores;
    for (int k = 0; k < tiles; ++k) {
        HeatmapView& hv = vw.train_heads[std::size_t(k)];
        hv.opt.show_labels = false;
        hv.opt.show_colorbar = false;
        hv.opt.show_values = false;
        hv.opt.interactive = false;
        hv.opt.transpose = false;
        const std::uint64_t key = base + std::uint64_t(k);
        if (hv.wants_data(key)) {
            const Mask causal = Mask::causal();
            hv.set_data(probe->patterns[std::size_t(k)], &causal, key);
        }
        configure_for_stage(hv, Stage::Pattern, s.view.colormap);
        if (k % H != 0) ImGui::SameLine();
        ImGui::BeginGroup();
        char title[96];
        std::snprintf(title, sizeof title, "L%d H%d  ind %.2f", k / H, k % H, sc.induction[std::size_t(k)]);
        const bool best = k == sc.best_induction_head && sc.best_induction >= 0.3;
        const std::string shown = ellipsize(title, tile);
        // in the head's colour: the same as its lines in the score plot
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(head_color(k)), "%s", shown.c_str());
        ImGui::PushID(k);
        const HeatmapResult r = hv.Draw("train_tile", ImVec2(tile, tile), labels, labels);
        ImGui::PopID();
        s.ui_rects["train.head" + std::to_string(k / H) + "." + std::to_string(k % H)] = {r.plot_min.x, r.plot_min.y, r.plot_max.x,
                                                                                          r.plot_max.y};
        if (best)
            ImGui::GetWindowDrawList()->AddRect(ImVec2(r.plot_min.x - 3, r.plot_min.y - 3), ImVec2(r.plot_max.x + 3, r.plot_max.y + 3),
                                                kMarkColor, 0, 0, 2.5f);
        ImGui::EndGroup();
        if (r.hovered && r.hover_row >= 0 && r.hover_col >= 0) {
            const Mat& P = probe->patterns[std::size_t(k)];
            ImGui::SetTooltip("L%d H%d  query %d \"%s\" \xE2\x86\x92 key %d \"%s\"  weight %.4f\ninduction %.3f  previous-token %.3f  "
                              "duplicate %.3f  first-token %.3f",
                              k / H, k % H, r.hover_row, labels[std::size_t(r.hover_row)].c_str(), r.hover_col,
                              labels[std::size_t(r.hover_col)].c_str(), double(P(r.hover_row, r.hover_col)), sc.induction[std::size_t(k)],
                              sc.previous_token[std::size_t(k)], sc.duplicate_token[std::size_t(k)], sc.first_token[std::size_t(k)]);
        }
    }
    ImGui::End();
}

}  // namespace

void DrawTrainPanels(AppState& s) {
    TrainWorkspace& w = workspace(s);
    LiveTrainer* t = nullptr;
    try {
        t = &w.get();
    } catch (const std::exception& e) {  // the settings of a first start failed: back to the defaults
        s.set_error(std::string("Train: ") + e.what());
        w.edit = TrainSettings{};
        return;
    }
    const std::shared_ptr<const TrainView> v = t->view();
    if (!v) return;
    if (w.shown_run != v->run) {  // a new model: the timeline starts again
        w.shown_run = v->run;
        w.scrub = -1;
    }
    DrawTrainControls(s, w, *t, *v);
    DrawTrainCurves(s, w, *v);
    DrawTrainHeads(s, w, *v);
}

}  // namespace attnviz::app
