// Microfacet lobes (GGX and Beckmann, Smith height-correlated masking) for reflection,
// refraction and glass, with Cycles' Fresnel models, multiscatter-GGX energy compensation
// (Turquin-style scale with Kulla & Conty's multi-bounce Fresnel colour) and the albedo
// estimate Cycles uses to layer the Principled BSDF. GGX is sampled by its visible normals
// (Heitz 2018); Beckmann by its normal distribution. Both eval and sample return f·|cos θo|.
#pragma once
#include "closure.h"
#include "fresnel.h"
#include "tables.h"

namespace optica {

// Any orthonormal pair perpendicular to n (Cycles' make_orthonormals: the same basis matters
// only for reproducibility, not for the estimate).
OPTICA_HD void orthonormals(float3 n, float3 &a, float3 &b) {
  if (n.x != n.y || n.x != n.z) a = make3(n.z - n.y, n.x - n.z, n.y - n.x);
  else a = make3(n.z - n.y, n.x + n.z, -n.y - n.x);
  a = normalize(a);
  b = cross(n, a);
}
OPTICA_HD void orthonormals_with_tangent(float3 n, float3 t, float3 &a, float3 &b) {
  b = normalize(cross(n, t));
  a = cross(b, n);
}
OPTICA_HD float3 to_local(float3 v, float3 x, float3 y, float3 z) { return make3(dot(v, x), dot(v, y), dot(v, z)); }
OPTICA_HD float3 to_global(float3 v, float3 x, float3 y, float3 z) { return x * v.x + y * v.y + z * v.z; }

OPTICA_HD float2 sample_uniform_disk(float u1, float u2) {
  float a = 2.0f * u1 - 1.0f, b = 2.0f * u2 - 1.0f;
  if (a == 0.0f && b == 0.0f) return {0.0f, 0.0f};
  float r, phi;
  if (a * a > b * b) { r = a; phi = (kPi / 4.0f) * (b / a); }
  else { r = b; phi = (kPi / 2.0f) - (kPi / 4.0f) * (a / b); }
  return {r * cosf(phi), r * sinf(phi)};
}

// ---- distributions (alpha2 = alpha_x · alpha_y)

OPTICA_HD float mf_lambda_from_tan2(int dist, float sqr_alpha_tan_n) {
  if (dist == kDistGGX) return 0.5f * (sqrtf(1.0f + sqr_alpha_tan_n) - 1.0f);
  if (sqr_alpha_tan_n < 0.39f) return 0.0f;  // Beckmann: Walter et al.'s rational fit
  float a = 1.0f / sqrtf(sqr_alpha_tan_n);
  return ((0.396f * a - 1.259f) * a + 1.0f) / ((2.181f * a + 3.535f) * a);
}
OPTICA_HD float mf_lambda(int dist, float alpha2, float cos_n) {
  return mf_lambda_from_tan2(dist, alpha2 * maxf(1.0f / sqr(cos_n) - 1.0f, 0.0f));
}
OPTICA_HD float mf_lambda_aniso(int dist, float ax, float ay, float3 v) {
  return mf_lambda_from_tan2(dist, (sqr(ax * v.x) + sqr(ay * v.y)) / sqr(v.z));
}
OPTICA_HD float mf_d(int dist, float alpha2, float cos_nh) {
  float c2 = minf(sqr(cos_nh), 1.0f);
  float s2 = 1.0f - c2;
  if (dist == kDistBeckmann) return 1.0f / (expf(s2 / (c2 * alpha2)) * kPi * alpha2 * sqr(c2));
  return alpha2 / (kPi * sqr(s2 + alpha2 * c2));
}
OPTICA_HD float mf_d_aniso(int dist, float ax, float ay, float3 h) {
  h = make3(h.x / ax, h.y / ay, h.z);
  float c2 = sqr(h.z);
  float alpha2 = ax * ay;
  if (dist == kDistBeckmann) return expf(-(sqr(h.x) + sqr(h.y)) / c2) / (kPi * alpha2 * sqr(c2));
  return kInvPi / (alpha2 * sqr(len_squared(h)));
}

// Visible-normal sample of GGX seen from wi (local frame, wi.z > 0).
OPTICA_HD float3 ggx_sample_visible_normal(float3 wi, float ax, float ay, float u1, float u2) {
  float3 v = normalize(make3(ax * wi.x, ay * wi.y, wi.z));
  float lensq = sqr(v.x) + sqr(v.y);
  float3 t1, t2;
  if (lensq > 1e-7f) {
    t1 = make3(-v.y, v.x, 0.0f) * (1.0f / sqrtf(lensq));
    t2 = cross(v, t1);
  } else {
    t1 = make3(1.0f, 0.0f, 0.0f);
    t2 = make3(0.0f, 1.0f, 0.0f);
  }
  float2 t = sample_uniform_disk(u1, u2);
  t.y = mixf(safe_sqrt(1.0f - sqr(t.x)), t.y, 0.5f * (1.0f + v.z));
  float3 h = to_global(make3(t.x, t.y, safe_sqrt(1.0f - sqr(t.x) - sqr(t.y))), t1, t2, v);
  return normalize(make3(ax * h.x, ay * h.y, maxf(0.0f, h.z)));
}

// A Beckmann microfacet normal drawn from D(h)·cos θh (local frame).
OPTICA_HD float3 beckmann_sample_normal(float ax, float ay, float u1, float u2) {
  float phi = 2.0f * kPi * u2;
  float tan2;
  if (ax == ay) {
    tan2 = -ax * ax * logf(1.0f - u1);
  } else {
    // Azimuth by the inverse CDF of the elliptical distribution (pbrt's BeckmannSample).
    phi = atanf(ay / ax * tanf(2.0f * kPi * u2 + 0.5f * kPi));
    if (u2 > 0.5f) phi += kPi;
    float c = cosf(phi), s = sinf(phi);
    tan2 = -logf(1.0f - u1) / (sqr(c / ax) + sqr(s / ay));
  }
  float cos_t = 1.0f / sqrtf(1.0f + tan2);
  float sin_t = safe_sqrt(1.0f - cos_t * cos_t);
  return make3(sin_t * cosf(phi), sin_t * sinf(phi), cos_t);
}

// ---- Fresnel of a microfacet lobe: reflectance and transmittance at cos(H, wi)

OPTICA_HD void microfacet_fresnel(const Closure &c, float cos_hi, float *cos_ht, float3 &refl, float3 &trans) {
  bool has_refl = (c.lobes & kLobeReflect) != 0, has_trans = (c.lobes & kLobeRefract) != 0;
  switch (c.fresnel) {
    case kFresnelDielectric: {
      float f = fresnel_dielectric(cos_hi, c.ior, cos_ht);
      refl = make3(f);
      trans = make3(1.0f - f);
      break;
    }
    case kFresnelConductor:
      refl = fresnel_conductor(cos_hi, c.f0, c.f90);
      trans = make3(0.0f);
      break;
    case kFresnelF82Tint:
      refl = fresnel_f82(cos_hi, c.f0, c.f90);
      trans = make3(0.0f);
      break;
    case kFresnelGeneralizedSchlick: {
      float3 f;
      if (c.exponent < 0.0f) {
        // The real Fresnel curve decides where between F0 and F90 (Principled BSDF).
        float real = fresnel_dielectric(cos_hi, c.ior, cos_ht);
        float real0 = f0_from_ior(c.ior);
        float s = saturatef(safe_divide(real - real0, 1.0f - real0));
        f = mix3(c.f0, c.f90, s);
      } else {
        float cos_t2 = 1.0f - (1.0f - sqr(cos_hi)) / sqr(c.ior);
        if (cos_t2 <= 0.0f) {  // total internal reflection
          refl = has_refl ? c.reflection_tint : make3(0.0f);
          trans = make3(0.0f);
          return;
        }
        float cos_t = sqrtf(cos_t2);
        if (cos_ht) *cos_ht = cos_t;
        float angle = c.ior < 1.0f ? cos_t : cos_hi;
        f = mix3(c.f0, c.f90, powf(1.0f - angle, c.exponent));
      }
      refl = f * c.reflection_tint;
      trans = (make3(1.0f) - f) * c.transmission_tint;
      break;
    }
    default:
      refl = trans = make3(1.0f);
      if (has_trans && fresnel_dielectric(cos_hi, c.ior, cos_ht) == 1.0f) trans = make3(0.0f);
      break;
  }
  if (!has_refl) refl = make3(0.0f);
  if (!has_trans) trans = make3(0.0f);
}

OPTICA_HD bool microfacet_singular(const Closure &c) { return c.alpha_x * c.alpha_y <= kRoughnessSqThreshold; }

// f·|cos θo| of the lobe for the pair (wi, wo), and the pdf of sampling wo.
OPTICA_HD float3 microfacet_eval(const Closure &c, float3 wi, float3 wo, float &pdf) {
  pdf = 0.0f;
  float cos_ni = dot(c.N, wi), cos_no = dot(c.N, wo);
  bool transmission = cos_no < 0.0f;
  if (cos_ni <= 0.0f || microfacet_singular(c)) return make3(0.0f);
  if (transmission ? !(c.lobes & kLobeRefract) : !(c.lobes & kLobeReflect)) return make3(0.0f);
  float3 h = transmission ? -(wo * c.ior + wi) : wi + wo;
  float inv_len_h = safe_divide(1.0f, length(h));
  h = h * inv_len_h;
  float cos_hi = dot(h, wi);
  float3 refl, trans;
  microfacet_fresnel(c, cos_hi, nullptr, refl, trans);
  if (is_zero3(refl) && is_zero3(trans)) return make3(0.0f);
  float cos_nh = dot(c.N, h);
  float d, lambda_i, lambda_o;
  if (c.alpha_x == c.alpha_y || transmission) {
    float alpha2 = c.alpha_x * c.alpha_y;
    d = mf_d(c.distribution, alpha2, cos_nh);
    lambda_i = mf_lambda(c.distribution, alpha2, cos_ni);
    lambda_o = mf_lambda(c.distribution, alpha2, cos_no);
  } else {
    float3 x, y;
    orthonormals_with_tangent(c.N, c.T, x, y);
    d = mf_d_aniso(c.distribution, c.alpha_x, c.alpha_y, make3(dot(x, h), dot(y, h), cos_nh));
    lambda_i = mf_lambda_aniso(c.distribution, c.alpha_x, c.alpha_y, make3(dot(x, wi), dot(y, wi), cos_ni));
    lambda_o = mf_lambda_aniso(c.distribution, c.alpha_x, c.alpha_y, make3(dot(x, wo), dot(y, wo), cos_no));
  }
  float common = d / cos_ni *
                 (transmission ? sqr(c.ior * inv_len_h) * fabsf(cos_hi * dot(h, wo)) : 0.25f);
  float pdf_reflect = safe_divide(average(refl), average(refl + trans));
  float lobe_pdf = transmission ? 1.0f - pdf_reflect : pdf_reflect;
  // The sampling density depends on the masking of wi only for visible-normal sampling; the
  // Beckmann sampler draws from D·cos θh instead.
  if (c.distribution == kDistGGX) {
    pdf = common * lobe_pdf / (1.0f + lambda_i);
  } else {
    float cos_ho = fabsf(dot(h, wo));
    float jacobian = transmission ? sqr(c.ior * inv_len_h) * cos_ho : 0.25f / fabsf(cos_hi);
    pdf = d * cos_nh * jacobian * lobe_pdf;
  }
  return (transmission ? trans : refl) * (common / (1.0f + lambda_o + lambda_i) * c.energy_scale);
}

struct BsdfSample {
  float3 wo;
  float3 eval;    // f·|cos θo| (delta lobes: the lobe's weight × a large number, see pdf)
  float pdf;      // solid angle; delta lobes use Cycles' 1e6 convention so MIS ignores them
  bool singular;
  bool transmit;
};

OPTICA_HD bool microfacet_sample(const Closure &c, float3 ng, float3 wi, float u1, float u2, float u3, BsdfSample &s) {
  float cos_ni = dot(c.N, wi);
  if (cos_ni <= 0.0f) return false;
  bool singular = microfacet_singular(c);
  float3 x, y, h, local_h = make3(0.0f, 0.0f, 1.0f), local_i = make3(0.0f, 0.0f, cos_ni);
  if (singular) {
    h = c.N;
  } else {
    if (c.alpha_x == c.alpha_y) orthonormals(c.N, x, y);
    else orthonormals_with_tangent(c.N, c.T, x, y);
    local_i = make3(dot(x, wi), dot(y, wi), cos_ni);
    local_h = c.distribution == kDistGGX ? ggx_sample_visible_normal(local_i, c.alpha_x, c.alpha_y, u1, u2)
                                         : beckmann_sample_normal(c.alpha_x, c.alpha_y, u1, u2);
    h = to_global(local_h, x, y, c.N);
  }
  float cos_hi = dot(h, wi);
  if (c.distribution == kDistBeckmann && cos_hi <= 0.0f) return false;
  float cos_ho = 0.0f;
  float3 refl, trans;
  microfacet_fresnel(c, cos_hi, &cos_ho, refl, trans);
  if (is_zero3(refl) && is_zero3(trans)) return false;
  float pdf_reflect = safe_divide(average(refl), average(refl + trans));
  bool refract = u3 >= pdf_reflect;
  float inv_eta = safe_divide(1.0f, c.ior);
  s.wo = refract ? h * (inv_eta * cos_hi + cos_ho) - wi * inv_eta : h * (2.0f * cos_hi) - wi;
  float cos_no = dot(c.N, s.wo), cos_ngo = dot(ng, s.wo);
  if ((cos_ngo < 0.0f) != refract || (cos_no < 0.0f) != refract) return false;
  s.transmit = refract;
  s.eval = refract ? trans : refl;
  s.pdf = refract ? 1.0f - pdf_reflect : pdf_reflect;
  if (refract && fabsf(c.ior - 1.0f) < 1e-4f) singular = true;
  s.singular = singular;
  if (singular) {
    s.pdf *= 1e6f;
    s.eval = s.eval * 1e6f;
  } else {
    float d, lambda_i, lambda_o;
    if (c.alpha_x == c.alpha_y || refract) {
      float alpha2 = c.alpha_x * c.alpha_y;
      d = mf_d(c.distribution, alpha2, local_h.z);
      lambda_o = mf_lambda(c.distribution, alpha2, cos_no);
      lambda_i = mf_lambda(c.distribution, alpha2, cos_ni);
    } else {
      float3 local_o = local_h * (2.0f * cos_hi) - local_i;
      d = mf_d_aniso(c.distribution, c.alpha_x, c.alpha_y, local_h);
      lambda_o = mf_lambda_aniso(c.distribution, c.alpha_x, c.alpha_y, local_o);
      lambda_i = mf_lambda_aniso(c.distribution, c.alpha_x, c.alpha_y, local_i);
    }
    float common = d / cos_ni *
                   (refract ? fabsf(cos_hi * cos_ho) / sqr(cos_ho + cos_hi * inv_eta) : 0.25f);
    s.eval = s.eval * (common / (1.0f + lambda_i + lambda_o));
    if (c.distribution == kDistGGX) {
      s.pdf *= common / (1.0f + lambda_i);
    } else {
      float jacobian = refract ? fabsf(cos_ho) / sqr(cos_ho + cos_hi * inv_eta) : 0.25f / fabsf(cos_hi);
      s.pdf *= d * local_h.z * jacobian;
    }
  }
  s.eval = s.eval * c.energy_scale;
  return true;
}

// ---- setup helpers: sample weights, energy compensation, albedo estimate

// Estimated directional albedo of the lobe's Fresnel model seen from wi (Cycles'
// bsdf_microfacet_estimate_albedo): the lobe itself is assumed energy-preserving.
OPTICA_HD float3 microfacet_estimate_albedo(const BsdfTables &t, const Closure &c, float3 wi) {
  float cos_ni = dot(wi, c.N);
  float3 refl, trans;
  microfacet_fresnel(c, cos_ni, nullptr, refl, trans);
  if (is_zero3(refl)) return refl + trans;
  float rough = sqrtf(sqrtf(c.alpha_x * c.alpha_y));
  if (c.fresnel == kFresnelGeneralizedSchlick) {
    float s = c.exponent < 0.0f
                  ? table_read_3d(t.ggx_gen_schlick_ior_s, rough, cos_ni, table_ior_coordinate(c.ior), 16, 16, 16)
                  : table_read_3d(t.ggx_gen_schlick_s, rough, cos_ni, 1.0f / (0.2f * c.exponent + 1.0f), 16, 16, 16);
    refl = mix3(c.f0, c.f90, s) * c.reflection_tint;
  } else if (c.fresnel == kFresnelF82Tint) {
    float s = table_read_3d(t.ggx_gen_schlick_s, rough, cos_ni, 0.5f, 16, 16, 16);
    refl = mix3(c.f0, make3(1.0f), s);
  } else if (c.fresnel == kFresnelDielectric && c.ior > 1.0f) {
    float s = table_read_3d(t.ggx_gen_schlick_ior_s, rough, cos_ni, table_ior_coordinate(c.ior), 16, 16, 16);
    refl = make3(mixf(f0_from_ior(c.ior), 1.0f, s));
  }
  return refl + trans;
}

// Multiscatter GGX: scale the single-scattering lobe by 1/E and tint the regained energy by the
// multi-bounce Fresnel (Cycles' microfacet_ggx_preserve_energy). `fss` is the lobe's average
// single-scattering Fresnel colour.
OPTICA_HD void microfacet_preserve_energy(const BsdfTables &t, Closure &c, float3 wi, float3 fss) {
  float mu = dot(wi, c.N);
  float rough = sqrtf(sqrtf(c.alpha_x * c.alpha_y));
  float e, e_avg;
  if (c.lobes == kLobeReflect) {
    e = table_read_2d(t.ggx_E, rough, mu, 32, 32);
    e_avg = table_read_1d(t.ggx_Eavg, rough, 32);
  } else {
    float ior = c.ior;
    const float *te = t.ggx_glass_E, *ta = t.ggx_glass_Eavg;
    if (ior < 1.0f) { ior = 1.0f / ior; te = t.ggx_glass_inv_E; ta = t.ggx_glass_inv_Eavg; }
    float z = table_ior_coordinate(ior);
    e = table_read_3d(te, rough, mu, z, 16, 16, 16);
    e_avg = table_read_2d(ta, rough, z, 16, 16);
  }
  float missing = (1.0f - e) / e;
  c.energy_scale = 1.0f + missing;
  if (!equal3(fss, make3(1.0f))) {
    float3 fms = fss * e_avg / (make3(1.0f) - fss * (1.0f - e_avg));
    float3 darkening = (make3(1.0f) + fms * missing) / c.energy_scale;
    c.weight *= darkening;
    c.sample_weight *= average(darkening);
  }
}

// Lobe setup shared by every microfacet closure: estimate the albedo of its Fresnel model
// once (selection probability, layering, the albedo AOV all use it).
OPTICA_HD void microfacet_finish_setup(const BsdfTables &t, Closure &c, float3 wi) {
  c.albedo = microfacet_estimate_albedo(t, c, wi);
  c.sample_weight *= average(c.albedo);
}

}  // namespace optica
