// attnviz — entry point of a build without the window (ATTNVIZ_BUILD_APP=OFF): the same command
// line; the window and `render` say they are not built in.
#include "cli.hpp"

int main(int argc, char** argv) { return attnviz::app::run_cli(argc, argv, attnviz::app::WindowEntry{}); }
