// The Wireframe node: 1 within Size/2 of an edge of the shaded triangle (in world units, or
// in pixels: Size times the ray footprint seen across the view), as Cycles' wireframe.h.
// Triangles are what Cycles sees too: a quad shows its diagonal.
#pragma once
#include "geometry_nodes.h"

namespace optica {

OPTICA_HD float wireframe_fac(const KernelScene &s, const ShaderData &sd, bool pixel_size, int bump, float fw,
                              float size) {
  if (sd.instance < 0 || !sd.is_mesh) return 0.0f;
  const InstanceView &inst = s.instances[sd.instance];
  const GeometryView &g = s.geometries[inst.geometry];
  float3 co[3];
  triangle_vertices_at(g, sd.prim, sd.time, co);
  if (!sd_identity(s, sd))
    for (int i = 0; i < 3; ++i) co[i] = sd_xfm(s, sd).point(co[i]);
  float3 dx, dy;
  orthonormals(sd.Ng, dx, dy);
  dx = dx * sd.dP;
  dy = dy * sd.dP;
  float width = 1.0f;
  if (pixel_size) {
    float wx = length(dx - sd.wi * dot(dx, sd.wi)), wy = length(dy - sd.wi * dot(dy, sd.wi));
    width = (wx + wy) * 0.5f;
  }
  // Half the width on each side: the neighbouring triangle draws the other half.
  width *= 0.5f * size;
  width *= width;
  float3 p = sd.P + bump_offset(sd, bump, fw);
  for (int i = 0; i < 3; ++i) {
    float3 edge = co[i] - co[i ? i - 1 : 2];
    float3 c = cross(edge, p - co[i]);  // |c|² / |edge|² is the squared distance to the edge
    if (dot(c, c) < dot(edge, edge) * width) return 1.0f;
  }
  return 0.0f;
}

}  // namespace optica
