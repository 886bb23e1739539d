// attnviz app — the command line: `attnviz`, `attnviz export`, …
#pragma once

namespace attnviz::app {

// Parses argv and runs the command. Exit codes: 0 success, 1 runtime failure, 2 bad input
// (a malformed scene, a wrong argument).
int run_cli(int argc, char** argv);

}  // namespace attnviz::app
