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
#include "scene_io.hpp"
#include "window.hpp"

namespace attnviz::app {
namespace fs = std::filesystem;

namespace {

int write_scene_figures(const fs::path& scene_path, const fs::path& out, Colormap cmap, int& files) {
    Scene s;
    Forward f;
    try {
        s = load_scene(scene_path.string());
        f = forward(s);  // refuses (SceneError) a scene whose every pattern would not fit in memory
    } catch (const SceneError& e) {
        std::cerr << "attnviz: " << scene_path.string() << ": " << e.what() << "\n";
        return 2;
    }
    const std::string stem = scene_path.stem().string();
    const auto rows = token_texts(s.input.tokens);
    const auto cols = token_texts(s.source ? s.source->tokens : s.input.tokens);
    std::vector<std::uint8_t> allowed(static_cast<std::size_t>(s.n()) * static_cast<std::size_t>(s.m()));
    for (int i = 0; i < s.n(); ++i)
        for (int j = 0; j < s.m(); ++j) allowed[static_cast<std::size_t>(i) * s.m() + j] = s.mask.allows(i, j) ? 1 : 0;
    try {
        for (int h = 0; h < s.n_heads; ++h) {
            HeatmapFigure fig;
            fig.values = f.heads[static_cast<std::size_t>(h)].pattern;
            fig.row_labels = rows;
            fig.col_labels = cols;
            fig.allowed = allowed;
            fig.colormap = cmap;
            fig.vmin = 0.0f;  // a pattern is a probability: fixed 0..1 scale across figures
            fig.vmax = 1.0f;
            fig.title = s.title + " — head " + std::to_string(h) + " pattern";
            fig.cell_px = s.n() > 24 || s.m() > 24 ? 16 : 36;
            write_file_atomic((out / (stem + "_head" + std::to_string(h) + "_pattern.svg")).string(), heatmap_svg(fig));
            ++files;
        }
        const auto [dx, dy] = shift_plot_dims(s, f);
        ShiftFigure sf;
        sf.title = s.title + " — E to E'";
        sf.x_label = "dimension " + std::to_string(dx);
        sf.y_label = "dimension " + std::to_string(dy);
        for (int i = 0; i < s.n(); ++i)
            sf.points.push_back({rows[static_cast<std::size_t>(i)] + " (" + std::to_string(i) + ")", f.E(i, dx), f.E(i, dy),
                                 f.output(i, dx), f.output(i, dy)});
        write_file_atomic((out / (stem + "_shift.svg")).string(), shift_svg(sf));
        ++files;
    } catch (const SceneError& e) {
        std::cerr << "attnviz: " << scene_path.string() << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace

CLI::App* add_figures_command(CLI::App& cli, FiguresArgs& args) {
    auto* c = cli.add_subcommand("figures", "Write every scene's figures as SVG (pattern heatmap per head, shift plot)");
    c->add_option("--out", args.out, "Output folder (created if missing)")->required();
    c->add_option("--scenes", args.scenes, "A scene file or a folder of scene files (default: the lecture scenes)");
    c->add_option("--colormap", args.colormap, "viridis, cividis, magma or gray")
        ->check(CLI::IsMember({"viridis", "cividis", "magma", "gray"}));
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
    for (const auto& p : scenes) rc = std::max(rc, write_scene_figures(p, args.out, cmap, files));
    std::cout << "attnviz: wrote " << files << " figures for " << scenes.size() << " scenes to " << args.out << "\n";
    return rc;
}

}  // namespace attnviz::app
