// Diffuse lobes: Lambert, translucent Lambert, and Oren-Nayar as Cycles 4.3+ defines it
// (Fujii's improved model with the OpenPBR energy-compensation term), plus the sheen lobe.
#pragma once
#include "microfacet.h"

namespace optica {

OPTICA_HD float3 sample_cosine_around(float3 n, float u1, float u2, float &pdf) {
  float2 d = sample_uniform_disk(u1, u2);
  float cos_t = safe_sqrt(1.0f - d.x * d.x - d.y * d.y);
  float3 a, b;
  orthonormals(n, a, b);
  pdf = cos_t * kInvPi;
  return a * d.x + b * d.y + n * cos_t;
}

// ---- Oren-Nayar (alpha_x, alpha_y hold Fujii's A and B; f0 the multiscatter term)

OPTICA_HD float oren_nayar_g(float cos_t) {
  if (cos_t < 1e-6f) return (0.5f * kPi - 2.0f / 3.0f) - cos_t;
  float sin_t = safe_sqrt(1.0f - cos_t * cos_t);
  float theta = acosf(clampf(cos_t, -1.0f, 1.0f));
  return sin_t * (theta - 2.0f / 3.0f - sin_t * cos_t) + 2.0f / 3.0f * (sin_t / cos_t) * (1.0f - sqr(sin_t) * sin_t);
}

OPTICA_HD void oren_nayar_setup(Closure &c, float roughness, float3 color, float3 wi) {
  c.type = kClosureOrenNayar;
  float sigma = saturatef(roughness);
  float a = 1.0f / (kPi + sigma * (0.5f * kPi - 2.0f / 3.0f));
  float b = sigma * a;
  c.alpha_x = a;
  c.alpha_y = b;
  float3 albedo = saturate3(color);
  float e_avg = a * kPi + ((2.0f * kPi - 5.6f) / 3.0f) * b;
  float3 ems = albedo * albedo * (kInvPi * e_avg / (1.0f - e_avg)) / (make3(1.0f) - albedo * (1.0f - e_avg));
  float nv = maxf(dot(c.N, wi), 0.0f);
  float ev = a * kPi + b * oren_nayar_g(nv);
  c.f0 = ems * (1.0f - ev);
}

OPTICA_HD float3 oren_nayar_value(const Closure &c, float3 wi, float3 wo) {
  float nl = maxf(dot(c.N, wo), 0.0f);
  float a = c.alpha_x, b = c.alpha_y;
  if (b <= 0.0f) return make3(nl * kInvPi);
  float nv = maxf(dot(c.N, wi), 0.0f);
  float t = dot(wo, wi) - nl * nv;
  if (t > 0.0f) t /= maxf(nl, nv) + 1e-38f;
  float single = a + b * t;
  float el = a * kPi + b * oren_nayar_g(nl);
  return (make3(single) + c.f0 * (1.0f - el)) * nl;
}

// ---- Sheen. Cycles fits Zeltner et al.'s volumetric sheen with LTC tables we do not have;
// this lobe is an approximation with the same role: the "Charlie" microfiber distribution
// (Estevez & Kulla 2017) with Neubelt & Pettineo's visibility, normalised by its own
// tabulated albedo (sheen_E) so that layering attenuates the base like Cycles' sheen does.
// alpha_x holds the roughness.

OPTICA_HD float sheen_value(float roughness, float3 n, float3 wi, float3 wo) {
  float nl = dot(n, wo), nv = dot(n, wi);
  if (nl <= 0.0f || nv <= 0.0f) return 0.0f;
  float3 h = normalize(wi + wo);
  float cos_h = dot(n, h);
  float sin2 = maxf(1.0f - cos_h * cos_h, 0.0f);
  float r = maxf(roughness, 0.07f);
  float inv_r = 1.0f / r;
  float d = (2.0f + inv_r) * powf(sin2, 0.5f * inv_r) * (0.5f * kInvPi);
  float v = 1.0f / (4.0f * (nl + nv - nl * nv));
  return d * v * nl;  // f · cos θo
}

OPTICA_HD float sheen_albedo(const BsdfTables &t, float roughness, float cos_ni) {
  return table_read_2d(t.sheen_E, roughness, cos_ni, 32, 32);
}

}  // namespace optica
