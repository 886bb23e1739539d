#include "paths.hpp"

#include <cstdlib>
#include <filesystem>

#ifndef ATTNVIZ_SOURCE_DIR
#define ATTNVIZ_SOURCE_DIR "."
#endif

namespace attnviz::app {

std::string asset_path(const std::string& relative) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path p = exe.parent_path() / relative;
        if (fs::exists(p)) return p.string();
    }
    return (fs::path(ATTNVIZ_SOURCE_DIR) / relative).string();
}

std::string default_scene_path() { return asset_path("assets/scenes/01_adjectives_update_nouns.json"); }

bool is_bundled_path(const std::string& path) {
    namespace fs = std::filesystem;
    if (path.empty()) return false;
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(fs::absolute(fs::path(path), ec), ec);
    if (ec) return false;
    // the assets next to the executable and the source tree's (a build runs from either)
    for (const fs::path& folder : {fs::path(asset_path("assets")), fs::path(ATTNVIZ_SOURCE_DIR) / "assets"}) {
        const fs::path assets = fs::weakly_canonical(folder, ec);
        if (ec) continue;
        // p is under assets when its first components are assets' components
        bool under = true;
        auto b = p.begin();
        for (auto a = assets.begin(); a != assets.end() && under; ++a, ++b) under = b != p.end() && *a == *b;
        if (under) return true;
    }
    return false;
}

std::string documents_dir() {
    namespace fs = std::filesystem;
    fs::path dir;
    if (const char* x = std::getenv("XDG_DOCUMENTS_DIR"); x && *x) dir = x;
    else if (const char* h = std::getenv("HOME"); h && *h) dir = fs::path(h) / "attnviz";
    else return {};
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || is_bundled_path(dir.string())) return {};
    return dir.string();
}

std::string unused_path(const std::string& dir, const std::string& stem) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (int k = 1;; ++k) {
        const fs::path p = fs::path(dir) / (k == 1 ? stem + ".json" : stem + "-" + std::to_string(k) + ".json");
        if (!fs::exists(fs::symlink_status(p, ec))) return p.string();
    }
}

std::string config_dir() {
    namespace fs = std::filesystem;
    fs::path base;
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) base = x;
    else if (const char* h = std::getenv("HOME"); h && *h) base = fs::path(h) / ".config";
    else return {};
    std::error_code ec;
    fs::create_directories(base / "attnviz", ec);
    if (ec) return {};
    return (base / "attnviz").string();
}

}  // namespace attnviz::app
