// BVH construction: binned SAH over primitive bounds, built top-down in parallel, then
// collapsed into the 4-wide layout that kernel/bvh_traverse.h walks.
#pragma once
#include <cstdint>
#include <vector>

#include "kernel/bvh_traverse.h"

namespace optica {

class ThreadPool;

struct Aabb {
  float3 lo{kInf, kInf, kInf};
  float3 hi{-kInf, -kInf, -kInf};
  void grow(const Aabb &b) { lo = min3(lo, b.lo); hi = max3(hi, b.hi); }
  void grow(float3 p) { lo = min3(lo, p); hi = max3(hi, p); }
  // Halves first: lo + hi overflows to inf for a box near the float range's end (3.4e38).
  float3 center() const { return lo * 0.5f + hi * 0.5f; }
  float area() const {
    float3 e = hi - lo;
    return (e.x < 0.0f) ? 0.0f : 2.0f * (e.x * e.y + e.y * e.z + e.z * e.x);
  }
  bool valid() const { return lo.x <= hi.x && lo.y <= hi.y && lo.z <= hi.z; }
};

struct Bvh {
  std::vector<Bvh4Node> nodes;      // nodes[0] is the root
  std::vector<uint32_t> prim_order; // leaf slot -> caller's primitive index
  Aabb bounds;
};

// Builds a BVH over `prims` (one box per primitive). Uses the pool's threads.
// `primitive_cost`: what intersecting one primitive costs, in triangle tests (the SAH weighs
// leaves by it; an instance, a whole BVH walk, costs far more than a triangle).
Bvh build_bvh(const std::vector<Aabb> &prims, ThreadPool &pool, float primitive_cost = 1.0f);

}  // namespace optica
