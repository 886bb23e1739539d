// attnviz app — the window, and the same drawing off-screen (`attnviz render`).
#pragma once

#include <string>

#include "paths.hpp"
#include "recovery.hpp"
#include "window_options.hpp"

namespace attnviz::app {

// Opens the window and runs until it is closed. Returns the process exit code.
int run_window(const WindowOptions& opt);

// Draws exactly what the window draws into an off-screen framebuffer and writes it as PNG
// (needs an X display for the GL context; Xvfb is fine). Returns the process exit code.
int run_render(const RenderOptions& opt);

}  // namespace attnviz::app
