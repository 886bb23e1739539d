#!/usr/bin/env bash
# The layers include one way: core <- app/session <- {app/gfx, app/ui} <- app/main, and the
# command line (app/cli) is headless.
#   - GL (epoxy, GL/) only in app/gfx;
#   - GLFW and ImGui only in app/ui (and app/dev, the dev hooks the window loop calls);
#   - core/, app/session/, app/cli/ and app/main.cpp include none of them, and no header of app/ui,
#     app/gfx or app/dev;
#   - no header of app/cli is included outside app/cli and app/main.cpp;
#   - no panel branches on long mode.
set -u
src="${1:-$(dirname "$0")/../..}"
cd "$src" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
inc() { grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($1)" -r $2 --include='*.cpp' --include='*.hpp' --include='*.h' 2> /dev/null; }

gl='epoxy/|GL/|OpenGL/'
glfw_imgui='GLFW/|imgui|backends/imgui'
[ -d app/gfx ] && [ -d app/ui ] && [ -d app/session ] && [ -d app/cli ] || bad "app/{session,gfx,ui,cli} missing"

hits=$(inc "$gl" "core app/session app/cli app/ui app/dev app/main.cpp")
[ -z "$hits" ] || bad "GL included outside app/gfx:"$'\n'"$hits"
hits=$(inc "$glfw_imgui" "core app/session app/cli app/gfx app/main.cpp")
[ -z "$hits" ] || bad "GLFW / ImGui included outside app/ui and app/dev:"$'\n'"$hits"

ui_headers=$(cd app && ls ui/*.hpp gfx/*.hpp dev/*.hpp 2> /dev/null | xargs -n1 basename | paste -sd'|')
hits=$(inc "${ui_headers//./\\.}\"" "core app/session app/cli")
[ -z "$hits" ] || bad "core / session / cli include a header of app/ui, app/gfx or app/dev:"$'\n'"$hits"

cli_headers=$(cd app && ls cli/*.hpp 2> /dev/null | xargs -n1 basename | paste -sd'|')
hits=$(inc "${cli_headers//./\\.}\"" "core app/session app/gfx app/ui app/dev")
[ -z "$hits" ] || bad "a header of app/cli included outside app/cli and app/main.cpp (the window calls core):"$'\n'"$hits"

# views ask AppState::patterns() (core's PatternSource) and never branch on long mode
hits=$(grep -n "long_mode" app/ui/panel*.cpp app/ui/presentation.cpp 2> /dev/null)
[ -z "$hits" ] || bad "a panel branches on long mode (ask AppState::patterns(), or patterns()->full()):"$'\n'"$hits"

# the check itself works: a GL include in session would be found
probe=$(printf '#include <epoxy/gl.h>\n' | grep -cE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($gl)")
[ "$probe" = 1 ] || bad "the include pattern does not match a GL include"

[ $fail -eq 0 ] && echo "ok: layers include one way"
exit $fail
