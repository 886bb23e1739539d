#version 330 core
// attnviz heatmap: one GL_R32F texel per cell -> colour from a 256x1 colormap LUT.
// Masked cells carry a huge sentinel (> 1e37) and are drawn grey with diagonal hatching, so a
// masked cell never looks like a small weight. min == max draws the middle colour everywhere.
in vec2 v_uv;
uniform sampler2D u_values;   // (cols x rows) R32F
uniform sampler2D u_lut;      // 256x1 RGBA8 colormap
uniform float u_min;
uniform float u_max;
uniform vec2 u_cells;         // texture size in cells (cols, rows)
uniform vec2 u_cell_px;       // size of one cell on screen, in pixels
out vec4 frag_color;

void main() {
    float v = texelFetch(u_values, ivec2(clamp(floor(v_uv * u_cells), vec2(0.0), u_cells - 1.0)), 0).r;
    vec3 color;
    if (v > 1e37 || v != v) {
        float stripe = mod(gl_FragCoord.x + gl_FragCoord.y, 10.0);
        color = stripe < 3.5 ? vec3(0.62) : vec3(0.32);
    } else {
        float t = u_max > u_min ? clamp((v - u_min) / (u_max - u_min), 0.0, 1.0) : 0.5;
        color = texture(u_lut, vec2((t * 255.0 + 0.5) / 256.0, 0.5)).rgb;
    }
    // thin dark grid lines once cells are big enough to separate
    vec2 px = fract(v_uv * u_cells) * u_cell_px;
    if ((u_cell_px.x >= 10.0 && px.x < 1.0) || (u_cell_px.y >= 10.0 && px.y < 1.0)) color *= 0.45;
    frag_color = vec4(color, 1.0);
}
