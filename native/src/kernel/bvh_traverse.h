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
    // A zero component would make bound·inv − o·inv an ∞ − ∞ = NaN wherever the ray runs in a
    // box's plane, and NaN slabs never reject a node: axis-aligned rays (an orthographic
    // camera looking straight down) would visit every node. A tiny stand-in keeps every slab
    // finite and correctly signed.
    const float tiny = 1e-18f;
    d = make3(fabsf(d.x) < tiny ? copysignf(tiny, d.x) : d.x, fabsf(d.y) < tiny ? copysignf(tiny, d.y) : d.y,
              fabsf(d.z) < tiny ? copysignf(tiny, d.z) : d.z);
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
// The nearest hit child is followed directly (the others are pushed far-to-near), so the
// common single-hit step touches no stack.
template <class LeafFn>
OPTICA_HD bool bvh4_traverse(const Bvh4Node *nodes, const RayInv &r, float tmin, float &tmax, LeafFn &&leaf) {
  struct Entry { int32_t ref; uint32_t count; float t; };
  Entry stack[64];
  int sp = 0;
  Entry cur{0, 0, tmin};
  for (;;) {
    if (cur.ref < 0) {
      if (leaf(uint32_t(~cur.ref), cur.count, tmax)) return true;
    } else {
      const Bvh4Node &n = nodes[cur.ref];
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
      if (mask != 0) {
        if ((mask & (mask - 1)) == 0) {  // exactly one child hit
          int i = mask == 1 ? 0 : mask == 2 ? 1 : mask == 4 ? 2 : 3;
          cur = Entry{n.child[i], n.count[i], tn[i]};
          continue;
        }
        Entry hits[4];
        int nh = 0;
        for (int i = 0; i < 4; ++i) {
          if (!(mask & (1 << i))) continue;
          Entry c{n.child[i], n.count[i], tn[i]};
          int j = nh++;
          while (j > 0 && hits[j - 1].t < c.t) { hits[j] = hits[j - 1]; --j; }
          hits[j] = c;
        }
        for (int i = 0; i < nh - 1; ++i) stack[sp++] = hits[i];
        cur = hits[nh - 1];
#if OPTICA_SSE
        if (cur.ref >= 0) {
          const char *p = reinterpret_cast<const char *>(&nodes[cur.ref]);
          _mm_prefetch(p, _MM_HINT_T0);
          _mm_prefetch(p + 64, _MM_HINT_T0);
        }
#endif
        continue;
      }
    }
    // Pop the next entry still in front of the nearest hit.
    do {
      if (sp == 0) return false;
      cur = stack[--sp];
    } while (cur.t > tmax);
  }
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

// Four triangles in structure-of-arrays form, tested together (the leaf of a mesh BVH is one
// or more such blocks). Unused lanes hold NaN vertices and never hit.
struct alignas(16) Tri4 {
  float v0x[4], v0y[4], v0z[4], e1x[4], e1y[4], e1z[4], e2x[4], e2y[4], e2z[4];
  uint32_t prim[4];
};

// Nearest hit among the four triangles in (tmin, tmax): returns the lane or -1.
OPTICA_HD int intersect_tri4(const Tri4 &q, float3 o, float3 d, float tmin, float tmax, float &t, float &u,
                             float &v) {
#if OPTICA_SSE
  __m128 dx = _mm_set1_ps(d.x), dy = _mm_set1_ps(d.y), dz = _mm_set1_ps(d.z);
  __m128 e1x = _mm_load_ps(q.e1x), e1y = _mm_load_ps(q.e1y), e1z = _mm_load_ps(q.e1z);
  __m128 e2x = _mm_load_ps(q.e2x), e2y = _mm_load_ps(q.e2y), e2z = _mm_load_ps(q.e2z);
  // p = d × e2
  __m128 px = _mm_sub_ps(_mm_mul_ps(dy, e2z), _mm_mul_ps(dz, e2y));
  __m128 py = _mm_sub_ps(_mm_mul_ps(dz, e2x), _mm_mul_ps(dx, e2z));
  __m128 pz = _mm_sub_ps(_mm_mul_ps(dx, e2y), _mm_mul_ps(dy, e2x));
  __m128 det = _mm_add_ps(_mm_add_ps(_mm_mul_ps(e1x, px), _mm_mul_ps(e1y, py)), _mm_mul_ps(e1z, pz));
  __m128 inv = _mm_div_ps(_mm_set1_ps(1.0f), det);
  __m128 sx = _mm_sub_ps(_mm_set1_ps(o.x), _mm_load_ps(q.v0x));
  __m128 sy = _mm_sub_ps(_mm_set1_ps(o.y), _mm_load_ps(q.v0y));
  __m128 sz = _mm_sub_ps(_mm_set1_ps(o.z), _mm_load_ps(q.v0z));
  __m128 uu = _mm_mul_ps(_mm_add_ps(_mm_add_ps(_mm_mul_ps(sx, px), _mm_mul_ps(sy, py)), _mm_mul_ps(sz, pz)), inv);
  // q = s × e1
  __m128 qx = _mm_sub_ps(_mm_mul_ps(sy, e1z), _mm_mul_ps(sz, e1y));
  __m128 qy = _mm_sub_ps(_mm_mul_ps(sz, e1x), _mm_mul_ps(sx, e1z));
  __m128 qz = _mm_sub_ps(_mm_mul_ps(sx, e1y), _mm_mul_ps(sy, e1x));
  __m128 vv = _mm_mul_ps(_mm_add_ps(_mm_add_ps(_mm_mul_ps(dx, qx), _mm_mul_ps(dy, qy)), _mm_mul_ps(dz, qz)), inv);
  __m128 tt = _mm_mul_ps(_mm_add_ps(_mm_add_ps(_mm_mul_ps(e2x, qx), _mm_mul_ps(e2y, qy)), _mm_mul_ps(e2z, qz)), inv);
  __m128 zero = _mm_setzero_ps();
  __m128 abs_det = _mm_andnot_ps(_mm_set1_ps(-0.0f), det);
  __m128 ok = _mm_and_ps(_mm_cmpgt_ps(abs_det, _mm_set1_ps(1e-20f)), _mm_cmpge_ps(uu, zero));
  ok = _mm_and_ps(ok, _mm_cmpge_ps(vv, zero));
  ok = _mm_and_ps(ok, _mm_cmple_ps(_mm_add_ps(uu, vv), _mm_set1_ps(1.0f)));
  ok = _mm_and_ps(ok, _mm_cmpgt_ps(tt, _mm_set1_ps(tmin)));
  ok = _mm_and_ps(ok, _mm_cmplt_ps(tt, _mm_set1_ps(tmax)));
  int mask = _mm_movemask_ps(ok);
  if (!mask) return -1;
  alignas(16) float ta[4], ua[4], va[4];
  _mm_store_ps(ta, tt);
  _mm_store_ps(ua, uu);
  _mm_store_ps(va, vv);
  int best = -1;
  for (int i = 0; i < 4; ++i)
    if ((mask & (1 << i)) && (best < 0 || ta[i] < ta[best])) best = i;
  t = ta[best]; u = ua[best]; v = va[best];
  return best;
#else
  int best = -1;
  for (int i = 0; i < 4; ++i) {
    TriAccel tri{make3(q.v0x[i], q.v0y[i], q.v0z[i]), make3(q.e1x[i], q.e1y[i], q.e1z[i]),
                 make3(q.e2x[i], q.e2y[i], q.e2z[i])};
    float ti, ui, vi;
    if (intersect_triangle(tri, o, d, tmin, best < 0 ? tmax : t, ti, ui, vi)) { best = i; t = ti; u = ui; v = vi; }
  }
  return best;
#endif
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
