#include "app_state.hpp"

#include <algorithm>

namespace attnviz::app {

void AppState::recompute() {
    fwd = forward(scene);
    if (scene.mask.type != MaskType::None) {
        Scene unmasked = scene;
        unmasked.mask = Mask::none();
        fwd_unmasked = forward(unmasked);
    } else {
        fwd_unmasked = fwd;
    }
    clamp_selection();
}

bool AppState::undo() {
    if (undo_stack.empty()) return false;
    redo_stack.push_back(std::move(scene));
    scene = std::move(undo_stack.back());
    undo_stack.pop_back();
    modified = true;
    recompute();
    return true;
}

bool AppState::redo() {
    if (redo_stack.empty()) return false;
    undo_stack.push_back(std::move(scene));
    scene = std::move(redo_stack.back());
    redo_stack.pop_back();
    modified = true;
    recompute();
    return true;
}

void AppState::clamp_selection() {
    sel.head = std::clamp(sel.head, 0, scene.n_heads - 1);
    if (sel.query >= scene.n()) sel.query = scene.n() - 1;
    if (sel.key >= scene.m()) sel.key = scene.m() - 1;
}

}  // namespace attnviz::app
