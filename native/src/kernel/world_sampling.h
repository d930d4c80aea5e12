// Importance sampling of the world as a light (Cycles' background light): a 2D distribution
// over the equirectangular map of the world's radiance — average |RGB| × sin θ per pixel,
// rows' conditional CDFs and a marginal CDF over rows — built by the host from the world
// program evaluated at every map pixel's centre (src/world_map.cpp), sampled in next-event
// estimation and weighted by MIS against BSDF sampling.
#pragma once
#include "scene_data.h"
#include "svm/environment.h"
#include "svm/eval.h"

namespace optica {

// The world's radiance along `d` as a light sees it: no camera, glossy or diffuse flags
// (Cycles evaluates lights with PATH_RAY_EMISSION only).
OPTICA_HD float3 world_emission(const KernelScene &s, float3 d) {
  ShaderData sd;
  Ray ray;
  ray.o = make3(0.0f);
  ray.d = d;
  ray.tmin = 0.0f;
  ray.tmax = kInf;
  ray.dP = ray.dD = 0.0f;
  ray.time = 0.0f;
  shader_setup_background(ray, sd);
  sd.path = PathState{kPathEmission, 0, 0, 0, 0, 0};
  ClosureList cl;
  svm_eval(s, s.world, sd, cl);
  return cl.emission;
}

// The map's function value at pixel (x, y): what the CDFs are built from.
OPTICA_HD float world_map_weight(const KernelScene &s, int x, int y, int res_x, int res_y) {
  float u = (float(x) + 0.5f) / float(res_x), v = (float(y) + 0.5f) / float(res_y);
  float3 c = world_emission(s, equirectangular_to_direction(u, v));
  return (fabsf(c.x) + fabsf(c.y) + fabsf(c.z)) * (1.0f / 3.0f) * sinf(kPi * v);
}

// First index in [0, n) whose CDF value is >= u, minus one (clamped at 0): the bin u falls in.
OPTICA_HD int world_cdf_bin(const float2 *cdf, int n, float u) {
  int first = 0, count = n;
  while (count > 0) {
    int step = count >> 1, middle = first + step;
    if (cdf[middle].y < u) {
      first = middle + 1;
      count -= step + 1;
    } else {
      count = step;
    }
  }
  return first > 0 ? first - 1 : 0;
}

OPTICA_HD float world_inverse_lerp(float a, float b, float x) { return b > a ? (x - a) / (b - a) : 0.0f; }

// Solid-angle pdf of the map alone at direction d.
OPTICA_HD float world_map_only_pdf(const KernelScene &s, float3 d) {
  const WorldMapView &m = s.world_map;
  float2 uv = direction_to_equirectangular(d);
  float sin_theta = sinf(uv.y * kPi);
  if (sin_theta <= 0.0f) return 0.0f;
  int w = m.res_x + 1;
  int iu = int(uv.x * m.res_x), iv = int(uv.y * m.res_y);
  iu = iu < 0 ? 0 : (iu >= m.res_x ? m.res_x - 1 : iu);
  iv = iv < 0 ? 0 : (iv >= m.res_y ? m.res_y - 1 : iv);
  float row_total = m.conditional[iv * w + m.res_x].x, total = m.marginal[m.res_y].x;
  float denom = 2.0f * kPi * kPi * sin_theta * row_total * total;
  return denom > 0.0f ? m.conditional[iv * w + iu].x * m.marginal[iv].x / denom : 0.0f;
}

// A direction drawn from the map alone.
OPTICA_HD float3 world_map_only_sample(const KernelScene &s, float u1, float u2) {
  const WorldMapView &m = s.world_map;
  int w = m.res_x + 1;
  int iv = world_cdf_bin(m.marginal, m.res_y, u2);
  float v = (float(iv) + world_inverse_lerp(m.marginal[iv].y, m.marginal[iv + 1].y, u2)) / float(m.res_y);
  const float2 *row = m.conditional + size_t(iv) * size_t(w);
  int iu = world_cdf_bin(row, m.res_x, u1);
  float u = (float(iu) + world_inverse_lerp(row[iu].y, row[iu + 1].y, u1)) / float(m.res_x);
  return equirectangular_to_direction(u, v);
}

// Solid-angle pdf of world sampling at direction d (without the light selection probability):
// the map, mixed with the sun disc's cone where the world has one.
OPTICA_HD float world_map_pdf(const KernelScene &s, float3 d) {
  const WorldMapView &m = s.world_map;
  float pdf = world_map_only_pdf(s, d);
  if (m.sun_prob <= 0.0f) return pdf;
  float cone = dot(d, m.sun_dir) >= m.sun_cos ? 1.0f / (2.0f * kPi * (1.0f - m.sun_cos)) : 0.0f;
  return (1.0f - m.sun_prob) * pdf + m.sun_prob * cone;
}

// A direction drawn from the world's map (or its sun disc), and its solid-angle pdf (0: nothing
// to sample).
OPTICA_HD float3 world_map_sample(const KernelScene &s, float u1, float u2, float &pdf) {
  const WorldMapView &m = s.world_map;
  float3 d;
  if (m.sun_prob > 0.0f && u1 < m.sun_prob) {
    // Uniform over the disc's cone.
    float v1 = u1 / m.sun_prob;
    float cos_t = 1.0f - v1 * (1.0f - m.sun_cos), sin_t = safe_sqrt(1.0f - cos_t * cos_t);
    float phi = 2.0f * kPi * u2;
    float3 a, b;
    orthonormals(m.sun_dir, a, b);
    d = a * (sin_t * cosf(phi)) + b * (sin_t * sinf(phi)) + m.sun_dir * cos_t;
  } else {
    float v1 = m.sun_prob > 0.0f ? minf((u1 - m.sun_prob) / (1.0f - m.sun_prob), 0.99999994f) : u1;
    d = world_map_only_sample(s, v1, u2);
  }
  pdf = world_map_pdf(s, d);
  return d;
}

}  // namespace optica
