#include <epoxy/gl.h>

#include "heatmap_pass.hpp"

#include <array>
#include <cstddef>

#include "colormap.hpp"

namespace attnviz::gl {

namespace {
struct SharedGpu {
    unsigned program = 0;
    bool tried = false;
    std::array<unsigned, static_cast<std::size_t>(Colormap::Count)> lut{};
    GLint u_view = -1, u_base = -1, u_detail = -1, u_lut = -1, u_min = -1, u_max = -1, u_cell_px = -1, u_log = -1;
    GLint u_base_rect = -1, u_base_tex = -1, u_detail_rect = -1, u_detail_tex = -1;
};
SharedGpu g_gpu;  // one per GL context (the app has one)
}  // namespace

bool heatmap_pass_ready() {
    if (!g_gpu.tried) {
        g_gpu.tried = true;
        g_gpu.program = create_program(load_shader_source("heatmap.vert.glsl"), load_shader_source("heatmap.frag.glsl"),
                                       "heatmap (shaders/heatmap.vert.glsl, heatmap.frag.glsl)");
        if (g_gpu.program) {
            const GLuint p = g_gpu.program;
            g_gpu.u_view = glGetUniformLocation(p, "u_view");
            g_gpu.u_base = glGetUniformLocation(p, "u_base");
            g_gpu.u_detail = glGetUniformLocation(p, "u_detail");
            g_gpu.u_base_rect = glGetUniformLocation(p, "u_base_rect");
            g_gpu.u_base_tex = glGetUniformLocation(p, "u_base_tex");
            g_gpu.u_detail_rect = glGetUniformLocation(p, "u_detail_rect");
            g_gpu.u_detail_tex = glGetUniformLocation(p, "u_detail_tex");
            g_gpu.u_lut = glGetUniformLocation(p, "u_lut");
            g_gpu.u_min = glGetUniformLocation(p, "u_min");
            g_gpu.u_max = glGetUniformLocation(p, "u_max");
            g_gpu.u_log = glGetUniformLocation(p, "u_log");
            g_gpu.u_cell_px = glGetUniformLocation(p, "u_cell_px");
        }
        for (std::size_t c = 0; c < g_gpu.lut.size(); ++c) {
            const ColormapLut lut = colormap_lut(static_cast<Colormap>(c));
            g_gpu.lut[c] = create_texture_rgba8(256, 1, lut[0].data());
        }
    }
    return g_gpu.program != 0;
}

void heatmap_pass_release() {
    delete_program(g_gpu.program);
    for (auto& t : g_gpu.lut) delete_texture(t);
    g_gpu = SharedGpu{};
}

void heatmap_pass(const Framebuffer& fb, const float view[4], const HeatmapPassBlock& base, const HeatmapPassBlock& detail,
                  int colormap, float lo, float hi, bool log_scale) {
    if (!heatmap_pass_ready()) return;
    GLint prev_fbo = 0, prev_viewport[4] = {0, 0, 0, 0}, prev_program = 0, prev_active = 0;
    glGetIntegerv(GL_FRAMEBUFFER_BINDING, &prev_fbo);
    glGetIntegerv(GL_VIEWPORT, prev_viewport);
    glGetIntegerv(GL_CURRENT_PROGRAM, &prev_program);
    glGetIntegerv(GL_ACTIVE_TEXTURE, &prev_active);
    const GLboolean scissor = glIsEnabled(GL_SCISSOR_TEST), blend = glIsEnabled(GL_BLEND);
    glBindFramebuffer(GL_FRAMEBUFFER, fb.fbo);
    glViewport(0, 0, fb.width, fb.height);
    glDisable(GL_SCISSOR_TEST);
    glDisable(GL_BLEND);
    glUseProgram(g_gpu.program);
    glUniform4f(g_gpu.u_view, view[0], view[1], view[2], view[3]);
    glUniform1i(g_gpu.u_base, 0);
    glUniform1i(g_gpu.u_detail, 2);
    glUniform1i(g_gpu.u_lut, 1);
    glUniform1f(g_gpu.u_min, lo);
    glUniform1f(g_gpu.u_max, hi);
    glUniform1f(g_gpu.u_log, log_scale ? 1.0f : 0.0f);
    auto block = [](GLint rect, GLint tex, const HeatmapPassBlock& k) {
        if (!k.texture) {
            glUniform4f(rect, 0, 0, 0, 0);
            glUniform2f(tex, 1, 1);
            return;
        }
        glUniform4f(rect, k.c0, k.r0, k.cols, k.rows);
        glUniform2f(tex, k.tex_cols, k.tex_rows);
    };
    block(g_gpu.u_base_rect, g_gpu.u_base_tex, base);
    block(g_gpu.u_detail_rect, g_gpu.u_detail_tex, detail);
    glUniform2f(g_gpu.u_cell_px, static_cast<float>(fb.width) / (view[2] - view[0]), static_cast<float>(fb.height) / (view[3] - view[1]));
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, base.texture);
    glActiveTexture(GL_TEXTURE2);
    glBindTexture(GL_TEXTURE_2D, detail.texture ? detail.texture : base.texture);
    glActiveTexture(GL_TEXTURE1);
    glBindTexture(GL_TEXTURE_2D, g_gpu.lut[static_cast<std::size_t>(colormap)]);
    draw_unit_quad();
    glBindTexture(GL_TEXTURE_2D, 0);
    glActiveTexture(GL_TEXTURE2);
    glBindTexture(GL_TEXTURE_2D, 0);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, 0);
    glActiveTexture(static_cast<GLenum>(prev_active));
    glUseProgram(static_cast<GLuint>(prev_program));
    glBindFramebuffer(GL_FRAMEBUFFER, static_cast<GLuint>(prev_fbo));
    glViewport(prev_viewport[0], prev_viewport[1], prev_viewport[2], prev_viewport[3]);
    if (scissor) glEnable(GL_SCISSOR_TEST);
    if (blend) glEnable(GL_BLEND);
}


}  // namespace attnviz::gl
