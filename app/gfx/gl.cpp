// attnviz app — the GL module (see gl.hpp).
#include <epoxy/gl.h>
#define GLFW_INCLUDE_NONE

#include "gl.hpp"

#include <stb_image_write.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "file_io.hpp"
#include "paths.hpp"

namespace attnviz::gl {
namespace {
bool g_available = false;
unsigned g_quad_vao = 0, g_quad_vbo = 0;

std::string shader_log(GLuint sh, bool program) {
    GLint len = 0;
    if (program) glGetProgramiv(sh, GL_INFO_LOG_LENGTH, &len);
    else glGetShaderiv(sh, GL_INFO_LOG_LENGTH, &len);
    std::string log(static_cast<std::size_t>(len > 1 ? len : 1), '\0');
    if (program) glGetProgramInfoLog(sh, len, nullptr, log.data());
    else glGetShaderInfoLog(sh, len, nullptr, log.data());
    return log;
}

GLuint compile(GLenum type, const std::string& src, const std::string& what) {
    GLuint sh = glCreateShader(type);
    const char* p = src.c_str();
    glShaderSource(sh, 1, &p, nullptr);
    glCompileShader(sh);
    GLint ok = 0;
    glGetShaderiv(sh, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        std::fprintf(stderr, "attnviz: %s: %s shader did not compile:\n%s\n", what.c_str(),
                     type == GL_VERTEX_SHADER ? "vertex" : "fragment", shader_log(sh, false).c_str());
        glDeleteShader(sh);
        return 0;
    }
    return sh;
}
}  // namespace

bool available() { return g_available; }
void mark_available(bool on) { g_available = on; }

namespace {
// A new 2-D texture, bound, clamped at the edges, with this filter and unpack alignment.
GLuint new_texture(GLint filter, GLint alignment) {
    GLuint tex = 0;
    glGenTextures(1, &tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glPixelStorei(GL_UNPACK_ALIGNMENT, alignment);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    return tex;
}
}  // namespace

unsigned create_texture_r32f(int width, int height, const float* data) {
    const GLuint tex = new_texture(GL_NEAREST, 4);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R32F, width, height, 0, GL_RED, GL_FLOAT, data);
    return tex;
}

void update_texture_r32f(unsigned tex, int width, int height, const float* data) {
    glBindTexture(GL_TEXTURE_2D, tex);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, GL_RED, GL_FLOAT, data);
}

unsigned create_texture_rgba8(int width, int height, const unsigned char* rgba) {
    const GLuint tex = new_texture(GL_LINEAR, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
    return tex;
}

void delete_texture(unsigned& tex) {
    if (tex && g_available) glDeleteTextures(1, &tex);
    tex = 0;
}

void* as_imgui_texture(unsigned tex) { return reinterpret_cast<void*>(static_cast<std::intptr_t>(tex)); }

int max_texture_size() {
    GLint v = 0;
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &v);
    return v;
}

unsigned create_program(const std::string& vertex_src, const std::string& fragment_src, const std::string& what) {
    GLuint vs = compile(GL_VERTEX_SHADER, vertex_src, what);
    GLuint fs = compile(GL_FRAGMENT_SHADER, fragment_src, what);
    if (!vs || !fs) {
        if (vs) glDeleteShader(vs);
        if (fs) glDeleteShader(fs);
        return 0;
    }
    GLuint prog = glCreateProgram();
    glAttachShader(prog, vs);
    glAttachShader(prog, fs);
    glBindAttribLocation(prog, 0, "a_pos");
    glLinkProgram(prog);
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = 0;
    glGetProgramiv(prog, GL_LINK_STATUS, &ok);
    if (!ok) {
        std::fprintf(stderr, "attnviz: %s: shader program did not link:\n%s\n", what.c_str(), shader_log(prog, true).c_str());
        glDeleteProgram(prog);
        return 0;
    }
    return prog;
}

void delete_program(unsigned& prog) {
    if (prog && g_available) glDeleteProgram(prog);
    prog = 0;
}

std::string load_shader_source(const std::string& file_name) {
    const std::string path = app::asset_path("shaders/" + file_name);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "attnviz: cannot read shader %s\n", path.c_str());
        return {};
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool ensure_framebuffer(Framebuffer& fb, int width, int height) {
    if (width < 1) width = 1;
    if (height < 1) height = 1;
    if (fb.fbo && fb.width == width && fb.height == height) return true;
    delete_framebuffer(fb);
    GLint prev_fbo = 0;
    glGetIntegerv(GL_FRAMEBUFFER_BINDING, &prev_fbo);
    glGenTextures(1, &fb.color);
    glBindTexture(GL_TEXTURE_2D, fb.color);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    glGenFramebuffers(1, &fb.fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, fb.fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, fb.color, 0);
    const bool ok = glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
    glBindFramebuffer(GL_FRAMEBUFFER, static_cast<GLuint>(prev_fbo));
    fb.width = width;
    fb.height = height;
    if (!ok) std::fprintf(stderr, "attnviz: framebuffer %dx%d is incomplete\n", width, height);
    return ok;
}

void delete_framebuffer(Framebuffer& fb) {
    if (g_available) {
        if (fb.fbo) glDeleteFramebuffers(1, &fb.fbo);
        if (fb.color) glDeleteTextures(1, &fb.color);
    }
    fb = {};
}

std::vector<unsigned char> read_pixels(int x, int y, int width, int height) {
    std::vector<unsigned char> px(static_cast<std::size_t>(width) * height * 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(x, y, width, height, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
    std::vector<unsigned char> flipped(px.size());
    const std::size_t stride = static_cast<std::size_t>(width) * 4;
    for (int r = 0; r < height; ++r)
        std::copy_n(px.data() + static_cast<std::size_t>(height - 1 - r) * stride, stride,
                    flipped.data() + static_cast<std::size_t>(r) * stride);
    for (std::size_t i = 3; i < flipped.size(); i += 4) flipped[i] = 255;  // opaque PNG
    return flipped;
}

bool write_png(const std::string& path, int width, int height, const std::vector<unsigned char>& rgba, std::string* error) {
    // Encoded in memory, then core/file_io's write_file: a full disk is an error and leaves the old
    // PNG, a symlink keeps pointing at the new picture, a device is never replaced.
    std::string png;
    const auto append = [](void* context, void* data, int size) {
        static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
    };
    if (stbi_write_png_to_func(append, &png, width, height, 4, rgba.data(), width * 4) == 0) {
        if (error) *error = "cannot encode the PNG for " + path;
        return false;
    }
    try {
        write_file(path, png);
    } catch (const FileError& e) {
        if (error) *error = e.what();
        return false;
    }
    return true;
}

void draw_unit_quad() {
    if (!g_quad_vao) {
        const float v[] = {0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1};
        glGenVertexArrays(1, &g_quad_vao);
        glGenBuffers(1, &g_quad_vbo);
        glBindVertexArray(g_quad_vao);
        glBindBuffer(GL_ARRAY_BUFFER, g_quad_vbo);
        glBufferData(GL_ARRAY_BUFFER, sizeof v, v, GL_STATIC_DRAW);
        glEnableVertexAttribArray(0);
        glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 2 * sizeof(float), nullptr);
    }
    glBindVertexArray(g_quad_vao);
    glDrawArrays(GL_TRIANGLES, 0, 6);
    glBindVertexArray(0);
}

void release_shared() {
    if (g_available) {
        if (g_quad_vao) glDeleteVertexArrays(1, &g_quad_vao);
        if (g_quad_vbo) glDeleteBuffers(1, &g_quad_vbo);
    }
    g_quad_vao = g_quad_vbo = 0;
}

void bind_framebuffer(unsigned fbo) { glBindFramebuffer(GL_FRAMEBUFFER, fbo); }

void clear_target(int width, int height, float r, float g, float b) {
    glViewport(0, 0, width, height);
    glClearColor(r, g, b, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
}

void read_from_back_buffer() { glReadBuffer(GL_BACK); }

std::vector<unsigned> take_errors() {
    std::vector<unsigned> out;
    for (GLenum e = glGetError(); e != GL_NO_ERROR && out.size() < 64; e = glGetError()) out.push_back(e);
    return out;
}

}  // namespace attnviz::gl
