// attnviz session — the Open / Save as browser's model (see file_browser.hpp).
#include "file_browser.hpp"

#include <algorithm>
#include <cstdlib>

#include "paths.hpp"
#include "tokenizer.hpp"  // sanitize_utf8

namespace attnviz::app {
namespace fs = std::filesystem;

std::string display_name(const fs::path& p) {
    std::string name = sanitize_utf8(p.filename().native());
    if (name.empty()) name = sanitize_utf8(p.native());
    // control characters (a newline in a file name) would break the list's lines
    for (char& c : name)
        if (static_cast<unsigned char>(c) < 0x20) c = '?';
    return name.empty() ? std::string("?") : name;
}

void browser_list(FileBrowser& b, const fs::path& dir) {
    b.dir = dir;
    b.entries.clear();
    b.error.clear();
    b.selected = -1;
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
        b.error = "cannot read " + display_name(dir) + ": " + ec.message();
        return;
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) {
            b.error = "stopped reading " + display_name(dir) + ": " + ec.message();
            break;
        }
        const fs::directory_entry& e = *it;
        std::error_code type_ec;
        const bool is_dir = e.is_directory(type_ec);  // follows links; a broken link is neither
        const bool is_json = !is_dir && e.path().extension() == ".json" && e.is_regular_file(type_ec);
        if (!is_dir && !is_json) continue;
        if (e.path().filename().native().rfind('.', 0) == 0) continue;  // hidden
        b.entries.push_back({e.path(), display_name(e.path()), is_dir});
    }
    std::sort(b.entries.begin(), b.entries.end(), [](const BrowserEntry& x, const BrowserEntry& y) {
        if (x.is_dir != y.is_dir) return x.is_dir;
        return x.path.filename().native() < y.path.filename().native();
    });
}

std::vector<BrowserPlace> browser_places(const std::vector<std::string>& recent) {
    std::vector<BrowserPlace> out;
    std::error_code ec;
    auto add = [&](const std::string& label, const fs::path& p) {
        if (p.empty() || !fs::is_directory(p, ec)) return;
        for (const auto& q : out)
            if (q.path == p) return;
        out.push_back({label, p});
    };
    const char* home = std::getenv("HOME");
    if (home && *home) add("home", home);
    const char* docs = std::getenv("XDG_DOCUMENTS_DIR");
    if (docs && *docs) add("documents", docs);
    else if (home && *home) {
        add("documents", fs::path(home) / "Documents");
        add("attnviz documents", fs::path(home) / "attnviz");
    }
    add("lecture scenes", fs::path(asset_path("assets/scenes")));
    for (const auto& r : recent) {
        const fs::path folder = fs::path(r).parent_path();
        add(display_name(folder), folder);
    }
    return out;
}

fs::path browser_target(const FileBrowser& b, const std::string& typed) {
    if (typed.empty()) return {};
    fs::path p(typed);
    if (typed.rfind("~/", 0) == 0) {
        if (const char* home = std::getenv("HOME")) p = fs::path(home) / typed.substr(2);
    }
    return (p.is_absolute() ? p : b.dir / p).lexically_normal();  // "b_dir/../x.json" → "x.json"
}

}  // namespace attnviz::app
