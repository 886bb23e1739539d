// attnviz session — where things live: assets next to the executable (or in the source tree), the
// config folder. No window needed (the command line and the window both use it).
#pragma once

#include <string>

namespace attnviz::app {

// The default lecture scene: assets/scenes/ next to the executable (or in the source tree).
std::string default_scene_path();
// `relative` (e.g. "assets/scenes", "shaders/heatmap.frag.glsl") next to the executable when it
// exists there, else in the source tree.
std::string asset_path(const std::string& relative);
// Is `path` inside the install's assets folder (the bundled lecture scenes)? Compared by the
// resolved path (symlinks and "..", followed), so no spelling of the path gets past it.
bool is_bundled_path(const std::string& path);
// Where the user's own scenes are saved when they have no place yet (an untitled scene, a copy of a
// lecture scene): $XDG_DOCUMENTS_DIR, else ~/attnviz (created). "" when neither is usable.
std::string documents_dir();
// <dir>/<stem>.json, or <dir>/<stem>-2.json, -3, … : the first name that does not exist yet.
std::string unused_path(const std::string& dir, const std::string& stem);
// $XDG_CONFIG_HOME/attnviz or ~/.config/attnviz (created); "" when neither is usable.
std::string config_dir();

}  // namespace attnviz::app
