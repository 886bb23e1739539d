#include "app_state.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <new>
#include <nlohmann/json.hpp>

#include "gpt2_model.hpp"  // induction_score
#include "long_state.hpp"
#include "model_analysis.hpp"
#include "model_doc.hpp"
#include "paths.hpp"
#include "scene_io.hpp"
#include "train_session.hpp"

namespace attnviz::app {

std::shared_ptr<const PatternSource> AppState::patterns() const {
    if (model) return model->patterns();
    if (!long_mode) return std::make_shared<ForwardSource>(scene, fwd);
    std::shared_ptr<const PatternTiles> tiles = long_view ? long_view->ready(generation) : nullptr;
    if (!tiles) return nullptr;
    return std::make_shared<TilesSource>(std::move(tiles));
}

namespace {
// Runs f(s) with the scene's mask set aside (the compare view's unmasked forward pass) and puts
// it back, even when f throws: no copy of the scene.
template <class F>
void without_mask(Scene& s, F&& f) {
    Mask kept = std::move(s.mask);
    s.mask = Mask::none();
    try {
        f(static_cast<const Scene&>(s));
    } catch (...) {
        s.mask = std::move(kept);
        throw;
    }
    s.mask = std::move(kept);
}
}  // namespace

void AppState::recompute() {
    committed = scene;
    rebuild();
}

void AppState::rebuild() {
    if (model) {  // the scene mirrors the model's layer (sync_model_view): never computed from it
        sync_model_view();
        return;
    }
    ++revision;
    ++generation;
    const bool was_long = long_mode;
    long_mode = !fits_full_forward(scene, Limits::kLiveForwardBytes);
    // thousands of keys share each row's weight: the 0..1 scale would be one colour. What long
    // mode switched on, it switches off again when it ends (the user's own choice stays).
    if (long_mode && !was_long && !view.auto_range) view.auto_range = view.auto_range_forced = true;
    if (!long_mode && view.auto_range_forced) view.auto_range = view.auto_range_forced = false;
    if (long_mode) {
        fwd = Forward{};
        fwd_unmasked = Forward{};
        long_rebuild(*this);
    } else {
        long_release(*this);
        forward(scene, fwd);
        if (scene.mask.type != MaskType::None) {
            without_mask(scene, [&](const Scene& unmasked) { forward(unmasked, fwd_unmasked); });
        } else {
            fwd_unmasked = Forward{};
        }
    }
    clamp_selection();
}

void AppState::apply_change(const SceneChange& change) {
    using Kind = SceneChange::Kind;
    if (change.kind == Kind::Other) {
        rebuild();
        return;
    }
    ++revision;
    if (change.kind == Kind::None) return;
    const std::uint64_t from = generation++;
    if (long_mode) {
        if (!long_update(*this, from, static_cast<int>(change.kind), change.index)) long_rebuild(*this);
        clamp_selection();
        return;
    }
    const bool masked = scene.mask.type != MaskType::None;
    auto update = [&](const Scene& sc, Forward& f) {
        if (change.kind == Kind::Token) update_token(sc, f, change.index);
        else if (change.kind == Kind::HeadWeights) recompute_head(sc, f, change.index);
        else if (change.kind == Kind::Output) update_output(sc, f);
    };
    try {
        update(scene, fwd);
        if (masked) without_mask(scene, [&](const Scene& unmasked) { update(unmasked, fwd_unmasked); });
    } catch (const std::exception&) {
        rebuild();  // the forward pass did not match the scene after all
        return;
    }
    clamp_selection();
}

void AppState::check_committed() {
    const Scene &a = committed, &b = scene;
    if (a.n() != b.n() || a.m() != b.m() || a.d_model != b.d_model || a.n_heads != b.n_heads || a.d_head != b.d_head ||
        a.cross() != b.cross() || a.heads.size() != b.heads.size() || a.input.embeddings.rows() != b.input.embeddings.rows() ||
        a.W_O.rows() != b.W_O.rows())
        recompute();  // the forward pass was of another scene too
}

void AppState::commit(const std::string& key) {
    const SceneChange change = classify_change(committed, scene);
    if (change.kind == SceneChange::Kind::Other) {
        history.push(std::move(committed), key);  // the whole scene before: moved, not copied
        committed = scene;
    } else {
        history.push(committed, scene, change, key);  // what the edit replaced
        follow_change(committed, scene, change);
    }
    modified = true;
    clear_error();  // a red error from an earlier refused edit no longer describes the scene
    apply_change(change);
}

bool AppState::type_text(const std::string& field, const std::string& text) {
    if (model) {  // GPT-2's BPE; the forward runs on the worker
        if (field != "text") return false;
        std::string err;
        if (!model->set_text(text, &err)) {
            set_error("tokens: " + err);
            return false;
        }
        clear_error();
        return true;
    }
    if (field == "source") return edit(typing_key(field, text), [&](Scene& x) { set_source_text(x, text); });
    return edit(typing_key(field, text), [&](Scene& x) { set_text(x, text); });
}

bool AppState::undo() {
    if (model) return false;
    if (!history.undo(scene)) return false;
    const SceneChange change = classify_change(committed, scene);
    follow_change(committed, scene, change);
    modified = true;
    apply_change(change);
    return true;
}

bool AppState::redo() {
    if (model) return false;
    if (!history.redo(scene)) return false;
    const SceneChange change = classify_change(committed, scene);
    follow_change(committed, scene, change);
    modified = true;
    apply_change(change);
    return true;
}

void AppState::clamp_selection() {
    sel.head = std::clamp(sel.head, 0, scene.n_heads - 1);
    if (sel.query >= scene.n()) sel.query = scene.n() - 1;
    if (sel.key >= scene.m()) sel.key = scene.m() - 1;
}

void AppState::set_scene(Scene s, const std::string& path) {
    // Opening is not an undo step: the history is of the document that was open (which the caller
    // saved, or the user chose to discard: request_switch), so undo never mixes two documents.
    history.clear();
    scene = std::move(s);
    scene_path = path;
    modified = false;
    discarded_changes = false;
    origin = DocumentOrigin{scene.input.text, scene.title, scene.description};
    sel = Selection{};
    token_edit = -1;
    model.reset();  // a scene is the document now
    recompute();
    // A lecture scene that names a GPT-2 folder ("model", docs/scene-format.md; e.g. scene 10, the
    // induction head trained here) opens that model with the scene's tokens as its text — as the
    // document, not while the presentation deck shows it (the deck pages through scenes).
    if (!scene.model_dir.empty() && !deck_active()) {
        std::string text;
        for (const Token& t : scene.input.tokens) text += t.text;
        const std::string dir = scene.model_dir;
        open_model(dir, text);
    }
}

bool AppState::open_model(const std::string& dir, const std::string& text) {
    if (dir.empty()) {
        set_error("open model: no folder given");
        return false;
    }
    std::shared_ptr<ModelDoc> doc;
    try {
        doc = ModelDoc::open(dir);
    } catch (const std::bad_alloc&) {
        set_error("open model " + dir + ": out of memory");
        return false;
    } catch (const std::exception& e) {  // ModelError names the file and the tensor or field
        set_error("open model " + dir + ": " + e.what());
        return false;
    }
    if (!text.empty()) {
        std::string err;
        if (!doc->set_text(text, &err)) {
            set_error("open model " + dir + ": the text: " + err);
            return false;
        }
    }
    end_deck();
    if (text.empty()) {  // something to look at: a short sentence, or one token of the vocabulary
        for (const char* t : {"The cat sat on the mat, and the cat", "the cat", "a"})
            if (doc->set_text(t)) break;
    }
    model = std::move(doc);
    model_view_layer = -1;
    model_view_generation = ~std::uint64_t(0);
    modified = false;  // the scene's changes were saved or discarded (request_open_model)
    token_edit = -1;
    text_input = model->text;
    ++generation;
    set_info("opened model " + dir + " (" + std::to_string(model->cfg().n_layers) + " layers, " +
             std::to_string(model->cfg().n_heads) + " heads, d_model " + std::to_string(model->cfg().d_model) + ")");
    return true;
}

bool AppState::request_open_model(const std::string& dir) {
    return request_switch("open model " + std::filesystem::path(dir).filename().string(), [this, dir] { open_model(dir); });
}

void AppState::close_model() {
    if (!model) return;
    new_scene();  // the scene shown was the model's stand-in: a new untitled scene (set_scene drops the model)
}

bool AppState::poll_model() {
    if (!model) return false;
    std::vector<std::string> errors;
    model->poll(&errors);
    for (const auto& e : errors) set_error("model: " + e);
    // the views' head selection is the model's
    if (model_view_layer >= 0 && sel.head != model->head) model->select(model->layer, sel.head);
    // the compare view's unmasked run: the same ids without any mask, asked for while it is shown
    if (show_compare && workspace == 0 && model->up_to_date() && model->up_to_date("unmasked")) {
        auto r = model->result();
        auto u = model->result("unmasked");
        if (r && (!u || u->in.ids != r->in.ids || u->in.opt.ablate != r->in.opt.ablate)) {
            ModelInputs in = r->in;
            in.opt.mask = Mask::none();
            in.opt.layer_masks.clear();
            model->request("unmasked", std::move(in));
        }
    }
    if (model->generation() == model_view_generation && model->layer == model_view_layer) {
        sel.head = model->head;
        return false;
    }
    sync_model_view();
    return true;
}

void AppState::sync_model_view() {
    if (!model) return;
    auto r = model->result();
    auto src = model->patterns();
    model_view_generation = model->generation();
    model_view_layer = model->layer;
    sel.head = model->head;
    ++generation;
    if (!r || !src) return;
    const Gpt2Forward& f = *r->fwd;
    const ModelConfig& c = r->model->cfg;
    const int l = model->layer, d = c.d_model, dh = c.d_head(), n = f.n();
    const LayerWeights& w = r->model->layers[static_cast<std::size_t>(l)];
    Scene sc;
    sc.title = model->name() + " \xC2\xB7 layer " + std::to_string(l);
    sc.description = "GPT-2 model " + model->folder + ": layer " + std::to_string(l) + " of " + std::to_string(c.n_layers) +
                     " (read-only; the queries, keys and values include LayerNorm and the biases)";
    sc.input.from_text = false;
    sc.input.text = model->text;
    std::vector<std::string> pieces;
    for (int id : f.ids()) pieces.push_back(model->piece(id));
    sc.input.tokens = tokens_from_strings(pieces);
    sc.input.embeddings = f.resid(l);  // (n, d) the residual stream before the layer
    sc.input.embeddings_given = true;
    sc.d_model = d;
    sc.n_heads = c.n_heads;
    sc.d_head = dh;
    sc.mask = f.options().mask_of(l);
    sc.scale = true;
    sc.temperature = 1.0f;
    sc.positional = Positional::None;
    sc.heads.resize(static_cast<std::size_t>(c.n_heads));
    for (int h = 0; h < c.n_heads; ++h)
        for (int p = 0; p < 3; ++p) {
            sc.heads[static_cast<std::size_t>(h)].W[static_cast<std::size_t>(p)] = w.W_qkv.block(0, p * d + h * dh, d, dh);
            sc.heads[static_cast<std::size_t>(h)].given[static_cast<std::size_t>(p)] = true;
        }
    sc.W_O = w.W_o;
    sc.W_O_given = true;
    (void)n;
    scene = std::move(sc);
    committed = scene;
    history.clear();
    long_mode = false;
    long_release(*this);
    fwd = *src->full();
    fwd_unmasked = Forward{};
    if (auto u = model->result("unmasked"); u && scene.mask.type != MaskType::None && u->fwd->n() == n &&
                                            u->in.ids == f.ids())
        if (auto us = std::make_shared<Gpt2LayerSource>(std::shared_ptr<const Gpt2Forward>(u, u->fwd.get()), l))
            fwd_unmasked = *us->full();
    clamp_selection();
}

bool AppState::open_file(const std::string& path) {
    if (path.empty()) {
        set_error("open: no file name given");
        return false;
    }
    try {
        set_scene(load_scene(path), path);
    } catch (const SceneError& e) {
        set_error("open " + path + ": " + e.what());
        return false;
    } catch (const std::bad_alloc&) {  // the open document stays as it was
        set_error("open " + path + ": out of memory");
        return false;
    }
    add_recent(path);
    set_info("opened " + path);
    return true;
}

bool AppState::save_file(const std::string& requested) {
    if (model) {
        set_error("save: a model is open (its weights are read-only here; File \xE2\x86\x92 Close model goes back to scenes)");
        return false;
    }
    if (requested.empty()) {
        set_error("save: no file name given");
        return false;
    }
    std::string path = requested;
    const bool bundled = is_bundled_path(requested);
    if (bundled) {  // a lecture scene that comes with attnviz is read-only: save a copy of it
        const std::string dir = documents_dir();
        if (dir.empty()) {
            set_error("save: lecture scenes are read-only, and there is no documents folder (set XDG_DOCUMENTS_DIR or HOME)");
            return false;
        }
        std::error_code ec;  // named after the lecture scene itself (a symlink's target)
        const std::filesystem::path real = std::filesystem::weakly_canonical(requested, ec);
        path = unused_path(dir, diverged() ? std::string("untitled") : (ec ? std::filesystem::path(requested) : real).stem().string());
    }
    // What is shown is what is saved: a diverged scene gets the title it shows, and no description.
    const bool retitle = diverged();
    Scene* target = &scene;
    Scene retitled;
    if (retitle) {
        retitled = scene;
        retitled.title = display_title();
        retitled.description.clear();
        target = &retitled;
    }
    try {
        attnviz::save_scene(*target, path);
    } catch (const SceneError& e) {
        set_error("save " + path + ": " + e.what());
        return false;
    }
    if (retitle) {  // the document takes the title it was saved with (not an undo step)
        scene.title = committed.title = retitled.title;
        scene.description.clear();
        committed.description.clear();
    }
    scene_path = path;
    modified = false;
    origin = DocumentOrigin{scene.input.text, scene.title, scene.description};
    ++saves;
    add_recent(path);
    path_input = path;
    set_info(bundled ? "lecture scenes are read-only: saved a copy to " + path : "saved " + path);
    return true;
}

bool AppState::save_current() {
    if (!scene_path.empty()) return save_file(scene_path);
    const std::string dir = documents_dir();
    if (dir.empty()) {
        set_error("save: no file name given and no documents folder (set XDG_DOCUMENTS_DIR or HOME)");
        show_files = true;
        return false;
    }
    return save_file(unused_path(dir, "untitled"));
}

void AppState::new_scene() {
    Scene s = make_scene({"the"}, 8, 2, 4, 1);
    set_text(s, "the cat sat on the mat");
    set_scene(std::move(s), "");
    lecture.scene_index = -1;
    path_input.clear();
    set_info("new untitled scene");
}

bool AppState::request_switch(const std::string& what, std::function<void()> perform) {
    end_deck();  // the question (and the switch) is about the user's document
    if (!modified) {
        pending_switch = PendingSwitch{};
        perform();
        return true;
    }
    pending_switch = PendingSwitch{what, std::move(perform)};
    return false;
}

bool AppState::request_open(const std::string& path) {
    return request_switch("open " + std::filesystem::path(path).filename().string(), [this, path] { open_file(path); });
}

bool AppState::request_new() {
    return request_switch("start a new scene", [this] { new_scene(); });
}

bool AppState::request_quit() {
    return request_switch("quit", [this] { quit_requested = true; });
}

void AppState::resolve_unsaved(UnsavedChoice choice) {
    if (!pending_switch.active()) return;
    PendingSwitch p = std::move(pending_switch);
    pending_switch = PendingSwitch{};
    switch (choice) {
        case UnsavedChoice::Cancel:
            return;
        case UnsavedChoice::Save:
            if (!save_current()) return;  // the error is on the status line; nothing switched
            break;
        case UnsavedChoice::Discard:
            discarded_changes = true;
            break;
    }
    p.perform();
}

void AppState::present_scene(Scene s, const std::string& path) {
    close_model();  // the deck shows scenes (a model's stand-in is not a document to put aside)
    if (!stashed) {
        auto d = std::make_shared<StashedDocument>();
        d->scene = std::move(scene);
        d->scene_path = std::move(scene_path);
        d->modified = modified;
        d->history = std::move(history);
        d->origin = std::move(origin);
        d->sel = sel;
        d->lecture_index = lecture.scene_index;
        d->math_step = lecture.math_step;
        d->text_input = std::move(text_input);
        d->source_input = std::move(source_input);
        stashed = std::move(d);
        history = History(stashed->history.options());
    }
    set_scene(std::move(s), path);
    text_input.clear();
    source_input.clear();
}

void AppState::end_deck() {
    if (!stashed) return;
    StashedDocument& d = *stashed;
    scene = std::move(d.scene);
    scene_path = std::move(d.scene_path);
    modified = d.modified;
    history = std::move(d.history);
    origin = std::move(d.origin);
    lecture.scene_index = d.lecture_index;
    lecture.math_step = d.math_step;
    text_input = std::move(d.text_input);
    source_input = std::move(d.source_input);
    const Selection kept = d.sel;
    stashed.reset();
    token_edit = -1;
    recompute();  // committed = scene (which the history's last step describes)
    sel = kept;
    clamp_selection();
    lecture.explanation_valid = false;
    set_info("back to your document");  // the deck's "scene n of 12" no longer describes it
}

bool AppState::diverged() const {
    return !origin.title.empty() && scene.input.text != origin.text && scene.title == origin.title;
}

std::string AppState::display_title() const {
    if (diverged()) return "Untitled (from " + origin.title + ")";
    return scene.title.empty() ? std::string("untitled") : scene.title;
}

std::string AppState::display_description() const {
    // hidden while it is the description of the file's other sentence; shown once the user wrote one
    return diverged() && scene.description == origin.description ? std::string() : scene.description;
}

std::string AppState::export_stem() const {
    if (diverged() || scene_path.empty()) return "untitled";
    return std::filesystem::path(scene_path).stem().string();
}

std::string AppState::window_title() const {
    std::string t = "attnviz \xE2\x80\x94 " + display_title();
    if (modified) t += "*";
    if (!scene_path.empty()) t += " (" + std::filesystem::path(scene_path).filename().string() + ")";
    return t;
}

std::string AppState::state_json() const {
    nlohmann::json j;
    j["tokens"] = token_texts(scene.input.tokens);
    if (scene.source) j["source_tokens"] = token_texts(scene.source->tokens);
    j["text"] = scene.input.text;
    j["n"] = scene.n();
    j["m"] = scene.m();
    j["long_mode"] = long_mode;
    if (long_mode) {
        std::string label;
        double fraction = 0.0;
        nlohmann::json l;
        l["job"] = long_progress(*this, label, fraction) ? label : "";
        l["fraction"] = fraction;
        l["busy"] = long_view && long_view->jobs.busy();
        l["ready"] = long_view && long_view->ready(generation) != nullptr;
        if (long_view && long_view->shown_valid) {
            const LongView& lv = *long_view;
            l["view"] = {lv.shown_view[0], lv.shown_view[1], lv.shown_view[2], lv.shown_view[3]};
            l["overview"] = lv.shown_overview;
            l["detail_exact"] = lv.shown_detail_exact;
        }
        j["long"] = l;
    }
    j["d_model"] = scene.d_model;
    j["n_heads"] = scene.n_heads;
    j["d_head"] = scene.d_head;
    j["mask"] = mask_type_name(scene.mask.type);
    j["mask_size"] = scene.mask.size;
    j["scale"] = scene.scale;
    j["temperature"] = scene.temperature;
    j["positional"] = positional_name(scene.positional);
    j["seed"] = scene.seed;
    j["title"] = scene.title;
    j["shown_title"] = display_title();
    j["shown_description"] = display_description();
    j["scene_path"] = scene_path;
    j["modified"] = modified;
    j["unsaved_question"] = pending_switch.active() ? pending_switch.what : "";
    j["deck"] = deck_active();
    j["presentation"] = lecture.presentation;
    j["redo"] = history.redo_size();
    j["auto_range"] = view.auto_range;
    j["head"] = sel.head;
    j["query"] = sel.query;
    j["key"] = sel.key;
    j["stage"] = stage_name(view.stage);
    j["transpose"] = view.transpose;
    j["colormap"] = view.colormap;
    j["status"] = status;
    j["status_is_error"] = status_is_error;
    j["undo"] = history.undo_size();
    j["generation"] = generation;
    j["widgets"] = ui_rects;
    j["workspace"] = workspace;
    if (train && train->trainer) {  // the Train workspace: what the trainer last published
        const auto v = train->trainer->view();
        nlohmann::json t;
        t["step"] = v->step;
        t["playing"] = v->playing;
        t["steps_per_s"] = v->steps_per_s;
        t["loss"] = v->losses.empty() ? 0.0 : v->losses.back().loss;
        t["heldout_loss"] = v->losses.empty() || !std::isfinite(v->losses.back().heldout) ? 0.0 : v->losses.back().heldout;
        t["max_induction"] = v->max_induction();
        t["snapshots"] = v->snapshots.size();
        t["scrub"] = train->scrub;
        // the patterns the heads window shows (the scrubbed snapshot's, else the live ones)
        const bool scrubbed = train->scrub >= 0 && train->scrub < int(v->snapshots.size());
        const auto shown = scrubbed ? v->snapshots[std::size_t(train->scrub)].probe : v->probe;
        t["shown_step"] = shown ? shown->step : -1;
        t["shown_induction"] = shown ? shown->scores.best_induction : 0.0;
        // Σ over heads of core's induction score on the shown patterns: changes with the patterns
        double sum = 0;
        if (shown)
            for (const Mat& p : shown->patterns) sum += induction_score(p, shown->tokens);
        t["shown_induction_sum"] = sum;
        t["message"] = v->message;
        t["message_is_error"] = v->message_is_error;
        j["train"] = t;
    }
    if (analysis) j["analysis"] = nlohmann::json::parse(analysis->state_json());
    if (model) {
        nlohmann::json mj;
        mj["folder"] = model->folder;
        mj["n_layers"] = model->cfg().n_layers;
        mj["n_heads"] = model->cfg().n_heads;
        mj["d_model"] = model->cfg().d_model;
        mj["layer"] = model->layer;
        mj["head"] = model->head;
        mj["text"] = model->text;
        mj["ids"] = model->ids;
        mj["pieces"] = model->pieces();
        mj["up_to_date"] = model->up_to_date();
        mj["busy"] = model->busy();
        nlohmann::json top = nlohmann::json::array();
        if (auto r = model->result()) {
            mj["result_n"] = r->fwd->n();
            for (const auto& t : r->top) top.push_back({{"id", t.id}, {"piece", model->piece(t.id)}, {"prob", t.prob}});
        }
        mj["top_k"] = top;
        j["model"] = mj;
    }
    // Every string in it is valid UTF-8: invalid bytes (a status message quoting a file's raw
    // bytes) become U+FFFD instead of an exception.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void AppState::add_recent(const std::string& path) {
    std::error_code ec;
    std::string abs = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec) abs = path;
    recent.erase(std::remove(recent.begin(), recent.end(), abs), recent.end());
    recent.insert(recent.begin(), abs);
    if (recent.size() > 10) recent.resize(10);
    save_recent();
}

void AppState::load_recent() {
    recent.clear();
    if (config_dir.empty()) return;
    std::string text;
    try {
        text = read_file(config_dir + "/recent.txt", 1 << 16);  // regular files only: a FIFO here must not hang the start
    } catch (const SceneError&) {
        return;  // absent or unreadable: no recent list
    }
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line) && recent.size() < 10)
        if (!line.empty()) recent.push_back(line);
}

void AppState::save_recent() const {
    if (config_dir.empty()) return;
    std::string text;
    for (const auto& r : recent) text += r + "\n";
    try {
        write_file_atomic(config_dir + "/recent.txt", text);
    } catch (const SceneError&) {
        // the recent list is a convenience; a read-only config folder must not stop the app
    }
}

}  // namespace attnviz::app
