// attnviz app — `attnviz figures`: every scene's figures as SVG, for slides and papers.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace attnviz::app {

struct FiguresArgs {
    std::string scenes;            // a scene file or a folder of them (default: the lecture scenes)
    std::string out;               // output folder (created)
    std::string colormap = "viridis";
};

// Adds the `figures` subcommand to `cli`; returns it so the caller can test whether it ran.
CLI::App* add_figures_command(CLI::App& cli, FiguresArgs& args);

// For every scene: one pattern heatmap per head (<scene>_head<h>_pattern.svg, masked cells
// hatched) and the shift plot (<scene>_shift.svg: E → E' in two dimensions, the view's
// "shift_dims" or else the two dimensions attention moves most). Returns the exit code.
int run_figures(const FiguresArgs& args);

}  // namespace attnviz::app
