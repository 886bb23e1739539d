// attnviz — entry point: parse the command line, run the chosen command (the window among them).
#include "cli.hpp"
#include "window.hpp"

int main(int argc, char** argv) {
    attnviz::app::WindowEntry window;
    window.run_window = attnviz::app::run_window;
    window.run_render = attnviz::app::run_render;
    return attnviz::app::run_cli(argc, argv, window);
}
