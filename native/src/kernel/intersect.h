// Two-level ray queries: the top-level BVH over instances, then the instance's geometry BVH
// in object space. Directions are not renormalised in object space, so t is shared.
#pragma once
#include "scene_data.h"

namespace optica {

struct Hit {
  float t, u, v;
  uint32_t prim;      // primitive index within its geometry
  uint32_t instance;  // index into KernelScene::instances
  uint32_t slot;      // leaf slot of the primitive in its BVH
};

// A deforming mesh at the ray's time: its BVH bounds every triangle over the shutter; a leaf's
// triangles are placed at `time` (the two steps around it found once per ray) and tested four at
// a time, as a still mesh's Tri4 blocks (a short last block repeats its first triangle).
template <bool AnyHit>
OPTICA_HD bool intersect_deforming(const GeometryView &g, float3 o, float3 d, float tmin, float &tmax, float time,
                                   uint32_t instance, Hit &hit) {
  RayInv r = RayInv::make(o, d);
  bool found = false;
  float f;
  const int step = motion_step(g.deform_steps, time, f);
  const float3 *a = g.step_vertices + size_t(step) * g.vertex_count, *b = a + g.vertex_count;
  auto leaf = [&](uint32_t first, uint32_t count, float &tm) -> bool {
    for (uint32_t base = first; base < first + count; base += 4) {
      Tri4 q;
      for (int lane = 0; lane < 4; ++lane) {
        uint32_t slot = base + uint32_t(lane) < first + count ? base + uint32_t(lane) : base;
        uint32_t prim = g.prim_order[slot];
        const int32_t *tri = g.tri_idx + 3 * size_t(prim);
        float3 v0 = a[tri[0]] * (1.0f - f) + b[tri[0]] * f;
        float3 e1 = a[tri[1]] * (1.0f - f) + b[tri[1]] * f - v0;
        float3 e2 = a[tri[2]] * (1.0f - f) + b[tri[2]] * f - v0;
        q.v0x[lane] = v0.x; q.v0y[lane] = v0.y; q.v0z[lane] = v0.z;
        q.e1x[lane] = e1.x; q.e1y[lane] = e1.y; q.e1z[lane] = e1.z;
        q.e2x[lane] = e2.x; q.e2y[lane] = e2.y; q.e2z[lane] = e2.z;
        q.prim[lane] = slot;  // the leaf slot; its primitive is prim_order[slot]
      }
      float t, u, v;
      int lane = intersect_tri4(q, o, d, tmin, tm, t, u, v);
      if (lane < 0) continue;
      tm = t;
      hit.t = t; hit.u = u; hit.v = v;
      hit.slot = q.prim[lane];
      hit.prim = g.prim_order[hit.slot];
      hit.instance = instance;
      found = true;
      if (AnyHit) return true;
    }
    return false;
  };
  bvh4_traverse(g.nodes, r, tmin, tmax, leaf);
  return found;
}

template <bool AnyHit>
OPTICA_HD bool intersect_geometry(const GeometryView &g, float3 o, float3 d, float tmin, float &tmax, float time,
                                  uint32_t instance, Hit &hit) {
  if (g.deform_steps) return intersect_deforming<AnyHit>(g, o, d, tmin, tmax, time, instance, hit);
  RayInv r = RayInv::make(o, d);
  bool found = false;
  auto record = [&](float t, float u, float v, uint32_t prim, uint32_t slot) {
    hit.t = t; hit.u = u; hit.v = v;
    hit.prim = prim;
    hit.slot = slot;
    hit.instance = instance;
    found = true;
  };
  auto leaf = [&](uint32_t first, uint32_t count, float &tm) -> bool {
    if (g.type == kGeomMesh) {
      // `first` is the leaf's first Tri4 block; `count` its triangles.
      for (uint32_t b = first; b < first + (count + 3) / 4; ++b) {
        float t, u, v;
        int lane = intersect_tri4(g.tri4[b], o, d, tmin, tm, t, u, v);
        if (lane < 0) continue;
        tm = t;
        record(t, u, v, g.tri4[b].prim[lane], b);
        if (AnyHit) return true;
      }
      return false;
    }
    if (g.type == kGeomCurves) {
      for (uint32_t i = first; i < first + count; ++i) {
        uint32_t prim = g.prim_order[i];
        const CurveSegment &seg = g.curve_segments[prim];
        if (!g.curve_steps && !curve_capsule_hit(g.curve_keys[seg.k[1]].p, g.curve_keys[seg.k[2]].p, seg.reach, o, d))
          continue;
        CurveKey c[4];
        curve_segment_keys(g, prim, time, c);
        float t, u, v;
        if (intersect_curve_segment(c, g.curve_basis, g.curve_shape, o, d, tmin, tm, t, u, v)) {
          tm = t;
          record(t, u, v, prim, i);
          if (AnyHit) return true;
        }
      }
      return false;
    }
    for (uint32_t i = first; i < first + count; ++i) {
      float t;
      if (intersect_sphere(g.spheres[i], o, d, tmin, tm, t)) {
        tm = t;
        record(t, 0.0f, 0.0f, g.prim_order[i], i);
        if (AnyHit) return true;
      }
    }
    return false;
  };
  bvh4_traverse(g.nodes, r, tmin, tmax, leaf);
  return found;
}

template <bool AnyHit>
OPTICA_HD bool intersect_scene_impl(const KernelScene &s, const Ray &ray, Hit &hit) {
  if (!s.has_geometry) return false;
  RayInv r = RayInv::make(ray.o, ray.d);
  float tmax = ray.tmax;
  bool found = false;
  auto leaf = [&](uint32_t first, uint32_t count, float &tm) -> bool {
    for (uint32_t i = first; i < first + count; ++i) {
      uint32_t inst_index = s.tlas_order[i];
      const InstanceView &inst = s.instances[inst_index];
      float3 o = ray.o, d = ray.d;
      if (inst.motion_steps) {
        Affine inv = affine_inverse(motion_transform_at(s.motion_transforms + inst.motion_base, inst.motion_steps,
                                                        ray.time));
        o = inv.point(o);
        d = inv.vector(d);
      } else if (!inst.identity) {
        o = inst.inv.point(o);
        d = inst.inv.vector(d);
      }
      if (intersect_geometry<AnyHit>(s.geometries[inst.geometry], o, d, ray.tmin, tm, ray.time, inst_index, hit)) {
        found = true;
        if (AnyHit) return true;
      }
    }
    return false;
  };
  bvh4_traverse(s.tlas, r, ray.tmin, tmax, leaf);
  return found;
}

// The integrator traces only through these two. A backend with its own acceleration structures
// (OptiX: optixTrace) defines OPTICA_EXTERNAL_TRACE and provides both, with these signatures,
// before including the integrator; every shading and sampling routine stays this one copy.
#ifndef OPTICA_EXTERNAL_TRACE
OPTICA_HD bool intersect_closest(const KernelScene &s, const Ray &ray, Hit &hit) {
  return intersect_scene_impl<false>(s, ray, hit);
}
OPTICA_HD bool intersect_any(const KernelScene &s, const Ray &ray) {
  Hit hit;
  return intersect_scene_impl<true>(s, ray, hit);
}
#endif

}  // namespace optica
