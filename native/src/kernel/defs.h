// Shared definitions for kernel code that the CPU backend compiles today and a CUDA/OptiX
// backend could compile later: no STL containers, no virtual calls, no exceptions.
#pragma once
#include <cstdint>
#include <cmath>

#if defined(__CUDACC__)
#define OPTICA_HD __host__ __device__ __forceinline__
// For large functions called from several places (the shader interpreter): one copy, called.
#define OPTICA_HD_CALLED __host__ __device__ __noinline__
#else
#define OPTICA_HD inline __attribute__((always_inline))
#define OPTICA_HD_CALLED inline __attribute__((noinline))
#endif

namespace optica {

constexpr float kPi = 3.14159265358979323846f;
constexpr float kInvPi = 0.31830988618379067154f;
constexpr float kInf = INFINITY;
// Depth written where a camera ray hits nothing (Cycles writes 1e10 there too).
constexpr float kMissDepth = 1e10f;

// Plain comparisons: fmaxf/fminf are library calls on x86-64-v2 (NaN rules), these are one
// instruction each.
OPTICA_HD float maxf(float a, float b) { return a > b ? a : b; }
OPTICA_HD float minf(float a, float b) { return a < b ? a : b; }

struct float2 { float x, y; };

struct float3 {
  float x, y, z;
  OPTICA_HD float operator[](int i) const { return i == 0 ? x : (i == 1 ? y : z); }
  OPTICA_HD float &operator[](int i) { return i == 0 ? x : (i == 1 ? y : z); }
};

OPTICA_HD float3 make3(float x, float y, float z) { return float3{x, y, z}; }
OPTICA_HD float3 make3(float v) { return float3{v, v, v}; }
OPTICA_HD float3 operator+(float3 a, float3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
OPTICA_HD float3 operator-(float3 a, float3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
OPTICA_HD float3 operator-(float3 a) { return {-a.x, -a.y, -a.z}; }
OPTICA_HD float3 operator*(float3 a, float3 b) { return {a.x * b.x, a.y * b.y, a.z * b.z}; }
OPTICA_HD float3 operator*(float3 a, float s) { return {a.x * s, a.y * s, a.z * s}; }
OPTICA_HD float3 operator*(float s, float3 a) { return {a.x * s, a.y * s, a.z * s}; }
OPTICA_HD float3 operator/(float3 a, float s) { float r = 1.0f / s; return a * r; }
OPTICA_HD float3 operator/(float3 a, float3 b) { return {a.x / b.x, a.y / b.y, a.z / b.z}; }
OPTICA_HD float3 &operator+=(float3 &a, float3 b) { a = a + b; return a; }
OPTICA_HD float3 &operator*=(float3 &a, float3 b) { a = a * b; return a; }
OPTICA_HD float3 &operator*=(float3 &a, float s) { a = a * s; return a; }
OPTICA_HD float dot(float3 a, float3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
OPTICA_HD float3 cross(float3 a, float3 b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
OPTICA_HD float length(float3 a) { return sqrtf(dot(a, a)); }
OPTICA_HD float3 normalize(float3 a) {
  float l2 = dot(a, a);
  if (l2 > 0.0f && l2 < kInf) return a * (1.0f / sqrtf(l2));
  // Rare: the squared length over- or underflowed (components beyond ~1e19 or below ~1e-19), or
  // `a` holds NaN/Inf. Rescale by the largest component; a direction of zero or NaN length
  // becomes +Z, so no ray ever carries a NaN direction into traversal.
  float m = fmaxf(fabsf(a.x), fmaxf(fabsf(a.y), fabsf(a.z)));
  if (!(m > 0.0f) || !(m < kInf)) return make3(0.0f, 0.0f, 1.0f);
  a = make3(a.x / m, a.y / m, a.z / m);  // divided, not multiplied: 1 / m overflows for subnormal m
  return a * (1.0f / sqrtf(dot(a, a)));
}
OPTICA_HD float3 min3(float3 a, float3 b) { return {minf(a.x, b.x), minf(a.y, b.y), minf(a.z, b.z)}; }
OPTICA_HD float3 max3(float3 a, float3 b) { return {maxf(a.x, b.x), maxf(a.y, b.y), maxf(a.z, b.z)}; }
OPTICA_HD float max_component(float3 a) { return maxf(a.x, maxf(a.y, a.z)); }
OPTICA_HD float luminance(float3 c) { return 0.2126f * c.x + 0.7152f * c.y + 0.0722f * c.z; }
OPTICA_HD bool is_black(float3 c) { return c.x <= 0.0f && c.y <= 0.0f && c.z <= 0.0f; }
OPTICA_HD float clampf(float v, float lo, float hi) { return minf(maxf(v, lo), hi); }
OPTICA_HD float sqr(float v) { return v * v; }
OPTICA_HD float safe_sqrt(float v) { return sqrtf(maxf(v, 0.0f)); }
OPTICA_HD float saturatef(float v) { return clampf(v, 0.0f, 1.0f); }
OPTICA_HD float average(float3 c) { return (c.x + c.y + c.z) * (1.0f / 3.0f); }
OPTICA_HD float3 saturate3(float3 c) { return make3(saturatef(c.x), saturatef(c.y), saturatef(c.z)); }
OPTICA_HD float3 mix3(float3 a, float3 b, float t) { return a * (1.0f - t) + b * t; }
OPTICA_HD float mixf(float a, float b, float t) { return a * (1.0f - t) + b * t; }
OPTICA_HD bool is_zero3(float3 c) { return c.x == 0.0f && c.y == 0.0f && c.z == 0.0f; }
OPTICA_HD bool equal3(float3 a, float3 b) { return a.x == b.x && a.y == b.y && a.z == b.z; }
OPTICA_HD float len_squared(float3 a) { return dot(a, a); }
// Unit vector, or `fallback` for a zero vector.
OPTICA_HD float3 safe_normalize_or(float3 a, float3 fallback) {
  float l2 = dot(a, a);
  return l2 > 0.0f ? a * (1.0f / sqrtf(l2)) : fallback;
}
OPTICA_HD float safe_divide(float a, float b) { return b != 0.0f ? a / b : 0.0f; }

// Orthonormal basis around n (Duff et al. 2017, "Building an Orthonormal Basis, Revisited").
struct Frame {
  float3 t, b, n;
  OPTICA_HD static Frame from_normal(float3 n) {
    float sign = copysignf(1.0f, n.z);
    float a = -1.0f / (sign + n.z);
    float bb = n.x * n.y * a;
    Frame f;
    f.t = make3(1.0f + sign * n.x * n.x * a, sign * bb, -sign * n.x);
    f.b = make3(bb, sign + n.y * n.y * a, -n.y);
    f.n = n;
    return f;
  }
  OPTICA_HD float3 to_local(float3 v) const { return make3(dot(v, t), dot(v, b), dot(v, n)); }
  OPTICA_HD float3 to_world(float3 v) const { return t * v.x + b * v.y + n * v.z; }
};

// Affine 3×4 transform, row-major (the top three rows of a Blender matrix).
struct Affine {
  float m[12];
  OPTICA_HD float3 point(float3 p) const {
    return make3(m[0] * p.x + m[1] * p.y + m[2] * p.z + m[3],
                 m[4] * p.x + m[5] * p.y + m[6] * p.z + m[7],
                 m[8] * p.x + m[9] * p.y + m[10] * p.z + m[11]);
  }
  OPTICA_HD float3 vector(float3 v) const {
    return make3(m[0] * v.x + m[1] * v.y + m[2] * v.z,
                 m[4] * v.x + m[5] * v.y + m[6] * v.z,
                 m[8] * v.x + m[9] * v.y + m[10] * v.z);
  }
  // Normals transform by the inverse transpose; `inv` is this transform's inverse.
  OPTICA_HD static float3 normal(const Affine &inv, float3 n) {
    return make3(inv.m[0] * n.x + inv.m[4] * n.y + inv.m[8] * n.z,
                 inv.m[1] * n.x + inv.m[5] * n.y + inv.m[9] * n.z,
                 inv.m[2] * n.x + inv.m[6] * n.y + inv.m[10] * n.z);
  }
};

struct Ray {
  float3 o;
  float tmin;
  float3 d;
  float tmax;
  // Ray cone (Cycles' compact differentials): footprint radius at the origin and its growth
  // per unit distance; texture filtering widths and the Bump node read them.
  float dP, dD;
  // Time over the shutter, τ ∈ [0, 1] (kernel/motion.h); read only in scenes with motion.
  float time;
};

}  // namespace optica
