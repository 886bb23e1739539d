// attnviz app — model controls: sizes, mask, scaling, temperature, positional encoding, seed.
// Every change goes through AppState::edit with core's editing API (which keeps weights that
// still fit and names the field when a value is refused).
#include <algorithm>

#include "panels.hpp"

namespace attnviz::app {

namespace {
// An integer field that applies on Enter or on its −/+ buttons (typing "12" never applies "1").
bool size_field(AppState& s, const char* label, int current, int& out, const char* help) {
    int v = current;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    const bool changed = ImGui::InputInt(label, &v, 1, 4, ImGuiInputTextFlags_EnterReturnsTrue);
    MarkItem(s, std::string("model.") + label);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", help);
    out = v;
    return changed && v != current;
}

const char* const kMaskLabels[] = {"none", "causal", "sliding window", "strided", "fixed"};
const MaskType kMaskTypes[] = {MaskType::None, MaskType::Causal, MaskType::SlidingWindow, MaskType::Strided, MaskType::Fixed};

Mask make_mask(MaskType t, int size) {
    switch (t) {
        case MaskType::Causal: return Mask::causal();
        case MaskType::SlidingWindow: return Mask::sliding_window(size);
        case MaskType::Strided: return Mask::strided(size);
        case MaskType::Fixed: return Mask::fixed(size);
        default: return Mask::none();
    }
}
}  // namespace

void DrawModelPanel(AppState& s) {
    SetNextPanelLayout(kModelWindow, s.model != nullptr);
    if (!ImGui::Begin(kModelWindow, &s.show_model)) {
        ImGui::End();
        return;
    }
    if (s.model) {  // a GPT-2 model: its sizes, layer and head (app/ui/panel_model_text.cpp)
        DrawModelInfo(s);
        ImGui::End();
        return;
    }
    Scene& sc = s.scene;
    int v = 0;
    if (size_field(s, "d_model", sc.d_model, v, "Embedding width. Changing it keeps the part of every weight that still fits."))
        s.edit([&](Scene& x) { set_d_model(x, v); });
    if (size_field(s, "heads", sc.n_heads, v, "Number of attention heads (new heads are drawn from the seed)."))
        s.edit([&](Scene& x) { set_n_heads(x, v); });
    if (size_field(s, "d_head", sc.d_head, v, "Width of each head's queries, keys and values."))
        s.edit([&](Scene& x) { set_d_head(x, v); });

    ImGui::Separator();
    ImGui::TextUnformatted("Mask");
    const int mask_size = sc.mask.size > 0 ? sc.mask.size : 3;
    for (int k = 0; k < 5; ++k) {
        if (k) same_line_if_fits(ImGui::CalcTextSize(kMaskLabels[k]).x + ImGui::GetFrameHeight() + ImGui::GetFontSize() * 0.5f);
        const bool clicked = ImGui::RadioButton(kMaskLabels[k], sc.mask.type == kMaskTypes[k]);
        MarkItem(s, std::string("mask.") + mask_type_name(kMaskTypes[k]));
        if (clicked && sc.mask.type != kMaskTypes[k]) {
            const Mask m = make_mask(kMaskTypes[k], mask_size);
            s.edit([&](Scene& x) { set_mask(x, m); });
        }
    }
    if (sc.mask.type == MaskType::Matrix) ImGui::TextDisabled("explicit mask from the scene file (%d\xC3\x97%d)", sc.mask.rows, sc.mask.cols);
    if (sc.mask.type == MaskType::SlidingWindow || sc.mask.type == MaskType::Strided || sc.mask.type == MaskType::Fixed) {
        const char* what = sc.mask.type == MaskType::SlidingWindow ? "window" : sc.mask.type == MaskType::Strided ? "stride" : "block";
        if (size_field(s, what, sc.mask.size, v, "Size parameter of the mask")) {
            const Mask m = make_mask(sc.mask.type, v);
            s.edit([&](Scene& x) { set_mask(x, m); });
        }
    }

    ImGui::Separator();
    bool scale = sc.scale;
    if (ImGui::Checkbox("scale by 1/\xE2\x88\x9A" "d_head", &scale)) s.edit([&](Scene& x) { set_scale(x, scale); });
    float temp = sc.temperature;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
    if (ImGui::SliderFloat("temperature", &temp, 0.05f, 10.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
        s.edit([&](Scene& x) { set_temperature(x, temp); });
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Logits are divided by the temperature before softmax (Ctrl+click to type)");

    ImGui::TextUnformatted("Positional encoding");
    const Positional pos[] = {Positional::None, Positional::Sinusoidal, Positional::Learned};
    for (int k = 0; k < 3; ++k) {
        if (k) same_line_if_fits(ImGui::CalcTextSize(positional_name(pos[k])).x + ImGui::GetFrameHeight() + ImGui::GetFontSize() * 0.5f);
        if (ImGui::RadioButton(positional_name(pos[k]), sc.positional == pos[k]) && sc.positional != pos[k]) {
            const Positional p = pos[k];
            s.edit([&](Scene& x) { set_positional(x, p); });
        }
    }

    ImGui::Separator();
    std::uint64_t seed = sc.seed;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    if (ImGui::InputScalar("seed", ImGuiDataType_U64, &seed, nullptr, nullptr, "%llu", ImGuiInputTextFlags_EnterReturnsTrue) &&
        seed != sc.seed)
        s.edit([&](Scene& x) { set_seed(x, seed); });
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Redraws every weight and embedding that was not given or edited");
    ImGui::SameLine();
    if (ImGui::Button("Re-randomize")) {
        const std::uint64_t next = sc.seed + 1;
        s.edit([&](Scene& x) { rerandomize(x, next); });
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Forget edited weights and draw all from seed + 1");
    ImGui::End();
}

}  // namespace attnviz::app
