// 4-wide BVH layout and traversal, shared by every level (meshes, sphere sets, instances).
// Node tests use SSE on the CPU; the scalar loop is what a CUDA backend would compile.
#pragma once
#include "defs.h"
#if defined(__SSE2__) && !defined(__CUDACC__)
#include <immintrin.h>
#define OPTICA_SSE 1
#endif

namespace optica {

// A child reference: >= 0 is an inner node index; < 0 is a leaf whose first primitive is
// ~ref, with `count` primitives. Empty slots have inverted bounds and never hit.
struct alignas(64) Bvh4Node {
  float lo_x[4], hi_x[4], lo_y[4], hi_y[4], lo_z[4], hi_z[4];
  int32_t child[4];
  uint32_t count[4];
};

struct RayInv {
  float3 o, inv_d, o_inv;  // o_inv = o · inv_d, so a slab distance is bound·inv_d − o_inv
  int near_x, near_y, near_z;  // 0: the low plane is entered first on that axis
  OPTICA_HD static RayInv make(float3 o, float3 d) {
    RayInv r;
    r.o = o;
    r.inv_d = make3(1.0f / d.x, 1.0f / d.y, 1.0f / d.z);
    r.o_inv = o * r.inv_d;
    r.near_x = d.x >= 0.0f ? 0 : 1;
    r.near_y = d.y >= 0.0f ? 0 : 1;
    r.near_z = d.z >= 0.0f ? 0 : 1;
    return r;
  }
};

// Traverses a BVH; `leaf(first, count, tmax)` intersects a leaf's primitives, may shrink
// tmax, and returns true to stop (any-hit queries). Returns true if traversal was stopped.
template <class LeafFn>
OPTICA_HD bool bvh4_traverse(const Bvh4Node *nodes, const RayInv &r, float tmin, float &tmax, LeafFn &&leaf) {
  struct Entry { int32_t ref; uint32_t count; float t; };
  Entry stack[64];
  int sp = 0;
  stack[sp++] = Entry{0, 0, tmin};
  while (sp > 0) {
    Entry e = stack[--sp];
    if (e.t > tmax) continue;
    if (e.ref < 0) {
      if (leaf(uint32_t(~e.ref), e.count, tmax)) return true;
      continue;
    }
    const Bvh4Node &n = nodes[e.ref];
#if OPTICA_SSE
    const float *bx = r.near_x ? n.hi_x : n.lo_x, *fx = r.near_x ? n.lo_x : n.hi_x;
    const float *by = r.near_y ? n.hi_y : n.lo_y, *fy = r.near_y ? n.lo_y : n.hi_y;
    const float *bz = r.near_z ? n.hi_z : n.lo_z, *fz = r.near_z ? n.lo_z : n.hi_z;
    __m128 idx = _mm_set1_ps(r.inv_d.x), idy = _mm_set1_ps(r.inv_d.y), idz = _mm_set1_ps(r.inv_d.z);
    __m128 oix = _mm_set1_ps(r.o_inv.x), oiy = _mm_set1_ps(r.o_inv.y), oiz = _mm_set1_ps(r.o_inv.z);
    __m128 tnx = _mm_sub_ps(_mm_mul_ps(_mm_load_ps(bx), idx), oix);
    __m128 tny = _mm_sub_ps(_mm_mul_ps(_mm_load_ps(by), idy), oiy);
    __m128 tnz = _mm_sub_ps(_mm_mul_ps(_mm_load_ps(bz), idz), oiz);
    __m128 tfx = _mm_sub_ps(_mm_mul_ps(_mm_load_ps(fx), idx), oix);
    __m128 tfy = _mm_sub_ps(_mm_mul_ps(_mm_load_ps(fy), idy), oiy);
    __m128 tfz = _mm_sub_ps(_mm_mul_ps(_mm_load_ps(fz), idz), oiz);
    __m128 tnear = _mm_max_ps(_mm_max_ps(tnx, tny), _mm_max_ps(tnz, _mm_set1_ps(tmin)));
    __m128 tfar = _mm_min_ps(_mm_min_ps(tfx, tfy), _mm_min_ps(tfz, _mm_set1_ps(tmax)));
    int mask = _mm_movemask_ps(_mm_cmple_ps(tnear, tfar));
    alignas(16) float tn[4];
    _mm_store_ps(tn, tnear);
#else
    int mask = 0;
    float tn[4];
    for (int i = 0; i < 4; ++i) {
      float lx = (r.near_x ? n.hi_x[i] : n.lo_x[i]) * r.inv_d.x - r.o_inv.x;
      float hx = (r.near_x ? n.lo_x[i] : n.hi_x[i]) * r.inv_d.x - r.o_inv.x;
      float ly = (r.near_y ? n.hi_y[i] : n.lo_y[i]) * r.inv_d.y - r.o_inv.y;
      float hy = (r.near_y ? n.lo_y[i] : n.hi_y[i]) * r.inv_d.y - r.o_inv.y;
      float lz = (r.near_z ? n.hi_z[i] : n.lo_z[i]) * r.inv_d.z - r.o_inv.z;
      float hz = (r.near_z ? n.lo_z[i] : n.hi_z[i]) * r.inv_d.z - r.o_inv.z;
      float a = maxf(maxf(lx, ly), maxf(lz, tmin));
      float b = minf(minf(hx, hy), minf(hz, tmax));
      tn[i] = a;
      if (a <= b) mask |= 1 << i;
    }
#endif
    if (mask == 0) continue;
    // Push hit children far-to-near so the nearest is popped first.
    Entry hits[4];
    int nh = 0;
    for (int i = 0; i < 4; ++i) {
      if (!(mask & (1 << i))) continue;
      Entry c{n.child[i], n.count[i], tn[i]};
      int j = nh++;
      while (j > 0 && hits[j - 1].t < c.t) { hits[j] = hits[j - 1]; --j; }
      hits[j] = c;
    }
    for (int i = 0; i < nh; ++i) stack[sp++] = hits[i];
  }
  return false;
}

// ---- primitives ----
// Triangle stored for Möller–Trumbore: v0 and two edges, in BVH leaf order.
struct TriAccel {
  float3 v0, e1, e2;
};

// Returns true and sets t, u, v when the ray hits the triangle strictly inside (tmin, tmax).
OPTICA_HD bool intersect_triangle(const TriAccel &tri, float3 o, float3 d, float tmin, float tmax,
                                  float &t, float &u, float &v) {
  float3 p = cross(d, tri.e2);
  float det = dot(tri.e1, p);
  if (fabsf(det) < 1e-20f) return false;
  float inv = 1.0f / det;
  float3 s = o - tri.v0;
  u = dot(s, p) * inv;
  if (u < 0.0f || u > 1.0f) return false;
  float3 q = cross(s, tri.e1);
  v = dot(d, q) * inv;
  if (v < 0.0f || u + v > 1.0f) return false;
  t = dot(tri.e2, q) * inv;
  return t > tmin && t < tmax;
}

struct SphereAccel {
  float3 c;
  float r;
};

// Ray–sphere for an unnormalised direction: nearest root inside (tmin, tmax).
OPTICA_HD bool intersect_sphere(const SphereAccel &s, float3 o, float3 d, float tmin, float tmax, float &t) {
  float3 oc = o - s.c;
  float a = dot(d, d);
  float b = dot(oc, d);
  // Discriminant in a form that keeps precision for distant spheres (Ray Tracing Gems, ch. 7).
  float3 l = oc - d * (b / a);
  float disc = s.r * s.r - dot(l, l);
  if (disc < 0.0f) return false;
  float sq = sqrtf(a * disc);
  float q = b < 0.0f ? (-b + sq) : (-b - sq);
  float t0 = q / a;
  float t1 = (dot(oc, oc) - s.r * s.r) / q;
  if (t0 > t1) { float tmp = t0; t0 = t1; t1 = tmp; }
  if (t0 > tmin && t0 < tmax) { t = t0; return true; }
  if (t1 > tmin && t1 < tmax) { t = t1; return true; }
  return false;
}

}  // namespace optica
