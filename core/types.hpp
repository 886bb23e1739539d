// attnviz core — shared numeric types.
// core/ includes only Eigen and the standard library in its headers.
#pragma once

#include <Eigen/Dense>
#include <stdexcept>
#include <string>

namespace attnviz {

// Row-major float32 matrices everywhere: a row is a token (or a query), which is also how
// textures and heatmaps read the data.
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVec = Eigen::Matrix<float, 1, Eigen::Dynamic>;

// An error in a scene or an edit. `path` names the field in JSON-path form
// ("heads[1].W_K"), `what()` is the whole message including the path.
class SceneError : public std::runtime_error {
public:
    SceneError(std::string path, const std::string& message)
        : std::runtime_error(path.empty() ? message : path + ": " + message), path_(std::move(path)) {}
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace attnviz
