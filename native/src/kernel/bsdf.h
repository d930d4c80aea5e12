// The Principled BSDF subset: Lambertian diffuse under a GGX dielectric specular layer,
// GGX metal (Schlick Fresnel with the base colour as F0), and rough or smooth GGX glass.
// Directions are in the shading frame (z = shading normal). Lobe weights follow Blender's
// Principled BSDF: metal m, glass (1-m)·t, diffuse+specular (1-m)·(1-t).
#pragma once
#include "defs.h"
#include "sampling.h"

namespace optica {

// Below this GGX alpha a lobe is treated as a perfect mirror / perfectly smooth glass.
constexpr float kSmoothAlpha = 1e-4f;

OPTICA_HD float fresnel_dielectric(float cos_i, float eta) {
  // eta = n_t / n_i for a ray arriving from the side the normal points to.
  cos_i = clampf(cos_i, -1.0f, 1.0f);
  if (cos_i < 0.0f) { eta = 1.0f / eta; cos_i = -cos_i; }
  float sin2_t = (1.0f - cos_i * cos_i) / (eta * eta);
  if (sin2_t >= 1.0f) return 1.0f;
  float cos_t = safe_sqrt(1.0f - sin2_t);
  float r_parl = (eta * cos_i - cos_t) / (eta * cos_i + cos_t);
  float r_perp = (cos_i - eta * cos_t) / (cos_i + eta * cos_t);
  return 0.5f * (r_parl * r_parl + r_perp * r_perp);
}

OPTICA_HD float3 fresnel_schlick(float3 f0, float cos_i) {
  float m = clampf(1.0f - cos_i, 0.0f, 1.0f);
  float m5 = (m * m) * (m * m) * m;
  return f0 + (make3(1.0f) - f0) * m5;
}

OPTICA_HD float f0_from_ior(float ior) { return sqr((ior - 1.0f) / (ior + 1.0f)); }
OPTICA_HD float ior_from_f0(float f0) {
  float s = sqrtf(clampf(f0, 0.0f, 0.99f));
  return (1.0f + s) / (1.0f - s);
}

// ---- GGX (Trowbridge-Reitz) with height-correlated Smith masking ----
OPTICA_HD float ggx_d(float3 h, float a) {
  float a2 = a * a;
  float c2 = h.z * h.z;
  float d = c2 * (a2 - 1.0f) + 1.0f;
  return a2 / (kPi * d * d);
}
OPTICA_HD float ggx_lambda(float3 w, float a) {
  float c2 = w.z * w.z;
  if (c2 <= 0.0f) return 0.0f;
  float t2 = maxf(1.0f - c2, 0.0f) / c2;
  return 0.5f * (-1.0f + sqrtf(1.0f + a * a * t2));
}
OPTICA_HD float ggx_g1(float3 w, float a) { return 1.0f / (1.0f + ggx_lambda(w, a)); }
OPTICA_HD float ggx_g2(float3 wo, float3 wi, float a) {
  return 1.0f / (1.0f + ggx_lambda(wo, a) + ggx_lambda(wi, a));
}
// Visible-normal sampling (Heitz 2018); wo.z > 0.
OPTICA_HD float3 ggx_sample_vndf(float3 wo, float a, float u1, float u2) {
  float3 vh = normalize(make3(a * wo.x, a * wo.y, wo.z));
  float lensq = vh.x * vh.x + vh.y * vh.y;
  float3 t1 = lensq > 0.0f ? make3(-vh.y, vh.x, 0.0f) * (1.0f / sqrtf(lensq)) : make3(1.0f, 0.0f, 0.0f);
  float3 t2 = cross(vh, t1);
  float r = sqrtf(u1), phi = 2.0f * kPi * u2;
  float p1 = r * cosf(phi), p2 = r * sinf(phi);
  float s = 0.5f * (1.0f + vh.z);
  p2 = (1.0f - s) * safe_sqrt(1.0f - p1 * p1) + s * p2;
  float3 nh = t1 * p1 + t2 * p2 + vh * safe_sqrt(1.0f - p1 * p1 - p2 * p2);
  return normalize(make3(a * nh.x, a * nh.y, maxf(1e-6f, nh.z)));
}
// pdf of the visible normal h seen from wo (wo.z > 0).
OPTICA_HD float ggx_vndf_pdf(float3 wo, float3 h, float a) {
  float woh = dot(wo, h);
  if (woh <= 0.0f || wo.z <= 0.0f) return 0.0f;
  return ggx_g1(wo, a) * woh * ggx_d(h, a) / wo.z;
}

OPTICA_HD float3 reflect_about(float3 w, float3 n) { return n * (2.0f * dot(w, n)) - w; }
// Refracts w (pointing away from the surface, on n's side) through n; eta = n_t / n_i.
OPTICA_HD bool refract_about(float3 w, float3 n, float eta, float3 &wt) {
  float cos_i = dot(n, w);
  float sin2_t = maxf(0.0f, 1.0f - cos_i * cos_i) / (eta * eta);
  if (sin2_t >= 1.0f) return false;
  float cos_t = safe_sqrt(1.0f - sin2_t);
  wt = (-w) / eta + n * (cos_i / eta - cos_t);
  return true;
}

// Directional albedo of a GGX specular layer with Schlick Fresnel F0 (Karis 2014's analytic
// fit of the split-sum integral). The diffuse base gets what the layer does not reflect, the
// same albedo scaling Cycles' Principled BSDF applies; at grazing angles a rough layer
// reflects far less than the Fresnel term of the macro normal would say.
OPTICA_HD float ggx_specular_albedo(float cos_o, float roughness, float f0) {
  float rx = 1.0f - roughness, ry = 0.0425f - 0.0275f * roughness;
  float rz = 1.04f - 0.572f * roughness, rw = 0.022f * roughness - 0.04f;
  float a004 = minf(rx * rx, exp2f(-9.28f * cos_o)) * rx + ry;
  return clampf(f0 * (rz - 1.04f * a004) + (rw + 1.04f * a004), 0.0f, 1.0f);
}

// Directional albedo of single-scattering GGX with F = 1, tabulated over (cos θo, roughness):
// the energy it loses to masking comes back as multiple scattering in Cycles' (default)
// multiscatter GGX. Turquin 2019's scale restores it: 1 + F0·(1/E − 1).
constexpr int kGgxTableSize = 32;
struct GgxAlbedoTable {
  float e[kGgxTableSize][kGgxTableSize];  // [roughness][cos θo], both sampled on [0, 1]
};

OPTICA_HD float ggx_albedo_lookup(const GgxAlbedoTable &t, float cos_o, float roughness) {
  float x = clampf(cos_o, 0.0f, 1.0f) * (kGgxTableSize - 1), y = clampf(roughness, 0.0f, 1.0f) * (kGgxTableSize - 1);
  int ix = minf(int(x), kGgxTableSize - 2), iy = minf(int(y), kGgxTableSize - 2);
  float fx = x - ix, fy = y - iy;
  return (t.e[iy][ix] * (1 - fx) + t.e[iy][ix + 1] * fx) * (1 - fy) +
         (t.e[iy + 1][ix] * (1 - fx) + t.e[iy + 1][ix + 1] * fx) * fy;
}

struct Bsdf {
  const GgxAlbedoTable *ggx_albedo;
  float3 base_color;
  float roughness;
  float spec_f0;      // normal-incidence reflectance of the specular layer
  float alpha;        // GGX alpha = roughness²
  float spec_eta;     // IOR of the dielectric specular layer (after Blender's IOR level)
  float glass_eta;    // IOR of the glass lobe
  float w_diffuse;    // weight of the diffuse+specular base (1-m)(1-t)
  float w_metal;      // m
  float w_glass;      // (1-m)t
  bool has_spec;      // IOR level > 0
};

struct BsdfSample {
  float3 wi;
  float3 weight;  // f·|cos| / pdf
  float pdf;      // solid angle; for a delta lobe: the lobe's selection probability
  bool delta;
};

// Selection probabilities of the four lobes for a given view direction (opaque: wo.z > 0).
struct LobeProbs { float diffuse, spec, metal, glass; };

OPTICA_HD LobeProbs lobe_probs(const Bsdf &b, float3 wo) {
  float cos_o = fabsf(wo.z);
  float fs = b.has_spec ? ggx_specular_albedo(cos_o, b.roughness, b.spec_f0) : 0.0f;
  LobeProbs p;
  p.diffuse = b.w_diffuse * (1.0f - fs) * maxf(luminance(b.base_color), 0.05f);
  p.spec = b.w_diffuse * fs;
  p.metal = b.w_metal * maxf(luminance(fresnel_schlick(b.base_color, cos_o)), 0.05f);
  p.glass = b.w_glass;
  float sum = p.diffuse + p.spec + p.metal + p.glass;
  if (sum <= 0.0f) { p.diffuse = 1.0f; return p; }
  float inv = 1.0f / sum;
  p.diffuse *= inv; p.spec *= inv; p.metal *= inv; p.glass *= inv;
  return p;
}

// Evaluates f·|cos θi| and the combined pdf for a pair of directions (non-delta lobes only).
// wo and wi are in the shading frame; `front` says whether wo is on the geometric front side.
OPTICA_HD float3 bsdf_eval(const Bsdf &b, float3 wo, float3 wi, float &pdf) {
  pdf = 0.0f;
  float3 f = make3(0.0f);
  if (wo.z == 0.0f) return f;
  LobeProbs p = lobe_probs(b, wo);
  bool reflect = wo.z * wi.z > 0.0f;
  // Opaque lobes live on wo's side: mirror both into the upper hemisphere.
  float flip = wo.z < 0.0f ? -1.0f : 1.0f;
  float3 o = make3(wo.x, wo.y, wo.z * flip), i = make3(wi.x, wi.y, wi.z * flip);
  bool smooth = b.alpha < kSmoothAlpha;
  if (reflect) {
    float3 h = normalize(o + i);
    if (p.diffuse > 0.0f) {
      float fs_o = b.has_spec ? ggx_specular_albedo(o.z, b.roughness, b.spec_f0) : 0.0f;
      f += b.base_color * (b.w_diffuse * (1.0f - fs_o) * kInvPi * i.z);
      pdf += p.diffuse * i.z * kInvPi;
    }
    if (!smooth) {
      float d = ggx_d(h, b.alpha), g2 = ggx_g2(o, i, b.alpha);
      float spec_pdf = ggx_g1(o, b.alpha) * d / (4.0f * o.z);
      float common = d * g2 / (4.0f * o.z);  // f·cos = D·G·F / (4 cos_o)
      float oh = dot(o, h);
      if (p.spec > 0.0f) {
        f += make3(b.w_diffuse * fresnel_dielectric(oh, b.spec_eta) * common);
        pdf += p.spec * spec_pdf;
      }
      if (p.metal > 0.0f) {
        float e = maxf(ggx_albedo_lookup(*b.ggx_albedo, o.z, b.roughness), 0.05f);
        float3 multiscatter = make3(1.0f) + b.base_color * (1.0f / e - 1.0f);
        f += fresnel_schlick(b.base_color, oh) * multiscatter * (b.w_metal * common);
        pdf += p.metal * spec_pdf;
      }
      if (p.glass > 0.0f) {
        float eta = wo.z > 0.0f ? b.glass_eta : 1.0f / b.glass_eta;
        float fr = fresnel_dielectric(oh, eta);
        f += make3(b.w_glass * fr * common);
        pdf += p.glass * fr * spec_pdf;
      }
    }
  } else if (p.glass > 0.0f && !smooth) {
    // Rough refraction (Walter et al. 2007, as pbrt-v4 writes it); etap = n_t / n_i.
    float etap = wo.z > 0.0f ? b.glass_eta : 1.0f / b.glass_eta;
    float3 h = wi * etap + wo;
    if (dot(h, h) == 0.0f) return f;
    h = normalize(h);
    if (h.z < 0.0f) h = -h;
    float oh = dot(wo, h), ih = dot(wi, h);
    if (ih * wi.z < 0.0f || oh * wo.z < 0.0f) return f;  // back-facing microfacet
    float fr = fresnel_dielectric(oh, b.glass_eta);
    float denom = sqr(ih + oh / etap);
    float d = ggx_d(h, b.alpha);
    float g2 = ggx_g2(wo, wi, b.alpha);
    // f·|cos_i|, with the 1/etap² that radiance picks up crossing the interface.
    float ft = d * (1.0f - fr) * g2 * fabsf(ih * oh) / (denom * fabsf(wo.z)) / (etap * etap);
    f += make3(b.w_glass * ft);
    float h_pdf = ggx_g1(wo, b.alpha) * fabsf(oh) * d / fabsf(wo.z);
    pdf += p.glass * (1.0f - fr) * h_pdf * fabsf(ih) / denom;
  }
  return f;
}

OPTICA_HD bool bsdf_sample(const Bsdf &b, float3 wo, float u_lobe, float u1, float u2, BsdfSample &s) {
  if (wo.z == 0.0f) return false;
  LobeProbs p = lobe_probs(b, wo);
  float flip = wo.z < 0.0f ? -1.0f : 1.0f;
  float3 o = make3(wo.x, wo.y, wo.z * flip);
  bool smooth = b.alpha < kSmoothAlpha;
  s.delta = false;
  if (u_lobe < p.diffuse) {
    float3 i = sample_cosine_hemisphere(u1, u2);
    s.wi = make3(i.x, i.y, i.z * flip);
  } else if (u_lobe < p.diffuse + p.spec + p.metal) {
    bool metal = u_lobe >= p.diffuse + p.spec;
    if (smooth) {
      float3 i = make3(-o.x, -o.y, o.z);
      s.wi = make3(i.x, i.y, i.z * flip);
      s.delta = true;
      float prob = metal ? p.metal : p.spec;
      float3 f = metal ? fresnel_schlick(b.base_color, o.z) * b.w_metal
                       : make3(b.w_diffuse * fresnel_dielectric(o.z, b.spec_eta));
      s.weight = f / prob;
      s.pdf = prob;
      return true;
    }
    float3 h = ggx_sample_vndf(o, b.alpha, u1, u2);
    float3 i = reflect_about(o, h);
    if (i.z <= 0.0f) return false;
    s.wi = make3(i.x, i.y, i.z * flip);
  } else {
    // Glass: reflect or refract by the Fresnel term of the sampled microfacet.
    float eta = wo.z > 0.0f ? b.glass_eta : 1.0f / b.glass_eta;
    float3 h = smooth ? make3(0.0f, 0.0f, 1.0f) : ggx_sample_vndf(o, b.alpha, u1, u2);
    float3 hw = make3(h.x, h.y, h.z * flip);  // microfacet normal on wo's side
    float fr = fresnel_dielectric(dot(wo, hw), eta);
    // Reuse u_lobe's remainder inside the glass interval to choose reflection/refraction.
    float u = p.glass > 0.0f ? (u_lobe - (1.0f - p.glass)) / p.glass : 0.0f;
    u = clampf(u, 0.0f, 0.99999994f);
    if (u < fr) {
      s.wi = reflect_about(wo, hw);
      if (s.wi.z * wo.z <= 0.0f) return false;
    } else {
      if (!refract_about(wo, hw, eta, s.wi)) return false;
      if (s.wi.z * wo.z >= 0.0f) return false;
      if (smooth) {
        s.delta = true;
        s.pdf = p.glass * (1.0f - fr);
        s.weight = make3(b.w_glass / (eta * eta) / p.glass);
        return true;
      }
    }
    if (smooth) {
      s.delta = true;
      s.pdf = p.glass * fr;
      s.weight = make3(b.w_glass / p.glass);
      return true;
    }
  }
  float pdf;
  float3 f = bsdf_eval(b, wo, s.wi, pdf);
  if (pdf <= 0.0f || is_black(f)) return false;
  s.pdf = pdf;
  s.weight = f / pdf;
  return true;
}

#if !defined(__CUDA_ARCH__)
// Host: E(μ, r) = E over visible normals of G2/G1 (F = 1), by stratified quadrature.
inline GgxAlbedoTable make_ggx_albedo_table() {
  GgxAlbedoTable t;
  const int n = 48;
  for (int iy = 0; iy < kGgxTableSize; ++iy) {
    float r = maxf(float(iy) / (kGgxTableSize - 1), 0.02f);
    float a = r * r;
    for (int ix = 0; ix < kGgxTableSize; ++ix) {
      float mu = maxf(float(ix) / (kGgxTableSize - 1), 0.02f);
      float3 wo = make3(safe_sqrt(1.0f - mu * mu), 0.0f, mu);
      double sum = 0.0;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          float3 h = ggx_sample_vndf(wo, a, (i + 0.5f) / n, (j + 0.5f) / n);
          float3 wi = reflect_about(wo, h);
          if (wi.z > 0.0f) sum += ggx_g2(wo, wi, a) / ggx_g1(wo, a);
        }
      t.e[iy][ix] = float(sum / (n * n));
    }
  }
  return t;
}
#endif

OPTICA_HD float3 bsdf_albedo(const Bsdf &b) {
  return b.base_color * (b.w_diffuse + b.w_metal) + make3(b.w_glass);
}

}  // namespace optica
