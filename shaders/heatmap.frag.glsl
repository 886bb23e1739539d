#version 330 core
// attnviz heatmap: values from up to two GL_R32F blocks -> colour from a 256x1 colormap LUT.
// A block covers a rectangle of cells (u_*_rect = first column, first row, columns, rows) with a
// texture of u_*_tex texels: one texel per cell (exact) or one per pooled bucket (long sequences,
// zoomed out). The detail block, where it covers the cell, wins over the base block; cells no
// block covers yet are drawn dark grey. Masked cells carry a huge sentinel (> 1e37) and are drawn
// grey with diagonal hatching, so a masked cell never looks like a small weight. min == max draws
// the middle colour everywhere.
in vec2 v_cell;
uniform sampler2D u_base;
uniform sampler2D u_detail;
uniform sampler2D u_lut;      // 256x1 RGBA8 colormap
uniform vec4 u_base_rect;     // z = 0: no base block
uniform vec2 u_base_tex;
uniform vec4 u_detail_rect;   // z = 0: no detail block
uniform vec2 u_detail_tex;
uniform float u_min;
uniform float u_max;
uniform vec2 u_cell_px;       // size of one cell on screen, in pixels
uniform float u_log;          // 1: colour by log(v) over [u_min, u_max] (u_min > 0), 0: linear
out vec4 frag_color;

// The value of `cell` in a block; false when the block does not cover it. Cell r of a block of
// R rows held by T texels lies in texel ((r + 1)·T − 1) / R (integer division): bucket t covers
// cells [t·R/T, (t+1)·R/T), the rule of core's PatternTiles::overview (exact blocks: T = R).
bool fetch(sampler2D tex, vec4 rect, vec2 size, vec2 cell, out float v, out bool exact) {
    vec2 d = cell - rect.xy;
    v = 0.0;
    exact = false;
    if (rect.z <= 0.0 || d.x < 0.0 || d.y < 0.0 || d.x >= rect.z || d.y >= rect.w) return false;
    ivec2 c = ivec2(floor(d));
    ivec2 n = ivec2(rect.zw);
    ivec2 t = ivec2(size);
    exact = t == n;
    ivec2 texel = clamp(((c + 1) * t - 1) / n, ivec2(0), t - 1);
    v = texelFetch(tex, texel, 0).r;
    return true;
}

void main() {
    float v;
    bool exact;
    if (!fetch(u_detail, u_detail_rect, u_detail_tex, v_cell, v, exact) &&
        !fetch(u_base, u_base_rect, u_base_tex, v_cell, v, exact)) {
        frag_color = vec4(0.16, 0.16, 0.18, 1.0);  // not computed (yet)
        return;
    }
    vec3 color;
    if (v > 1e37 || v != v) {
        float stripe = mod(gl_FragCoord.x + gl_FragCoord.y, 10.0);
        color = stripe < 3.5 ? vec3(0.62) : vec3(0.32);
    } else {
        float t = u_max > u_min ? clamp((v - u_min) / (u_max - u_min), 0.0, 1.0) : 0.5;
        if (u_log > 0.5) {
            float a = log(max(u_min, 1e-30)), b = log(max(u_max, 1e-30));
            t = b > a ? clamp((log(max(v, 1e-30)) - a) / (b - a), 0.0, 1.0) : 0.5;
        }
        color = texture(u_lut, vec2((t * 255.0 + 0.5) / 256.0, 0.5)).rgb;
    }
    // thin dark grid lines once exact cells are big enough to separate
    vec2 px = fract(v_cell) * u_cell_px;
    if (exact && ((u_cell_px.x >= 10.0 && px.x < 1.0) || (u_cell_px.y >= 10.0 && px.y < 1.0))) color *= 0.45;
    frag_color = vec4(color, 1.0);
}
