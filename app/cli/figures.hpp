// attnviz app — `attnviz figures`: every scene's figures as SVG and/or PNG, for slides and papers.
#pragma once

#include <string>

#include "engine.hpp"
#include "figure.hpp"

namespace CLI {
class App;
}

namespace attnviz::app {

struct FiguresArgs {
    std::string scenes;            // a scene file or a folder of them (default: the lecture scenes)
    std::string out;               // output folder (created)
    std::string colormap = "viridis";
    std::string format = "svg";    // svg, png or both
    double scale = 2.0;            // PNG pixels per figure unit
};

// Adds the `figures` subcommand to `cli`; returns it so the caller can test whether it ran.
CLI::App* add_figures_command(CLI::App& cli, FiguresArgs& args);

// For every scene (core's scene_figures): one pattern heatmap per head (<scene>_head<h>_pattern,
// masked cells hatched), all heads together (<scene>_heads), masked vs unmasked and their
// difference (<scene>_compare, scenes with a mask), the shift plot (<scene>_shift: E → E' in two
// dimensions, the view's "shift_dims" or else the two dimensions attention moves most) and each
// head's query–key plot (<scene>_head<h>_qk), as .svg, .png (the same drawing rasterised,
// core/figure_raster.hpp) or both. Returns the exit code.
int run_figures(const FiguresArgs& args);

}  // namespace attnviz::app
