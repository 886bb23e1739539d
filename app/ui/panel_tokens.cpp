// attnviz app — tokens: a text box that re-tokenizes as you type (tokens shown as chips), direct
// editing of the token list, and the source sequence for cross-attention.
#include <algorithm>
#include <cstdio>

#include <imgui.h>
#include <imgui_stdlib.h>

#include "panels.hpp"
#include "text.hpp"

namespace attnviz::app {

namespace {
constexpr int kMaxChips = 256;  // beyond this the chips are a wall, not a view

// " (U+1F431 U+1F355)" for the characters above U+FFFF in `text` ("" when none): a chip's tooltip
// names them, whatever the font draws.
std::string codepoints_above_bmp(const std::string& text) {
    std::string out;
    for (char32_t c : utf8_decode(text)) {
        if (c <= 0xFFFF) continue;
        char buf[16];
        std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
        out += (out.empty() ? " (" : " ") + std::string(buf);
    }
    return out.empty() ? out : out + ")";
}

std::string sequence_text(const Sequence& q) {
    if (q.from_text) return q.text;
    std::string t;
    for (const auto& tok : q.tokens) t += (t.empty() ? "" : " ") + tok.text;
    return t;
}

// Chips in a flowing row; returns the clicked chip (-1 none). `selected` is highlighted.
int token_chips(AppState& s, const char* id, const std::vector<Token>& tokens, int selected, int highlighted) {
    int clicked = -1;
    ImGui::PushID(id);
    const ImGuiStyle& st = ImGui::GetStyle();
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    const int shown = std::min(static_cast<int>(tokens.size()), kMaxChips);
    for (int i = 0; i < shown; ++i) {
        const std::string& real = tokens[static_cast<std::size_t>(i)].text;
        const std::string t = s.wide_chars.to_display(real);  // emoji through their atlas slots
        const float w = ImGui::CalcTextSize(t.c_str()).x + st.FramePadding.x * 2;
        if (i > 0) {
            ImGui::SameLine(0, 4);
            if (ImGui::GetCursorScreenPos().x + w > right) ImGui::NewLine();
        }
        const bool sel = i == selected, hi = i == highlighted;
        ImGui::PushStyleColor(ImGuiCol_Button, sel ? ImVec4(0.85f, 0.65f, 0.05f, 1) : hi ? ImVec4(0.35f, 0.45f, 0.65f, 1) : ImVec4(0.22f, 0.30f, 0.45f, 1));
        ImGui::PushStyleColor(ImGuiCol_Text, sel ? ImVec4(0, 0, 0, 1) : ImVec4(1, 1, 1, 1));
        ImGui::PushStyleVar(ImGuiStyleVar_FrameRounding, 8.0f);
        ImGui::PushID(i);
        if (ImGui::Button(t.c_str())) clicked = i;
        MarkItem(s, std::string(id) + ".chip" + std::to_string(i));
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("token %d: \"%s\"%s", i, t.c_str(), codepoints_above_bmp(real).c_str());
        ImGui::PopID();
        ImGui::PopStyleVar();
        ImGui::PopStyleColor(2);
    }
    if (shown < static_cast<int>(tokens.size()))
        ImGui::TextDisabled("\xE2\x80\xA6 and %s", count_noun(static_cast<int>(tokens.size()) - shown, "more token", "more tokens").c_str());
    ImGui::PopID();
    return clicked;
}
}  // namespace

void DrawTokensPanel(AppState& s) {
    SetNextPanelLayout(kTokensWindow);
    if (!ImGui::Begin(kTokensWindow, &s.show_tokens)) {
        ImGui::End();
        return;
    }
    if (s.model) {  // GPT-2's BPE over the model's vocabulary (app/ui/panel_model_text.cpp)
        DrawModelTokens(s);
        ImGui::End();
        return;
    }
    Scene& sc = s.scene;
    // -- the text box: every keystroke re-tokenizes --
    ImGui::SetNextItemWidth(-1);
    const bool typed = InputTextWide(s, "##text", "type a sentence", &s.text_input);
    MarkItem(s, "tokens.text");
    if (typed) {
        const std::string text = s.wide_chars.from_display(s.text_input);
        s.type_text("text", text);  // undone word by word
    }
    if (!ImGui::IsItemActive()) s.text_input = s.wide_chars.to_display(sequence_text(sc.input));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Type a sentence: the tokens below update as you type");

    // -- chips: click one to select it as the query and edit it --
    const int clicked = token_chips(s, "input", sc.input.tokens, s.token_edit, s.sel.query);
    if (clicked >= 0) {
        s.token_edit = clicked;
        s.token_edit_text = s.wide_chars.to_display(sc.input.tokens[static_cast<std::size_t>(clicked)].text);
        s.sel.query = clicked;
    }
    if (s.token_edit >= sc.n()) s.token_edit = -1;
    if (s.token_edit >= 0) {
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
        const bool enter = InputTextWide(s, "##tok", nullptr, &s.token_edit_text, ImGuiInputTextFlags_EnterReturnsTrue);
        std::vector<std::string> list = token_texts(sc.input.tokens);
        const std::size_t i = static_cast<std::size_t>(s.token_edit);
        ImGui::SameLine();
        const bool set = ImGui::Button("Set");
        MarkItem(s, "tokens.set");
        if (set || enter) {
            list[i] = s.wide_chars.from_display(s.token_edit_text);
            s.edit([&](Scene& x) { set_tokens(x, list); });
        }
        ImGui::SameLine();
        const bool insert = ImGui::Button("Insert");
        MarkItem(s, "tokens.insert");
        if (insert) {
            list.insert(list.begin() + static_cast<std::ptrdiff_t>(i) + 1, s.wide_chars.from_display(s.token_edit_text));
            if (s.edit([&](Scene& x) { set_tokens(x, list); })) s.token_edit = static_cast<int>(i) + 1;
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Insert this text as a new token after token %d", s.token_edit);
        ImGui::SameLine();
        const bool del = ImGui::Button("Delete");
        MarkItem(s, "tokens.delete");
        if (del) {
            list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
            if (s.edit([&](Scene& x) { set_tokens(x, list); })) s.token_edit = -1;
        }
        ImGui::SameLine();
        if (ImGui::Button("Done")) s.token_edit = -1;
    }

    // -- cross-attention --
    ImGui::Separator();
    bool cross = sc.cross();
    const bool toggled = ImGui::Checkbox("cross-attention", &cross);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Keys and values come from a second (source) sequence");
    if (toggled) {
        if (cross) {
            const std::string src = s.source_input.empty() ? sequence_text(sc.input) : s.wide_chars.from_display(s.source_input);
            s.edit([&](Scene& x) { set_source_text(x, src); });
        } else {
            s.edit([&](Scene& x) { clear_source(x); });
        }
    }
    if (sc.source) {
        ImGui::SetNextItemWidth(-1);
        if (InputTextWide(s, "##source", "source sentence (keys, values)", &s.source_input)) {
            s.type_text("source", s.wide_chars.from_display(s.source_input));
        }
        if (!ImGui::IsItemActive()) s.source_input = s.wide_chars.to_display(sequence_text(*sc.source));
        const int k = token_chips(s, "source", sc.source->tokens, -1, s.sel.key);
        if (k >= 0) s.sel.key = k;
    }
    // what the scene is about: its title and description, editable (undoable edits). Once the text
    // is changed under a lecture scene's title, the title shows "Untitled (from …)" and the
    // lecture's description is hidden (AppState::display_title).
    ImGui::Separator();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::InputTextWithHint("##title", "title of this scene", &s.title_input)) {
        const std::string t = s.title_input;
        s.edit("title", [&](Scene& x) { x.title = t; });
    }
    MarkItem(s, "scene.title");
    if (!ImGui::IsItemActive()) s.title_input = s.diverged() ? s.display_title() : sc.title;
    if (ImGui::TreeNode("Description")) {
        if (ImGui::InputTextMultiline("##description", &s.description_input, ImVec2(-1, ImGui::GetTextLineHeight() * 5))) {
            const std::string d = s.description_input;
            s.edit("description", [&](Scene& x) { x.description = d; });
        }
        MarkItem(s, "scene.description");
        if (!ImGui::IsItemActive()) s.description_input = s.display_description();
        ImGui::TreePop();
    } else if (const std::string d = s.display_description(); !d.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TextWrapped("%s", d.c_str());
        ImGui::PopStyleColor();
    }
    ImGui::End();
}

}  // namespace attnviz::app
