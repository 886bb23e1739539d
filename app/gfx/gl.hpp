// attnviz gfx — the one small OpenGL module: textures, shader programs (with their logs), FBOs.
//
// Everything GL in the app goes through here. Functions return plain GL names (unsigned) so that
// headers elsewhere never include a GL header; `as_imgui_texture` turns a texture into the
// `ImTextureID` ImGui draws.
#pragma once

#include <string>
#include <vector>

namespace attnviz::gl {

// True once a GL context is current and `mark_available()` was called (the window and the
// off-screen renderer do this). Widgets skip every GL call when it is false, so the UI logic can
// be tested in ImGui frames with no renderer.
bool available();
void mark_available(bool on);

// -- textures --
// A single-channel float texture (GL_R32F), nearest filtering, clamped: one texel per value.
unsigned create_texture_r32f(int width, int height, const float* data);
void update_texture_r32f(unsigned tex, int width, int height, const float* data);
// An RGBA8 texture (colormap LUTs, fonts), linear filtering.
unsigned create_texture_rgba8(int width, int height, const unsigned char* rgba);
void delete_texture(unsigned& tex);
// The ImGui texture id of a GL texture name.
void* as_imgui_texture(unsigned tex);
int max_texture_size();

// -- shader programs --
// Compiles and links; on failure prints the compile/link log (naming `what`) to stderr and
// returns 0.
unsigned create_program(const std::string& vertex_src, const std::string& fragment_src, const std::string& what);
void delete_program(unsigned& prog);
// Reads a shader source file from shaders/ next to the executable (or the source tree).
std::string load_shader_source(const std::string& file_name);

// -- framebuffers --
struct Framebuffer {
    unsigned fbo = 0;
    unsigned color = 0;  // RGBA8 texture
    int width = 0, height = 0;
};
// (Re)creates `fb` at the size if it differs. Returns false if the framebuffer is incomplete.
bool ensure_framebuffer(Framebuffer& fb, int width, int height);
void delete_framebuffer(Framebuffer& fb);

// Reads the currently bound read framebuffer (rows top to bottom, RGBA8).
std::vector<unsigned char> read_pixels(int x, int y, int width, int height);
// Writes RGBA pixels (top row first) as PNG. Returns false on I/O failure.
// false on failure, with the reason (naming the path) in *error when given.
bool write_png(const std::string& path, int width, int height, const std::vector<unsigned char>& rgba_top_first,
               std::string* error = nullptr);

// -- the window's frame --
// Binds `fbo` (0: the window) for drawing and reading.
void bind_framebuffer(unsigned fbo);
// Viewport (0, 0, width, height) and a clear to the colour.
void clear_target(int width, int height, float r, float g, float b);
// Reads come from the back buffer (screenshots of the frame just drawn).
void read_from_back_buffer();
// The GL errors raised since the last call (glGetError until GL_NO_ERROR), oldest first.
std::vector<unsigned> take_errors();

// A unit quad (two triangles, positions 0..1 in attribute 0), shared by full-screen passes.
void draw_unit_quad();
void release_shared();

}  // namespace attnviz::gl
