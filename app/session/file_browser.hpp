// attnviz session — the Open / Save as browser's model (no ImGui): a folder's sub-folders and
// scene files (*.json), the places to start from (home, documents, the lecture scenes, the folders
// of recent files), and names safe to show whatever bytes they hold. app/ui/file_browser.cpp
// draws it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace attnviz::app {

struct BrowserEntry {
    std::filesystem::path path;  // the real path (any bytes): what is opened
    std::string name;            // shown: valid UTF-8 (odd bytes as U+FFFD), never empty
    bool is_dir = false;
};

struct BrowserPlace {
    std::string label;           // "home", "documents", "lecture scenes", or the folder's name
    std::filesystem::path path;
};

struct FileBrowser {
    enum class Mode { Open, SaveAs, Model };  // Model: choose a GPT-2 folder (File → Open model…)
    bool open = false;                 // shown (a modal in the window)
    Mode mode = Mode::Open;
    std::filesystem::path dir;         // the folder listed
    std::vector<BrowserEntry> entries; // folders first, then *.json; each group by name
    std::string error;                 // why the folder could not be read ("" when it could)
    std::string file_name;             // the name field (Save as: the new file's name)
    int selected = -1;                 // index into entries (-1: none)
    std::filesystem::path picked;      // the file clicked (its real bytes; the field shows its name)
    bool confirm_replace = false;      // Save as onto an existing file: asking first
    std::filesystem::path replace_target;
};

// Lists `dir` into b (entries, error); an unreadable or missing folder gives an error and no entries.
void browser_list(FileBrowser& b, const std::filesystem::path& dir);
// A name to show for a path component: valid UTF-8, odd bytes replaced by U+FFFD.
std::string display_name(const std::filesystem::path& p);
// Home, documents ($XDG_DOCUMENTS_DIR, else ~/Documents or ~/attnviz when present), the lecture
// scenes folder, then the folders of `recent` files (each once, existing ones only).
std::vector<BrowserPlace> browser_places(const std::vector<std::string>& recent);
// What the path field holds resolved against the listed folder: absolute as typed, else dir/typed
// (normalised: no ".." left in it).
std::filesystem::path browser_target(const FileBrowser& b, const std::string& typed);

}  // namespace attnviz::app
