// libFuzzer harness: the scene loader. Any bytes must either load into a valid scene or throw
// SceneError — never crash, hang, or run away with memory. A scene that loads must survive a
// save → load round trip unchanged and a forward pass (when small enough to be quick) whose
// pattern and output are all finite — also in the release build (run.sh builds both).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine.hpp"
#include "scene_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    attnviz::Scene s;
    try {
        s = attnviz::scene_from_json(text);
    } catch (const attnviz::SceneError&) {
        return 0;
    }
    attnviz::validate(s);  // must not throw: a loaded scene is valid
    const std::string saved = attnviz::scene_to_json(s);
    const attnviz::Scene again = attnviz::scene_from_json(saved);  // must not throw
    if (attnviz::scene_to_json(again) != saved) std::abort();      // save(load(save(s))) == save(s)
    const std::size_t work = attnviz::estimate_forward_bytes(s.n(), s.m(), s.d_model, s.n_heads, s.d_head);
    if (work < (std::size_t(4) << 20)) {
        const attnviz::Forward f = attnviz::forward(s);
        if (!f.output.allFinite()) std::abort();  // bounded values keep every number finite
        for (const auto& h : f.heads)
            if (!h.pattern.allFinite() || !h.mixed.allFinite()) std::abort();  // issue 9: NaN under -O3 -march=native
        for (const auto& h : f.heads)
            for (Eigen::Index i = 0; i < h.pattern.rows(); ++i) {
                const float sum = h.pattern.row(i).sum();
                if (!(sum == 0.0f || std::abs(sum - 1.0f) < 1e-3f)) std::abort();  // rows sum to 1 (or all masked)
            }
    }
    return 0;
}
