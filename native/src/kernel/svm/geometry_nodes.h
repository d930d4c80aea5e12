// Input nodes that read the shading point: mesh attributes (UV maps, colour and named
// attributes, tangents), Texture Coordinate, Geometry, Object Info, Light Path, Fresnel,
// Layer Weight, Tangent, Normal Map and Bump, with Cycles' definitions. Nodes inside a Bump
// node's Height input are evaluated a second and third time at points offset along the
// surface (`bump` = DX, DY), by `filter_width` ray footprints, as Cycles does.
#pragma once
#include "../closure/fresnel.h"
#include "../closure/microfacet.h"
#include "math_nodes.h"
#include "stack.h"

namespace optica {

enum BumpState : int { kBumpCenter = 0, kBumpDx = 1, kBumpDy = 2 };

// World-space offset of a bump sample: one of two directions across the geometric normal,
// `filter_width` footprints long (Cycles' differential_from_compact).
OPTICA_HD float3 bump_offset(const ShaderData &sd, int bump, float filter_width) {
  if (bump == kBumpCenter) return make3(0.0f);
  float3 a, b;
  orthonormals(sd.Ng, a, b);
  return (bump == kBumpDx ? a : b) * (sd.dP * filter_width);
}

OPTICA_HD float3 object_point(const KernelScene &s, const ShaderData &sd, float3 p) {
  if (sd.instance < 0) return p;
  return sd_identity(s, sd) ? p : sd_inv(s, sd).point(p);
}
// Object → world for normals (inverse transpose), and back (transpose), both normalised.
OPTICA_HD float3 object_to_world_normal(const KernelScene &s, const ShaderData &sd, float3 n) {
  if (sd.instance < 0) return n;
  return sd_identity(s, sd) ? normalize(n) : normalize(Affine::normal(sd_inv(s, sd), n));
}
OPTICA_HD float3 world_to_object_normal(const KernelScene &s, const ShaderData &sd, float3 n) {
  if (sd.instance < 0) return n;
  if (sd_identity(s, sd)) return normalize(n);
  const float *m = sd_xfm(s, sd).m;
  return normalize(make3(m[0] * n.x + m[4] * n.y + m[8] * n.z, m[1] * n.x + m[5] * n.y + m[9] * n.z,
                         m[2] * n.x + m[6] * n.y + m[10] * n.z));
}

// ---- Curves Info (Hair Info), as Cycles' svm_node_hair_info

struct HairInfo {
  float is_strand, intercept, length, thickness, random;
  float3 tangent_normal;
};

// On a curve: the per-point intercept interpolated along the segment, the curve's length and
// random, the diameter at the hit (world units along the object's X scale, as Cycles), and the
// normal across the strand facing the viewer. Elsewhere: zeros, as Cycles gives meshes.
OPTICA_HD HairInfo svm_hair_info(const KernelScene &s, const ShaderData &sd) {
  HairInfo h{0.0f, 0.0f, 0.0f, 0.0f, 0.0f, make3(0.0f)};
  if (sd.instance < 0) return h;
  const GeometryView &g = s.geometries[s.instances[sd.instance].geometry];
  if (g.type != kGeomCurves) return h;
  const CurveSegment &seg = g.curve_segments[sd.prim];
  h.is_strand = 1.0f;
  h.intercept = g.curve_intercept[seg.k[1]] * (1.0f - sd.u) + g.curve_intercept[seg.k[2]] * sd.u;
  h.length = g.curve_length[seg.curve];
  h.random = g.curve_random[seg.curve];
  CurveKey c[4];
  curve_segment_keys(g, sd.prim, sd.time, c);
  const CurveKey at = curve_eval(c, g.curve_basis, sd.u);
  const float eps = 1.0f / 1024.0f;
  const float u0 = sd.u > eps ? sd.u - eps : 0.0f, u1 = sd.u < 1.0f - eps ? sd.u + eps : 1.0f;
  float3 tangent = curve_eval(c, g.curve_basis, u1).p - curve_eval(c, g.curve_basis, u0).p;
  float diameter = 2.0f * at.r;
  if (!sd_identity(s, sd)) {
    tangent = sd_xfm(s, sd).vector(tangent);
    diameter = length(sd_xfm(s, sd).vector(make3(diameter, 0.0f, 0.0f)));
  }
  h.thickness = diameter;
  const float tt = dot(tangent, tangent);
  if (tt > 0.0f) h.tangent_normal = normalize(sd.wi - tangent * (dot(tangent, sd.wi) / tt));
  return h;
}

// ---- attributes

struct AttributeSample {
  float v[4];
  int32_t channels;  // 0: the geometry has no such attribute
};

// Barycentric change (du, dv) of a world-space step d across the hit triangle (least squares
// on its edges; exact for steps in its plane).
OPTICA_HD void barycentric_step(const KernelScene &s, const ShaderData &sd, float3 d, float &du, float &dv) {
  du = dv = 0.0f;
  if (sd.instance < 0 || !sd.is_mesh) return;
  const InstanceView &inst = s.instances[sd.instance];
  const GeometryView &g = s.geometries[inst.geometry];
  float3 tv[3];
  triangle_vertices_at(g, sd.prim, sd.time, tv);
  const Affine &xfm = sd_xfm(s, sd);
  float3 e1 = xfm.vector(tv[1] - tv[0]), e2 = xfm.vector(tv[2] - tv[0]);
  float a = dot(e1, e1), b = dot(e1, e2), c = dot(e2, e2);
  float det = a * c - b * b;
  if (!(fabsf(det) > 0.0f)) return;
  float p = dot(d, e1), q = dot(d, e2);
  du = (c * p - b * q) / det;
  dv = (a * q - b * p) / det;
}

OPTICA_HD const float *attribute_element(const AttributeView &a, const GeometryView &g, uint32_t prim, int corner) {
  int32_t row;
  if (a.domain == kDomainFace) row = int32_t(prim);
  else if (a.domain == kDomainCorner) row = a.indices[3 * size_t(prim) + corner];
  else row = g.type == kGeomMesh ? g.tri_idx[3 * size_t(prim) + corner] : int32_t(prim);
  return a.data + size_t(row) * a.channels;
}

// The attribute `request` (scene-level) at the shading point, moved by the bump offset.
OPTICA_HD AttributeSample attribute_sample(const KernelScene &s, const ShaderData &sd, int32_t request, int bump,
                                           float filter_width) {
  AttributeSample out;
  out.channels = 0;
  out.v[0] = out.v[1] = out.v[2] = out.v[3] = 0.0f;
  if (sd.instance < 0 || request < 0) return out;
  const GeometryView &g = s.geometries[s.instances[sd.instance].geometry];
  int32_t index = s.attribute_map[g.attribute_base + request];
  if (index < 0) return out;
  const AttributeView &a = s.attributes[index];
  out.channels = a.channels;
  if (a.domain == kDomainFace || g.type != kGeomMesh) {
    const float *p = attribute_element(a, g, sd.prim, 0);
    for (int k = 0; k < a.channels; ++k) out.v[k] = p[k];
    return out;
  }
  float u = sd.u, v = sd.v;
  if (bump != kBumpCenter) {
    float du, dv;
    barycentric_step(s, sd, bump_offset(sd, bump, filter_width), du, dv);
    u += du;
    v += dv;
  }
  const float *p0 = attribute_element(a, g, sd.prim, 0);
  const float *p1 = attribute_element(a, g, sd.prim, 1);
  const float *p2 = attribute_element(a, g, sd.prim, 2);
  float w0 = 1.0f - u - v;
  for (int k = 0; k < a.channels; ++k) out.v[k] = p0[k] * w0 + p1[k] * u + p2[k] * v;
  return out;
}

// The Attribute / UV Map / Color Attribute outputs (Cycles: a 1-channel attribute is grey, a
// 2-channel one (u, v, 0); Fac averages RGB; Alpha is 1 unless there is a fourth channel).
OPTICA_HD void svm_attribute(SvmState &st, int32_t request, int bump, float fw, int32_t out_color,
                             int32_t out_fac, int32_t out_alpha) {
  AttributeSample a = attribute_sample(*st.scene, *st.sd, request, bump, fw);
  float3 c = a.channels == 1 ? make3(a.v[0]) : make3(a.v[0], a.v[1], a.v[2]);
  st.store3(out_color, c);
  st.store1(out_fac, a.channels == 1 ? a.v[0] : a.channels == 2 ? a.v[0] : average(c));
  st.store1(out_alpha, a.channels == 4 ? a.v[3] : 1.0f);
}

// ---- Texture Coordinate (outputs in the order of the `tex_coord` enum; UV is an attribute)

OPTICA_HD float3 generated_coordinate(const KernelScene &s, const ShaderData &sd, float3 p) {
  if (sd.instance < 0) return p;
  const GeometryView &g = s.geometries[s.instances[sd.instance].geometry];
  float3 po = object_point(s, sd, p);
  return (po - (g.texspace_loc - g.texspace_size)) / (g.texspace_size * 2.0f);
}

OPTICA_HD float3 svm_tex_coord(const KernelScene &s, const ShaderData &sd, int which, int bump, float fw) {
  float3 p = sd.P + bump_offset(sd, bump, fw);
  const CameraView &cam = s.camera;
  bool world = sd.instance < 0;
  switch (which) {
    case 0:  // Generated
      return generated_coordinate(s, sd, p);
    case 1:  // Normal
      return world_to_object_normal(s, sd, sd.N);
    case 2:  // UV: compiled as an attribute read, never reaches here
      return make3(0.0f);
    case 3:  // Object
      return object_point(s, sd, p);
    case 4: {  // Camera
      float3 q = world ? p + cam.to_world.point(make3(0.0f)) : p;
      return camera_space_point(cam, q);
    }
    case 5: {  // Window
      if (world) {
        if ((sd.path.flags & kPathCamera) && cam.orthographic) return camera_ndc(cam, sd.ray_origin);
        float3 q = cam.orthographic ? p : p + cam.to_world.point(make3(0.0f));
        return camera_ndc(cam, q);
      }
      return camera_ndc(cam, p);
    }
    case 6:  // Reflection
      return world ? sd.wi : sd.N * (2.0f * dot(sd.N, sd.wi)) - sd.wi;
  }
  return make3(0.0f);
}

// ---- Geometry

// Cycles' default tangent: around the object's Z axis through the texture space centre.
OPTICA_HD float3 radial_tangent(const KernelScene &s, const ShaderData &sd, float3 generated, int axis) {
  float3 t;
  if (axis == 0) t = make3(0.0f, -(generated.z - 0.5f), generated.y - 0.5f);
  else if (axis == 1) t = make3(-(generated.z - 0.5f), 0.0f, generated.x - 0.5f);
  else t = make3(-(generated.y - 0.5f), generated.x - 0.5f, 0.0f);
  t = object_to_world_normal(s, sd, t);
  return cross(sd.N, normalize(cross(t, sd.N)));
}

OPTICA_HD float3 svm_geometry_vector(const KernelScene &s, const ShaderData &sd, int which, int bump, float fw) {
  switch (which) {
    case 0: return sd.P + bump_offset(sd, bump, fw);
    case 1: return sd.N;
    case 2: return radial_tangent(s, sd, generated_coordinate(s, sd, sd.P), 2);
    case 3: return sd.Ng;
    case 4: return sd.wi;
    case 5: {
      float u = sd.u, v = sd.v;
      if (bump != kBumpCenter && sd.is_mesh) {
        float du, dv;
        barycentric_step(s, sd, bump_offset(sd, bump, fw), du, dv);
        u += du;
        v += dv;
      }
      return make3(1.0f - u - v, u, 0.0f);
    }
  }
  return make3(0.0f);
}

// Backfacing; Pointiness and Random Per Island need per-mesh data the scene does not carry
// yet: they return Cycles' values for a flat mesh without islands (0.5 and 0).
OPTICA_HD float svm_geometry_float(const ShaderData &sd, int which) {
  if (which == 0) return sd.backfacing ? 1.0f : 0.0f;
  if (which == 1) return 0.5f;
  return 0.0f;
}

// ---- Object Info

OPTICA_HD float3 svm_object_info_vector(const KernelScene &s, const ShaderData &sd, int which) {
  if (sd.instance < 0) return make3(0.0f);
  const InstanceView &inst = s.instances[sd.instance];
  if (which == 0) {
    const Affine &xfm = sd_xfm(s, sd);
    return make3(xfm.m[3], xfm.m[7], xfm.m[11]);
  }
  return make3(inst.color[0], inst.color[1], inst.color[2]);
}

OPTICA_HD float svm_object_info_float(const KernelScene &s, const ShaderData &sd, int which, float material_index) {
  if (which == 2) return material_index;
  if (sd.instance < 0) return 0.0f;
  const InstanceView &inst = s.instances[sd.instance];
  if (which == 0) return inst.color[3];
  if (which == 1) return inst.pass_index;
  return inst.random;
}

// ---- Light Path (outputs in the order of the `light_path` enum)

OPTICA_HD float svm_light_path(const ShaderData &sd, int which) {
  const PathState &p = sd.path;
  switch (which) {
    case 0: return (p.flags & kPathCamera) ? 1.0f : 0.0f;
    case 1: return (p.flags & kPathShadow) ? 1.0f : 0.0f;
    case 2: return (p.flags & kPathDiffuse) ? 1.0f : 0.0f;
    case 3: return (p.flags & kPathGlossy) ? 1.0f : 0.0f;
    case 4: return (p.flags & kPathSingular) ? 1.0f : 0.0f;
    case 5: return (p.flags & kPathReflect) ? 1.0f : 0.0f;
    case 6: return (p.flags & kPathTransmit) ? 1.0f : 0.0f;
    case 7: return 0.0f;  // no volumes
    case 8: return sd.ray_length;
    case 9: return float(p.bounce) + ((p.flags & (kPathShadow | kPathEmission)) ? 1.0f : 0.0f);
    case 10: return float(p.diffuse_bounce);
    case 11: return float(p.glossy_bounce);
    case 12: return float(p.transparent_bounce);
    case 13: return float(p.transmission_bounce);
  }
  return 0.0f;  // Portal Depth: no portals
}

// ---- Fresnel and Layer Weight

OPTICA_HD float svm_fresnel(const ShaderData &sd, float ior, float3 n) {
  float eta = maxf(ior, 1e-5f);
  eta = sd.backfacing ? 1.0f / eta : eta;
  return fresnel_dielectric_cos(dot(sd.wi, n), eta);
}

OPTICA_HD void svm_layer_weight(const ShaderData &sd, float blend, float3 n, float &fresnel, float &facing) {
  float eta = maxf(1.0f - blend, 1e-5f);
  eta = sd.backfacing ? eta : 1.0f / eta;
  fresnel = fresnel_dielectric_cos(dot(sd.wi, n), eta);
  float f = fabsf(dot(sd.wi, n));
  if (blend != 0.5f) {
    float b = clampf(blend, 0.0f, 1.0f - 1e-5f);
    b = b < 0.5f ? 2.0f * b : 0.5f / (1.0f - b);
    f = powf(f, b);
  }
  facing = 1.0f - f;
}

// ---- Tangent and Normal Map

OPTICA_HD float3 svm_tangent(const KernelScene &s, const ShaderData &sd, int direction, int axis, int32_t request) {
  AttributeSample a = attribute_sample(s, sd, request, kBumpCenter, 0.0f);
  if (direction == 1) {  // UV map: the mesh's tangents for that map
    if (a.channels == 0) return make3(0.0f);
    float3 t = object_to_world_normal(s, sd, make3(a.v[0], a.v[1], a.v[2]));
    return cross(sd.N, normalize(cross(t, sd.N)));
  }
  float3 generated = a.channels ? make3(a.v[0], a.v[1], a.v[2]) : generated_coordinate(s, sd, sd.P);
  return radial_tangent(s, sd, generated, axis);
}

// Object-space smooth normal before normalisation, as the Normal Map node's tangent space wants it.
OPTICA_HD float3 object_smooth_normal(const KernelScene &s, const ShaderData &sd) {
  const GeometryView &g = s.geometries[s.instances[sd.instance].geometry];
  if (!g.normals) {
    float3 tv[3];
    triangle_vertices_at(g, sd.prim, sd.time, tv);
    return normalize(cross(tv[1] - tv[0], tv[2] - tv[0]));
  }
  const int32_t *ni = g.normal_idx + 3 * size_t(sd.prim);
  float w0 = 1.0f - sd.u - sd.v;
  return g.normals[ni[0]] * w0 + g.normals[ni[1]] * sd.u + g.normals[ni[2]] * sd.v;
}

// space: 0 TANGENT, 1 OBJECT, 2 WORLD, 3 BLENDER_OBJECT, 4 BLENDER_WORLD.
OPTICA_HD float3 svm_normal_map(const KernelScene &s, const ShaderData &sd, int space, int32_t request, float strength,
                                float3 color) {
  color = (color - make3(0.5f)) * 2.0f;
  float3 n;
  if (space == 0) {
    if (sd.instance < 0 || !sd.is_mesh) return sd.N;
    AttributeSample t = attribute_sample(s, sd, request, kBumpCenter, 0.0f);
    if (t.channels < 4) return sd.N;
    float3 tangent = make3(t.v[0], t.v[1], t.v[2]);
    float3 normal = object_smooth_normal(s, sd);
    color.x *= strength;
    color.y *= strength;
    color.z = mixf(1.0f, color.z, saturatef(strength));
    float3 bitangent = cross(normal, tangent) * t.v[3];
    n = safe_normalize_or(tangent * color.x + bitangent * color.y + normal * color.z, make3(0.0f));
    n = object_to_world_normal(s, sd, n);
    if (sd.backfacing) n = -n;
  } else {
    if (space == 3 || space == 4) {  // Blender's own convention flips y and z
      color.y = -color.y;
      color.z = -color.z;
    }
    n = color;
    if (space == 1 || space == 3) n = object_to_world_normal(s, sd, n);
    else n = safe_normalize_or(n, n);
    if (sd.backfacing) n = -n;
    if (strength != 1.0f) {
      strength = maxf(strength, 0.0f);
      n = safe_normalize_or(sd.N + (n - sd.N) * strength, sd.N + (n - sd.N) * strength);
    }
  }
  if (is_zero3(n) || !(n.x == n.x && n.y == n.y && n.z == n.z)) n = sd.N;
  return n;
}

// Bump: the normal tilted by the height's finite differences (Cycles' svm_node_set_bump).
OPTICA_HD float3 svm_bump(const ShaderData &sd, bool invert, float strength, float distance, float filter_width,
                          float h_c, float h_x, float h_y, float3 normal_in) {
  float3 a, b;
  orthonormals(sd.Ng, a, b);
  float3 dpdx = a * sd.dP, dpdy = b * sd.dP;
  float3 rx = cross(dpdy, normal_in), ry = cross(normal_in, dpdx);
  float det = dot(dpdx, rx);
  float3 surfgrad = rx * (h_x - h_c) + ry * (h_y - h_c);
  float scale = invert ? -distance : distance;
  strength = maxf(strength, 0.0f);
  float sign = det < 0.0f ? -1.0f : 1.0f;
  float3 out = normal_in * (filter_width * fabsf(det)) - surfgrad * (scale * sign);
  float l = length(out);
  if (!(l > 0.0f)) return normal_in;
  out = out / l;
  return normalize(out * strength + normal_in * (1.0f - strength));
}

}  // namespace optica
