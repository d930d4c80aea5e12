// Warping functions from the unit square; every pdf is per unit solid angle unless named.
#pragma once
#include "defs.h"

namespace optica {

OPTICA_HD float2 sample_concentric_disk(float u1, float u2) {
  float ox = 2.0f * u1 - 1.0f, oy = 2.0f * u2 - 1.0f;
  if (ox == 0.0f && oy == 0.0f) return {0.0f, 0.0f};
  float r, theta;
  if (fabsf(ox) > fabsf(oy)) { r = ox; theta = (kPi / 4.0f) * (oy / ox); }
  else { r = oy; theta = (kPi / 2.0f) - (kPi / 4.0f) * (ox / oy); }
  return {r * cosf(theta), r * sinf(theta)};
}

// Uniform point in a regular polygon with `blades` corners inscribed in the unit circle.
OPTICA_HD float2 sample_polygon(float u1, float u2, int blades, float rotation) {
  float f = u1 * blades;
  int corner = int(f);
  if (corner >= blades) corner = blades - 1;
  float u = f - corner;  // reuse the remainder as a fresh uniform number
  float a0 = rotation + 2.0f * kPi * corner / blades;
  float a1 = rotation + 2.0f * kPi * (corner + 1) / blades;
  // Uniform point in the triangle (centre, corner a0, corner a1).
  float su = sqrtf(u);
  float b1 = su * (1.0f - u2), b2 = su * u2;
  return {b1 * cosf(a0) + b2 * cosf(a1), b1 * sinf(a0) + b2 * sinf(a1)};
}

OPTICA_HD float3 sample_cosine_hemisphere(float u1, float u2) {
  float2 d = sample_concentric_disk(u1, u2);
  float z = safe_sqrt(1.0f - d.x * d.x - d.y * d.y);
  return make3(d.x, d.y, z);
}

OPTICA_HD float3 sample_uniform_sphere(float u1, float u2) {
  float z = 1.0f - 2.0f * u1;
  float r = safe_sqrt(1.0f - z * z);
  float phi = 2.0f * kPi * u2;
  return make3(r * cosf(phi), r * sinf(phi), z);
}

// Uniform direction in the cone around +Z with cos(half angle) = cos_max.
OPTICA_HD float3 sample_uniform_cone(float u1, float u2, float cos_max) {
  float cos_t = 1.0f - u1 * (1.0f - cos_max);
  float sin_t = safe_sqrt(1.0f - cos_t * cos_t);
  float phi = 2.0f * kPi * u2;
  return make3(sin_t * cosf(phi), sin_t * sinf(phi), cos_t);
}
OPTICA_HD float uniform_cone_pdf(float cos_max) { return 1.0f / (2.0f * kPi * (1.0f - cos_max)); }

OPTICA_HD float power_heuristic(float a, float b) {
  float a2 = a * a, b2 = b * b;
  return (a2 + b2) > 0.0f ? a2 / (a2 + b2) : 0.0f;
}

OPTICA_HD float smoothstep01(float x) {
  x = clampf(x, 0.0f, 1.0f);
  return x * x * (3.0f - 2.0f * x);
}

}  // namespace optica
