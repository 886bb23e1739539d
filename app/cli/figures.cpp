#include "figures.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <vector>

#include "engine.hpp"
#include "figure.hpp"
#include "figure_raster.hpp"
#include "scene_io.hpp"
#include "paths.hpp"

namespace attnviz::app {
namespace fs = std::filesystem;

namespace {

int write_scene_figures(const fs::path& scene_path, const fs::path& out, Colormap cmap, const FigureFormats& formats, int& files) {
    Scene s;
    Forward f;
    try {
        s = load_scene(scene_path.string());
        f = forward(s);  // refuses (SceneError) a scene whose every pattern would not fit in memory
    } catch (const SceneError& e) {
        std::cerr << "attnviz: " << scene_path.string() << ": " << e.what() << "\n";
        return 2;
    }
    try {
        files += write_figures(s, f, scene_path.stem().string(), out.string(), cmap, formats);
    } catch (const SceneError& e) {
        std::cerr << "attnviz: " << scene_path.string() << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace

CLI::App* add_figures_command(CLI::App& cli, FiguresArgs& args) {
    auto* c = cli.add_subcommand("figures", "Write every scene's figures as SVG and/or PNG (pattern per head, all heads, "
                                            "masked vs unmasked, shift plot, query-key plot per head)");
    c->add_option("--out", args.out, "Output folder (created if missing)")->required();
    c->add_option("--scenes", args.scenes, "A scene file or a folder of scene files (default: the lecture scenes)");
    c->add_option("--colormap", args.colormap, "viridis, magma, cividis, diverging or gray (core/colormap.hpp)")
        ->check(CLI::IsMember({"viridis", "magma", "cividis", "diverging", "gray"}));
    c->add_option("--format", args.format, "svg (default), png, or both")->check(CLI::IsMember({"svg", "png", "both"}));
    c->add_option("--scale", args.scale, "PNG pixels per figure unit (default 2)")->check(CLI::Range(0.1, 16.0));
    return c;
}

int run_figures(const FiguresArgs& args) {
    Colormap cmap = Colormap::Viridis;
    colormap_from_name(args.colormap, cmap);
    const fs::path src = args.scenes.empty() ? fs::path(asset_path("assets/scenes")) : fs::path(args.scenes);
    std::error_code ec;
    std::vector<fs::path> scenes;
    if (fs::is_directory(src, ec)) {
        for (const auto& e : fs::directory_iterator(src, ec))
            if (e.path().extension() == ".json") scenes.push_back(e.path());
        std::sort(scenes.begin(), scenes.end());
    } else if (fs::is_regular_file(src, ec)) {
        scenes.push_back(src);
    }
    if (scenes.empty()) {
        std::cerr << "attnviz: no scene files (*.json) in " << src.string() << "\n";
        return 2;
    }
    fs::create_directories(args.out, ec);
    if (ec || !fs::is_directory(args.out)) {
        std::cerr << "attnviz: cannot create the folder " << args.out << (ec ? ": " + ec.message() : "") << "\n";
        return 1;
    }
    int files = 0, rc = 0;
    FigureFormats formats;
    formats.svg = args.format != "png";
    formats.png = args.format != "svg";
    formats.png_scale = args.scale;
    if (formats.png && figure_font_path().empty())
        std::cerr << "attnviz: no DejaVu Sans (Debian package fonts-dejavu-core): PNG figures need it for their text\n";
    for (const auto& p : scenes) rc = std::max(rc, write_scene_figures(p, args.out, cmap, formats, files));
    std::cout << "attnviz: wrote " << files << " figures for " << scenes.size() << " scenes to " << args.out << "\n";
    return rc;
}

}  // namespace attnviz::app
