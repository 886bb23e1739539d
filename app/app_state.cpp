#include "app_state.hpp"

#include <algorithm>

namespace attnviz::app {

void AppState::recompute() {
    ++revision;
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
    if (!history.undo(scene)) return false;
    modified = true;
    recompute();
    return true;
}

bool AppState::redo() {
    if (!history.redo(scene)) return false;
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
