#include "gpt2_export.hpp"

#include <nlohmann/json.hpp>

#include "scene_io.hpp"  // format_float

namespace attnviz {
namespace {

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

void append_matrix(std::string& o, const Eigen::Ref<const Mat, 0, Eigen::OuterStride<>>& m) {
    o += '[';
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
        o += r ? ",[" : "[";
        for (Eigen::Index c = 0; c < m.cols(); ++c) {
            if (c) o += ',';
            o += format_float(m(r, c));
        }
        o += ']';
    }
    o += ']';
}

}  // namespace

std::string model_export_json(const Model& model, const Gpt2Tokenizer& tok, const Gpt2Forward& f, const std::string& model_label,
                              int layer, int next_k) {
    const int L = model.cfg.n_layers, H = model.cfg.n_heads;
    std::vector<std::string> pieces;
    for (int id : f.ids()) pieces.push_back(tok.piece(id));
    const std::vector<int>& ids = f.ids();
    std::string o = "{\"model\": " + json_string(model_label) + ", \"n_layers\": " + std::to_string(L) + ", \"n_heads\": " +
                    std::to_string(H) + ", \"d_model\": " + std::to_string(model.cfg.d_model) + ", \"tokens\": [";
    for (std::size_t i = 0; i < pieces.size(); ++i) o += (i ? ", " : "") + json_string(pieces[i]);
    o += "], \"token_ids\": [";
    for (std::size_t i = 0; i < ids.size(); ++i) o += (i ? ", " : "") + std::to_string(ids[i]);
    o += "], \"logit_factor\": " + format_float(f.logit_factor()) + ", \"layers\": [";
    bool first_layer = true;
    for (int l = 0; l < L; ++l) {
        if (layer >= 0 && l != layer) continue;
        o += first_layer ? "" : ", ";
        first_layer = false;
        o += "{\"layer\": " + std::to_string(l) + ", \"heads\": [";
        for (int h = 0; h < H; ++h) {
            o += h ? ", {" : "{";
            o += "\"head\": " + std::to_string(h) + ", \"Q\": ";
            append_matrix(o, f.Q(l, h));
            o += ", \"K\": ";
            append_matrix(o, f.K(l, h));
            o += ", \"V\": ";
            append_matrix(o, f.V(l, h));
            o += ", \"scores\": ";
            append_matrix(o, f.scores(l, h));
            o += ", \"pattern\": ";
            append_matrix(o, f.pattern(l, h));
            o += ", \"delta\": ";
            append_matrix(o, f.delta(l, h));
            o += "}";
        }
        o += "]}";
    }
    o += "], \"next_token\": [";
    const auto top = top_k(f.last_logits(), next_k);
    for (std::size_t k = 0; k < top.size(); ++k)
        o += (k ? ", " : "") + std::string("{\"id\": ") + std::to_string(top[k].id) + ", \"token\": " + json_string(tok.piece(top[k].id)) +
             ", \"prob\": " + format_float(top[k].prob) + "}";
    o += "]}\n";
    return o;
}

}  // namespace attnviz
