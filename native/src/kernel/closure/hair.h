// Hair closures as Cycles renders them.
//
// Chiang et al. 2016 ("A practical and controllable hair and fur model for production path
// tracing"), Cycles' Principled Hair BSDF › Chiang: a dielectric fibre of absorption sigma whose
// scattering splits into R, TT, TRT and a residual TRRT+ lobe, each a longitudinal term Mp
// (d'Eon's, with a log-space form for low variance) times an azimuthal term Np (a trimmed
// logistic), weighted by the attenuation Ap of the Fresnel term and the absorption along the
// path through the fibre. Evaluated in the frame X = the curve tangent, Y = X × wi, Z = X × Y;
// h ∈ [-1, 1] is where the ray crossed the fibre (0: through its axis).
//
// Kajiya-Kay-like reflection and transmission (Cycles' bsdf_hair.h, the Hair BSDF node) around
// the tangent T with longitudinal (roughness1) and azimuthal (roughness2) widths and an offset.
//
// Closure fields: Chiang — N = Y, T = X, f0 = sigma, alpha_x = v (longitudinal variance),
// alpha_y = s (logistic scale), exponent = the R lobe's variance (coat), ior = eta,
// f90 = (tilt α, h, unused), reflection_tint = the R, TT, TRT lobe scales (1 for Chiang).
// Kajiya-Kay — N, T, alpha_x = roughness1, alpha_y = roughness2, exponent = offset.
// Both: lobes = 1 on a curve (Cycles does not apply its bump shadowing to curves), 0 on a mesh.
#pragma once
#include "microfacet.h"

namespace optica {

constexpr float kHairSqrtPiOver8 = 0.62666270966f;  // sqrt(π / 8)

OPTICA_HD float hair_cos_from_sin(float s) { return safe_sqrt(1.0f - s * s); }
OPTICA_HD float hair_safe_asin(float s) { return asinf(clampf(s, -1.0f, 1.0f)); }
OPTICA_HD float hair_pow20(float x) {
  float x2 = x * x, x4 = x2 * x2, x5 = x4 * x;
  float x10 = x5 * x5;
  return x10 * x10;
}
OPTICA_HD float hair_pow22(float x) { return hair_pow20(x) * x * x; }

// Change of azimuth of the p-th order path.
OPTICA_HD float hair_delta_phi(int p, float gamma_o, float gamma_t) {
  return 2.0f * float(p) * gamma_t - 2.0f * gamma_o + float(p) * kPi;
}

OPTICA_HD float hair_wrap_angle(float a) {
  return (a + kPi) - 2.0f * kPi * floorf((a + kPi) / (2.0f * kPi)) - kPi;
}

OPTICA_HD float hair_logistic(float x, float s) {
  float v = expf(-fabsf(x) / s);
  return v / (s * sqr(1.0f + v));
}

OPTICA_HD float hair_logistic_cdf(float x, float s) {
  float arg = -x / s;
  if (arg > 88.0f) return 0.0f;  // expf overflows
  return 1.0f / (1.0f + expf(arg));
}

// The modified Bessel function I0 by its series (Cycles' ten terms).
OPTICA_HD float hair_bessel_i0(float x) {
  x = x * x;
  float val = 1.0f + 0.25f * x;
  float pow_x = x * x;
  float fac2 = 1.0f;  // (i!)²
  float pow4 = 16.0f;
  for (int i = 2; i < 10; ++i) {
    fac2 *= float(i * i);
    float next = val + pow_x / (pow4 * fac2);
    if (next == val) return val;
    val = next;
    pow_x *= x;
    pow4 *= 4.0f;
  }
  return val;
}

OPTICA_HD float hair_log_bessel_i0(float x) {
  if (x > 12.0f) return x + 0.5f * (1.0f / (8.0f * x) - 1.83787706641f - logf(x));  // log(2π)
  return logf(hair_bessel_i0(x));
}

// The logistic restricted to [-π, π] (normalised there).
OPTICA_HD float hair_trimmed_logistic(float x, float s) {
  float scale = 1.0f - 2.0f * hair_logistic_cdf(-kPi, s);
  return safe_divide(hair_logistic(x, s), scale);
}

OPTICA_HD float hair_sample_trimmed_logistic(float u, float s) {
  float cdf_lo = hair_logistic_cdf(-kPi, s);
  float x = -s * logf(1.0f / (u * (1.0f - 2.0f * cdf_lo) + cdf_lo) - 1.0f);
  return clampf(x, -kPi, kPi);
}

OPTICA_HD float hair_azimuthal(float phi, int p, float s, float gamma_o, float gamma_t) {
  return hair_trimmed_logistic(hair_wrap_angle(phi - hair_delta_phi(p, gamma_o, gamma_t)), s);
}

// Mp: d'Eon et al.'s longitudinal term; for v ≤ 0.1 in log space (Cycles' low-variance form).
OPTICA_HD float hair_longitudinal(float sin_i, float cos_i, float sin_o, float cos_o, float v) {
  float inv_v = 1.0f / v;
  float cos_arg = cos_i * cos_o * inv_v;
  float sin_arg = sin_i * sin_o * inv_v;
  if (v <= 0.1f) return expf(hair_log_bessel_i0(cos_arg) - sin_arg - inv_v + 0.6931f + logf(0.5f * inv_v));
  return expf(-sin_arg) * hair_bessel_i0(cos_arg) / (sinhf(inv_v) * 2.0f * v);
}

// ---- setup

// Roughness (longitudinal), radial roughness, coat, tilt (the node's Offset, radians), IOR and
// absorption as the Principled Hair node hands them; X the unit tangent, wi the view, h the
// crossing offset. Cycles' bsdf_hair_chiang_setup.
OPTICA_HD void hair_chiang_setup(Closure &c, float3 X, float3 wi, float h, float roughness, float radial_roughness,
                                 float coat, float tilt, float ior, float3 sigma) {
  float v = clampf(roughness, 0.001f, 1.0f);
  float s = clampf(radial_roughness, 0.001f, 1.0f);
  float m0 = clampf((1.0f - clampf(coat, 0.0f, 1.0f)) * v, 0.001f, 1.0f);
  c.alpha_x = sqr(0.726f * v + 0.812f * v * v + 3.700f * hair_pow20(v));
  c.alpha_y = (0.265f * s + 1.194f * s * s + 5.372f * hair_pow22(s)) * kHairSqrtPiOver8;
  c.exponent = sqr(0.726f * m0 + 0.812f * m0 * m0 + 3.700f * hair_pow20(m0));
  float3 Y = safe_normalize_or(cross(X, wi), make3(0.0f));
  c.T = X;
  c.N = Y;
  c.ior = ior;
  c.f0 = sigma;
  c.f90 = make3(-tilt, clampf(h, -1.0f, 1.0f), 0.0f);
  c.reflection_tint = make3(1.0f);
}

OPTICA_HD float hair_albedo_roughness_scale(float x) {
  return (((((0.245f * x) + 5.574f) * x - 10.73f) * x + 2.532f) * x - 0.215f) * x + 5.969f;
}

OPTICA_HD float3 hair_sigma_from_reflectance(float3 color, float radial_roughness) {
  float k = hair_albedo_roughness_scale(radial_roughness);
  float3 c = max3(color, make3(0.0f));
  float3 l = make3(logf(c.x), logf(c.y), logf(c.z)) / k;
  return l * l;
}

OPTICA_HD float3 hair_sigma_from_concentration(float eumelanin, float pheomelanin) {
  return make3(0.506f, 0.841f, 1.653f) * eumelanin + make3(0.343f, 0.733f, 1.924f) * pheomelanin;
}

// ---- evaluation

// What both eval and sample need about the view: angles, and the attenuations of the lobes.
struct HairChiangView {
  float3 X, Y, Z;
  float sin_theta_o, cos_theta_o, phi_o, gamma_o, gamma_t;
  float3 Ap[4];
  float Ap_energy[4];
  float angles[6];  // sin/cos of the view tilted by the cuticle for R, TT, TRT
};

OPTICA_HD void hair_chiang_view(const Closure &c, float3 wi, HairChiangView &hv) {
  hv.X = c.T;
  hv.Y = c.N;
  hv.Z = safe_normalize_or(cross(hv.X, hv.Y), make3(0.0f));
  float eta = c.ior;
  hv.sin_theta_o = dot(wi, hv.X);
  hv.cos_theta_o = hair_cos_from_sin(hv.sin_theta_o);
  hv.phi_o = atan2f(dot(wi, hv.Z), dot(wi, hv.Y));
  float sin_theta_t = hv.sin_theta_o / eta;
  float cos_theta_t = hair_cos_from_sin(sin_theta_t);
  float sin_gamma_o = c.f90.y;
  float cos_gamma_o = hair_cos_from_sin(sin_gamma_o);
  hv.gamma_o = hair_safe_asin(sin_gamma_o);
  float sin_gamma_t = sin_gamma_o * hv.cos_theta_o / sqrtf(sqr(eta) - sqr(hv.sin_theta_o));
  float cos_gamma_t = hair_cos_from_sin(sin_gamma_t);
  hv.gamma_t = hair_safe_asin(sin_gamma_t);
  float3 tr = c.f0 * (-2.0f * cos_gamma_t / cos_theta_t);
  float3 T = make3(expf(tr.x), expf(tr.y), expf(tr.z));
  float f = fresnel_dielectric_cos(hv.cos_theta_o * cos_gamma_o, eta);
  // Attenuations of R, TT, TRT and the residual TRRT+, and their grey shares for sampling.
  hv.Ap[0] = make3(f);
  float3 col = T * sqr(1.0f - f);
  hv.Ap[1] = col;
  col = col * T * f;
  hv.Ap[2] = col;
  float3 tf = T * f;
  col = col * make3(safe_divide(tf.x, 1.0f - tf.x), safe_divide(tf.y, 1.0f - tf.y), safe_divide(tf.z, 1.0f - tf.z));
  hv.Ap[3] = col;
  hv.Ap[0] *= c.reflection_tint.x;
  hv.Ap[1] *= c.reflection_tint.y;
  hv.Ap[2] *= c.reflection_tint.z;
  hv.Ap[3] *= c.reflection_tint.z;
  float total = 0.0f;
  for (int i = 0; i < 4; ++i) {
    hv.Ap_energy[i] = luminance(hv.Ap[i]);
    total += hv.Ap_energy[i];
  }
  float inv = safe_divide(1.0f, total);
  for (int i = 0; i < 4; ++i) hv.Ap_energy[i] *= inv;
  // Cuticle tilt (c.f90.x): R tilts the view by 2α, TT by −α, TRT by −4α (Cycles' order).
  float s1 = sinf(c.f90.x), c1 = hair_cos_from_sin(s1);
  float s2 = 2.0f * s1 * c1, c2 = c1 * c1 - s1 * s1;
  float s4 = 2.0f * s2 * c2, c4 = c2 * c2 - s2 * s2;
  float so = hv.sin_theta_o, co = hv.cos_theta_o;
  hv.angles[0] = so * c2 - co * s2;
  hv.angles[1] = fabsf(co * c2 + so * s2);
  hv.angles[2] = so * c1 + co * s1;
  hv.angles[3] = fabsf(co * c1 - so * s1);
  hv.angles[4] = so * c4 + co * s4;
  hv.angles[5] = fabsf(co * c4 - so * s4);
}

// f·cos for the light direction wo, and its pdf (the lobes' Mp·Np by their grey shares).
OPTICA_HD float3 hair_chiang_lobes(const Closure &c, const HairChiangView &hv, float3 wo, float &pdf) {
  float sin_theta_i = dot(wo, hv.X);
  float cos_theta_i = hair_cos_from_sin(sin_theta_i);
  float phi = atan2f(dot(wo, hv.Z), dot(wo, hv.Y)) - hv.phi_o;
  float3 F = make3(0.0f);
  float energy = 0.0f;
  for (int i = 0; i < 3; ++i) {
    float v = i == 0 ? c.exponent : (i == 1 ? 0.25f * c.alpha_x : 4.0f * c.alpha_x);
    float mp = hair_longitudinal(sin_theta_i, cos_theta_i, hv.angles[2 * i], hv.angles[2 * i + 1], v);
    float np = hair_azimuthal(phi, i, c.alpha_y, hv.gamma_o, hv.gamma_t);
    F += hv.Ap[i] * (mp * np);
    energy += hv.Ap_energy[i] * mp * np;
  }
  float mp = hair_longitudinal(sin_theta_i, cos_theta_i, hv.sin_theta_o, hv.cos_theta_o, 4.0f * c.alpha_x);
  float np = 0.5f * kInvPi;
  F += hv.Ap[3] * (mp * np);
  energy += hv.Ap_energy[3] * mp * np;
  pdf = energy;
  return F;
}

OPTICA_HD float3 hair_chiang_eval(const Closure &c, float3 wi, float3 wo, float &pdf) {
  HairChiangView hv;
  hair_chiang_view(c, wi, hv);
  return hair_chiang_lobes(c, hv, wo, pdf);
}

// Picks a lobe by u3, the longitudinal angle by u2, the azimuth by u1 (Cycles' rand.z, y, x).
OPTICA_HD bool hair_chiang_sample(const Closure &c, float3 wi, float u1, float u2, float u3, BsdfSample &s) {
  HairChiangView hv;
  hair_chiang_view(c, wi, hv);
  int p = 0;
  for (; p < 3; ++p) {
    if (u3 < hv.Ap_energy[p]) break;
    u3 -= hv.Ap_energy[p];
  }
  if (!(hv.Ap_energy[p] > 0.0f)) return false;
  u3 /= hv.Ap_energy[p];
  float v = c.alpha_x;
  if (p == 1) v *= 0.25f;
  if (p >= 2) v *= 4.0f;
  float sin_o = hv.sin_theta_o, cos_o = hv.cos_theta_o;
  if (p < 3) {
    sin_o = hv.angles[2 * p];
    cos_o = hv.angles[2 * p + 1];
  }
  u3 = maxf(u3, 1e-5f);
  float fac = 1.0f + v * logf(u3 + (1.0f - u3) * expf(-2.0f / v));
  float sin_theta_i = -fac * sin_o + hair_cos_from_sin(fac) * cosf(2.0f * kPi * u2) * cos_o;
  float cos_theta_i = hair_cos_from_sin(sin_theta_i);
  float phi = p < 3 ? hair_delta_phi(p, hv.gamma_o, hv.gamma_t) + hair_sample_trimmed_logistic(u1, c.alpha_y)
                    : 2.0f * kPi * u1;
  float phi_i = hv.phi_o + phi;
  s.wo = hv.Y * (cos_theta_i * cosf(phi_i)) + hv.Z * (cos_theta_i * sinf(phi_i)) + hv.X * sin_theta_i;
  s.eval = hair_chiang_lobes(c, hv, s.wo, s.pdf);
  s.transmit = p != 0;
  s.singular = false;
  return s.pdf > 0.0f;
}

// Cycles' bsdf_hair_chiang_albedo (the denoiser's albedo guide).
OPTICA_HD float3 hair_chiang_albedo(const Closure &c, float3 wi) {
  float cos_theta_o = hair_cos_from_sin(dot(wi, c.T));
  float cos_gamma_o = hair_cos_from_sin(c.f90.y);
  float f = fresnel_dielectric_cos(cos_theta_o * cos_gamma_o, c.ior);
  float k = hair_albedo_roughness_scale(c.alpha_x);
  return make3(expf(-sqrtf(c.f0.x) * k), expf(-sqrtf(c.f0.y) * k), expf(-sqrtf(c.f0.z) * k)) + make3(f);
}

// ---- Kajiya-Kay (Hair BSDF)

OPTICA_HD void hair_kajiya_setup(Closure &c, float3 n, float3 t, float roughness1, float roughness2, float offset) {
  c.N = n;
  c.T = t;
  c.alpha_x = clampf(roughness1, 0.001f, 1.0f);
  c.alpha_y = clampf(roughness2, 0.001f, 1.0f);
  c.exponent = offset;
}

// The longitudinal pdf's bounds: b (−π/2 side) and a (π/2 side) in the Cauchy's angle.
OPTICA_HD void hair_kajiya_bounds(const Closure &c, float theta_r, float &a, float &b) {
  float inv_r1 = 1.0f / c.alpha_x;
  a = atanf(((0.5f * kPi + theta_r) * 0.5f - c.exponent) * inv_r1);
  b = atanf(((-0.5f * kPi + theta_r) * 0.5f - c.exponent) * inv_r1);
}

OPTICA_HD float hair_kajiya_theta_pdf(const Closure &c, float theta_i, float theta_r, float a, float b) {
  float t = 0.5f * (theta_i + theta_r) - c.exponent;
  return c.alpha_x / (2.0f * (t * t + sqr(c.alpha_x)) * (a - b) * cosf(theta_i));
}

// f·cos (= pdf, Cycles' lobes are normalised) for either component.
OPTICA_HD float3 hair_kajiya_eval(const Closure &c, float3 wi, float3 wo, float &pdf) {
  pdf = 0.0f;
  bool transmission = c.type == kClosureHairTransmission;
  if (transmission ? dot(c.N, wo) >= 0.0f : dot(c.N, wo) < 0.0f) return make3(0.0f);
  float iz = dot(c.T, wi);
  float3 locy = normalize(wi - c.T * iz);
  float theta_r = 0.5f * kPi - acosf(clampf(iz, -1.0f, 1.0f));
  float oz = dot(c.T, wo);
  float3 oy = normalize(wo - c.T * oz);
  float theta_i = 0.5f * kPi - acosf(clampf(oz, -1.0f, 1.0f));
  float cos_phi = clampf(dot(oy, locy), -1.0f, 1.0f);
  if (0.5f * kPi - fabsf(theta_i) < 0.001f) return make3(0.0f);
  float a, b;
  hair_kajiya_bounds(c, theta_r, a, b);
  float theta_pdf = hair_kajiya_theta_pdf(c, theta_i, theta_r, a, b);
  float phi_pdf;
  if (!transmission) {
    if (cos_phi < 0.0f) return make3(0.0f);
    float phi = acosf(cos_phi) / c.alpha_y;
    phi = fabsf(phi) < kPi ? phi : kPi;
    phi_pdf = cosf(0.5f * phi) * 0.25f / c.alpha_y;
  } else {
    float c_tt = 2.0f * atanf(0.5f * kPi / c.alpha_y);
    float p = kPi - acosf(cos_phi);
    phi_pdf = c.alpha_y / (c_tt * (p * p + sqr(c.alpha_y)));
  }
  pdf = phi_pdf * theta_pdf;
  return make3(pdf);
}

// As Cycles samples it. The reflection's sampled azimuth pdf is Cycles' cos(φ/2)/(4·r2), which
// differs from its evaluated cos(φ/(2·r2))/(4·r2) unless r2 = 1; the sample weight (1) is Cycles'.
OPTICA_HD bool hair_kajiya_sample(const Closure &c, float3 wi, float u1, float u2, BsdfSample &s) {
  bool transmission = c.type == kClosureHairTransmission;
  float iz = dot(c.T, wi);
  float3 locy = normalize(wi - c.T * iz);
  float3 locx = cross(locy, c.T);
  float theta_r = 0.5f * kPi - acosf(clampf(iz, -1.0f, 1.0f));
  float a, b;
  hair_kajiya_bounds(c, theta_r, a, b);
  float t = c.alpha_x * tanf(u1 * (a - b) + b);
  float theta_i = 2.0f * (t + c.exponent) - theta_r;
  float theta_pdf = hair_kajiya_theta_pdf(c, theta_i, theta_r, a, b);
  float phi, phi_pdf;
  if (!transmission) {
    phi = 2.0f * hair_safe_asin(1.0f - 2.0f * u2) * c.alpha_y;
    phi_pdf = cosf(0.5f * phi) * 0.25f / c.alpha_y;
  } else {
    float c_tt = 2.0f * atanf(0.5f * kPi / c.alpha_y);
    float p = c.alpha_y * tanf(c_tt * (u2 - 0.5f));
    phi = p + kPi;
    phi_pdf = c.alpha_y / (c_tt * (p * p + sqr(c.alpha_y)));
  }
  float ct = cosf(theta_i), st = sinf(theta_i);
  s.wo = locy * (cosf(phi) * ct) - locx * (sinf(phi) * ct) + c.T * st;
  s.pdf = fabsf(phi_pdf * theta_pdf);
  if (0.5f * kPi - fabsf(theta_i) < 0.001f) s.pdf = 0.0f;
  s.eval = make3(s.pdf);
  s.transmit = transmission;
  s.singular = false;
  return s.pdf > 0.0f;
}

}  // namespace optica
