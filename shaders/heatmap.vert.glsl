#version 330 core
// attnviz heatmap: a unit quad covering the framebuffer; v_cell walks the visible cells
// (u_view = x0, y0, x1, y1 in cells: columns, rows; top data row at y = 0).
layout(location = 0) in vec2 a_pos;
uniform vec4 u_view;
out vec2 v_cell;
void main() {
    v_cell = mix(u_view.xy, u_view.zw, a_pos);
    gl_Position = vec4(a_pos * 2.0 - 1.0, 0.0, 1.0);
}
