// attnviz — entry point: parse the command line, run the chosen command.
#include "cli.hpp"

int main(int argc, char** argv) { return attnviz::app::run_cli(argc, argv); }
