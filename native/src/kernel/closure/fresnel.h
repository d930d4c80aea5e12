// Fresnel terms of the closures, with Cycles' definitions: the exact dielectric, the
// generalized Schlick remap used by the Principled BSDF, the F82-tint metal and the complex
// conductor, plus their hemispherical averages (for multiscatter colour).
#pragma once
#include "../defs.h"

namespace optica {

// Reflectance of a dielectric interface of relative IOR eta seen at cos_i; writes the cosine
// of the refracted direction (negative: below the surface) when there is one.
OPTICA_HD float fresnel_dielectric(float cos_i, float eta, float *cos_t_out) {
  float eta_cos_t_sq = eta * eta - (1.0f - cos_i * cos_i);
  if (eta_cos_t_sq <= 0.0f) return 1.0f;  // total internal reflection
  cos_i = fabsf(cos_i);
  float cos_t = -sqrtf(eta_cos_t_sq) / eta;
  if (cos_t_out) *cos_t_out = cos_t;
  float rs = (cos_i + eta * cos_t) / (cos_i - eta * cos_t);
  float rp = (cos_t + eta * cos_i) / (eta * cos_i - cos_t);
  return 0.5f * (rs * rs + rp * rp);
}

// The same reflectance without the refracted direction (the Fresnel and Layer Weight nodes).
OPTICA_HD float fresnel_dielectric_cos(float cosi, float eta) {
  float c = fabsf(cosi);
  float g = eta * eta - 1.0f + c * c;
  if (g <= 0.0f) return 1.0f;
  g = sqrtf(g);
  float a = (g - c) / (g + c);
  float b = (c * (g + c) - 1.0f) / (c * (g - c) + 1.0f);
  return 0.5f * a * a * (1.0f + b * b);
}

OPTICA_HD float f0_from_ior(float ior) { return sqr((ior - 1.0f) / (ior + 1.0f)); }
OPTICA_HD float ior_from_f0(float f0) {
  float s = sqrtf(clampf(f0, 0.0f, 0.99f));
  return (1.0f + s) / (1.0f - s);
}

// Average of 2·cos·F(cos) over the hemisphere for a dielectric (Kulla & Conty's fit).
OPTICA_HD float fresnel_dielectric_average(float eta) {
  if (eta < 1.0f) return 0.997118f + eta * (0.1014f - eta * (0.965241f + eta * 0.130607f));
  return (eta - 1.0f) / (4.08567f + 1.00071f * eta);
}

// ---- F82-tint (Kutz et al., "Novel aspects of the Adobe Standard Material")
// Schlick's curve minus b·cos·(1−cos)^6, with b chosen so that at cos = 1/7 (about 82°)
// the curve is Schlick's value times the tint.
OPTICA_HD float3 fresnel_f82tint_b(float3 f0, float3 tint) {
  const float f = 6.0f / 7.0f;
  const float f5 = sqr(sqr(f)) * f;
  float3 schlick = mix3(f0, make3(1.0f), f5);
  return schlick * (7.0f / (f5 * f)) * (make3(1.0f) - tint);
}
OPTICA_HD float3 fresnel_f82(float cosi, float3 f0, float3 b) {
  float s = saturatef(1.0f - cosi);
  float s5 = sqr(sqr(s)) * s;
  return saturate3(mix3(f0, make3(1.0f), s5) - b * (cosi * s5 * s));
}
OPTICA_HD float3 fresnel_f82_average(float3 f0, float3 b) {
  return mix3(f0, make3(1.0f), 1.0f / 21.0f) - b * (1.0f / 126.0f);
}
// b of the classic F82 model from the reflectance at 82°.
OPTICA_HD float3 fresnel_f82_b_from_value(float3 f0, float3 f82) {
  const float f = 6.0f / 7.0f;
  const float f5 = sqr(sqr(f)) * f;
  return (mix3(f0, make3(1.0f), f5) - f82) * (7.0f / (f5 * f));
}

// ---- Conductor with complex IOR n + ik, unpolarised.
OPTICA_HD float fresnel_conductor_channel(float cosi, float n, float k) {
  float t1 = n * n - k * k - (1.0f - cosi * cosi);
  float t2 = sqrtf(t1 * t1 + sqr(2.0f * n * k));
  float u2 = maxf(0.5f * (t2 + t1), 0.0f), v2 = maxf(0.5f * (t2 - t1), 0.0f);
  float u = sqrtf(u2), v = sqrtf(v2);
  float rs = safe_divide(sqr(cosi - u) + v2, sqr(cosi + u) + v2);
  float t3 = (n * n - k * k) * cosi, t4 = 2.0f * n * k * cosi;
  float rp = safe_divide(sqr(t3 - u) + sqr(t4 - v), sqr(t3 + u) + sqr(t4 + v));
  return 0.5f * (rs + rp);
}
OPTICA_HD float3 fresnel_conductor(float cosi, float3 n, float3 k) {
  return make3(fresnel_conductor_channel(cosi, n.x, k.x), fresnel_conductor_channel(cosi, n.y, k.y),
               fresnel_conductor_channel(cosi, n.z, k.z));
}
// Average of a conductor: fit F82 to it at 0° and ~82° and use that model's average.
OPTICA_HD float3 fresnel_conductor_average(float3 n, float3 k) {
  float3 f0 = fresnel_conductor(1.0f, n, k);
  float3 f82 = fresnel_conductor(1.0f / 7.0f, n, k);
  return saturate3(fresnel_f82_average(f0, fresnel_f82_b_from_value(f0, f82)));
}

}  // namespace optica
