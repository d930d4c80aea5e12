// What a ray hit: position, normals, UVs and the resolved material at the hit point.
#pragma once
#include "bsdf.h"
#include "intersect.h"

namespace optica {

struct SurfacePoint {
  float3 p;
  float3 ng;  // geometric normal, on the same side as ns
  float3 ns;  // shading normal
  float3 base_color;
  const MaterialView *material;
  int32_t object_id;
};

OPTICA_HD float3 texel(const TextureView &t, int x, int y) {
  if (t.extension == kExtRepeat) {
    x %= t.width; if (x < 0) x += t.width;
    y %= t.height; if (y < 0) y += t.height;
  } else if (t.extension == kExtExtend) {
    x = x < 0 ? 0 : (x >= t.width ? t.width - 1 : x);
    y = y < 0 ? 0 : (y >= t.height ? t.height - 1 : y);
  } else if (x < 0 || y < 0 || x >= t.width || y >= t.height) {
    return make3(0.0f);
  }
  const float *p = t.rgba + 4 * (size_t(y) * t.width + x);
  return make3(p[0], p[1], p[2]);
}

OPTICA_HD float3 sample_texture(const TextureView &t, float2 uv) {
  float x = uv.x * t.width, y = uv.y * t.height;
  if (t.interpolation == kInterpClosest) return texel(t, int(floorf(x)), int(floorf(y)));
  x -= 0.5f; y -= 0.5f;
  float fx = floorf(x), fy = floorf(y);
  float tx = x - fx, ty = y - fy;
  int ix = int(fx), iy = int(fy);
  return (texel(t, ix, iy) * (1.0f - tx) + texel(t, ix + 1, iy) * tx) * (1.0f - ty) +
         (texel(t, ix, iy + 1) * (1.0f - tx) + texel(t, ix + 1, iy + 1) * tx) * ty;
}

OPTICA_HD void surface_at(const KernelScene &s, const Ray &ray, const Hit &hit, SurfacePoint &sp) {
  const InstanceView &inst = s.instances[hit.instance];
  const GeometryView &g = s.geometries[inst.geometry];
  sp.p = ray.o + ray.d * hit.t;
  sp.object_id = inst.object_id;
  int32_t slot = 0;
  float3 ng, ns;
  float2 uv{0.0f, 0.0f};
  bool has_uv = false;
  bool has_color = false;
  float3 color = make3(0.0f);
  if (g.type == kGeomMesh) {
    const int32_t *tri = g.tri_idx + 3 * size_t(hit.prim);
    float3 v0 = g.vertices[tri[0]], v1 = g.vertices[tri[1]], v2 = g.vertices[tri[2]];
    ng = cross(v1 - v0, v2 - v0);
    float w0 = 1.0f - hit.u - hit.v;
    if (g.normals) {
      const int32_t *ni = g.normal_idx + 3 * size_t(hit.prim);
      ns = g.normals[ni[0]] * w0 + g.normals[ni[1]] * hit.u + g.normals[ni[2]] * hit.v;
    } else {
      ns = ng;
    }
    if (g.uvs) {
      const int32_t *ui = g.uv_idx + 3 * size_t(hit.prim);
      float2 a = g.uvs[ui[0]], b = g.uvs[ui[1]], c = g.uvs[ui[2]];
      uv = {a.x * w0 + b.x * hit.u + c.x * hit.v, a.y * w0 + b.y * hit.u + c.y * hit.v};
      has_uv = true;
    }
    if (g.material_ids) slot = g.material_ids[hit.prim];
  } else {
    const SphereAccel &sph = g.spheres[hit.slot];
    float3 po = inst.identity ? sp.p : inst.inv.point(sp.p);
    ng = ns = po - sph.c;
    if (g.sphere_colors) { color = g.sphere_colors[hit.prim]; has_color = true; }
  }
  if (!inst.identity) {
    ng = Affine::normal(inst.inv, ng);
    ns = Affine::normal(inst.inv, ns);
  }
  ng = normalize(ng);
  ns = normalize(ns);
  if (dot(ng, ns) < 0.0f) ng = -ng;
  sp.ng = ng;
  sp.ns = ns;
  int32_t mat = 0;
  if (inst.slot_count > 0) {
    if (slot < 0) slot = 0;
    if (uint32_t(slot) >= inst.slot_count) slot = int32_t(inst.slot_count) - 1;
    mat = s.slot_materials[inst.slot_base + slot];
  }
  sp.material = &s.materials[mat];
  sp.base_color = sp.material->base_color;
  if (sp.material->base_color_texture >= 0 && has_uv)
    sp.base_color = sample_texture(s.textures[sp.material->base_color_texture], uv);
  if (has_color) sp.base_color = color;
}

OPTICA_HD Bsdf make_bsdf(const KernelScene &s, const SurfacePoint &sp) {
  const MaterialView &m = *sp.material;
  Bsdf b;
  b.ggx_albedo = s.ggx_albedo;
  b.base_color = sp.base_color;
  float r = clampf(m.roughness, 0.0f, 1.0f);
  b.roughness = r;
  b.alpha = r * r;
  float f0 = minf(f0_from_ior(m.ior) * 2.0f * m.specular, 1.0f);  // Blender's IOR Level scales F0
  b.spec_f0 = f0;
  b.has_spec = f0 > 0.0f;
  b.spec_eta = ior_from_f0(f0);
  b.glass_eta = maxf(m.ior, 1.0f);
  float metal = clampf(m.metallic, 0.0f, 1.0f), trans = clampf(m.transmission, 0.0f, 1.0f);
  b.w_metal = metal;
  b.w_glass = (1.0f - metal) * trans;
  b.w_diffuse = (1.0f - metal) * (1.0f - trans);
  return b;
}

}  // namespace optica
