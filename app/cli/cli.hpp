// attnviz cli — the command line (headless: core and app/session only): `attnviz`, `attnviz export`, …
#pragma once

#include <string>

#include "window_options.hpp"

namespace attnviz::app {

// Parses argv and runs the command. Exit codes: 0 success, 1 runtime failure, 2 bad input
// (a malformed scene, a wrong argument). `window` holds the window's entry points (app/main.cpp);
// empty in a build without the window (app/cli/cli_main.cpp), where the window and `render` say so.
int run_cli(int argc, char** argv, const WindowEntry& window);

// The subcommands' output: `data` to the file `out` (written atomically) or, for "" and "-", to
// standard output with checked writes (`> /dev/full` is exit 1, not a silent 0). Returns the exit
// code, the error on stderr.
int write_output(const std::string& out, const std::string& data);

}  // namespace attnviz::app
