// Shader nodes that add closures: the Principled BSDF built layer by layer as Cycles 4.x/5.0
// builds it (alpha, sheen, coat, emission, metal, transmission, dielectric specular, diffuse),
// and the single-lobe BSDFs, Emission, Background and Holdout. `weight` is the mix weight the
// Mix/Add Shader nodes hand down.
#pragma once
#include "../closure/diffuse.h"
#include "../closure/hair.h"
#include "stack.h"

namespace optica {

// If the shading normal would reflect wi below the geometric surface, tilt it towards Ng just
// enough that the mirror direction stays above it (Cycles' ensure_valid_specular_reflection).
OPTICA_HD float3 valid_specular_normal(const ShaderData &sd, float3 n) {
  if (equal3(n, sd.Ng)) return n;
  float3 ng = sd.Ng, i = sd.wi;
  float3 r = n * (2.0f * dot(n, i)) - i;
  float iz = dot(i, ng);
  float threshold = minf(0.9f * iz, 0.01f);
  if (dot(ng, r) >= threshold) return n;
  float3 x = safe_normalize_or(n - ng * dot(n, ng), n);
  float ix = dot(i, x);
  float a = sqr(ix) + sqr(iz);
  float b = 2.0f * (a + iz * threshold);
  float c = sqr(threshold + iz);
  float disc = safe_sqrt(sqr(b) - 4.0f * a * c);
  float nz2 = ix < 0.0f ? 0.25f * (b + disc) / a : 0.25f * (b - disc) / a;
  return x * safe_sqrt(1.0f - nz2) + ng * safe_sqrt(nz2);
}

// Weight left for the layers under one of the given albedo (Cycles' closure_layering_weight).
OPTICA_HD float3 layering_weight(float3 albedo, float3 weight) {
  float m = maxf(safe_divide(albedo.x, weight.x), maxf(safe_divide(albedo.y, weight.y), safe_divide(albedo.z, weight.z)));
  return weight * saturatef(1.0f - m);
}

OPTICA_HD float3 rotate_around_axis(float3 p, float3 axis, float angle) {
  float c = cosf(angle), s = sinf(angle);
  return p * c + cross(axis, p) * s + axis * (dot(axis, p) * (1.0f - c));
}

OPTICA_HD Closure *microfacet_alloc(ClosureList &cl, float3 weight, float3 n, int lobes, float ax, float ay) {
  Closure *c = closure_alloc(cl, kClosureMicrofacet, weight);
  if (!c) return nullptr;
  c->N = n;
  c->lobes = lobes;
  c->alpha_x = saturatef(ax);
  c->alpha_y = lobes == kLobeReflect ? saturatef(ay) : c->alpha_x;
  return c;
}

// Generalized Schlick with the real Fresnel curve between f0 and 1 (exponent < 0).
OPTICA_HD void setup_schlick_fresnel(const BsdfTables &t, Closure &c, float3 wi, float3 f0, float3 refl_tint,
                                     float3 trans_tint, bool multiscatter) {
  c.fresnel = kFresnelGeneralizedSchlick;
  c.f0 = saturate3(f0);
  c.f90 = make3(1.0f);
  c.exponent = -1.0f;
  c.reflection_tint = refl_tint;
  c.transmission_tint = trans_tint;
  microfacet_finish_setup(t, c, wi);
  if (!multiscatter) return;
  float3 fss;
  if (is_zero3(trans_tint)) {
    float real0 = f0_from_ior(c.ior);
    float s = saturatef(safe_divide(fresnel_dielectric_average(c.ior) - real0, 1.0f - real0));
    fss = refl_tint * mix3(c.f0, c.f90, s);
  } else {
    fss = trans_tint;  // transmissive lobes: the transmission tint makes most of the colour
  }
  microfacet_preserve_energy(t, c, wi, fss);
}

OPTICA_HD void setup_f82_fresnel(const BsdfTables &t, Closure &c, float3 wi, float3 f0, float3 tint, bool multiscatter) {
  c.fresnel = kFresnelF82Tint;
  c.f0 = f0;
  c.f90 = equal3(tint, make3(1.0f)) ? make3(0.0f) : fresnel_f82tint_b(f0, tint);
  microfacet_finish_setup(t, c, wi);
  if (multiscatter) microfacet_preserve_energy(t, c, wi, fresnel_f82_average(c.f0, c.f90));
}

// Albedo of a reflective layer (its estimate was made at setup).
OPTICA_HD float3 layer_albedo(const Closure *c) { return c->weight * c->albedo; }

OPTICA_HD void add_diffuse(ClosureList &cl, const ShaderData &sd, float3 weight, float3 n, float roughness, float3 color) {
  Closure *c = closure_alloc(cl, kClosureDiffuse, weight);
  if (!c) return;
  c->N = n;
  if (roughness >= kClosureWeightCutoff) oren_nayar_setup(*c, roughness, color, sd.wi);
}

OPTICA_HD void add_sheen(ClosureList &cl, const BsdfTables &t, const ShaderData &sd, float3 weight, float3 n,
                         float roughness, float3 *albedo) {
  Closure *c = closure_alloc(cl, kClosureSheen, weight);
  if (!c) return;
  c->N = n;
  c->alpha_x = clampf(roughness, 1e-3f, 1.0f);
  float e = sheen_albedo(t, c->alpha_x, dot(n, sd.wi));
  c->sample_weight *= e;
  if (albedo) *albedo = c->weight * e;
}

struct PrincipledInputs {
  bool multiscatter;
  float3 base_color, subsurface_radius, specular_tint, coat_tint, sheen_tint, emission_color;
  float metallic, roughness, ior, alpha, diffuse_roughness, subsurface_weight, subsurface_scale, subsurface_ior;
  float subsurface_anisotropy, specular_ior_level, anisotropic, anisotropic_rotation, transmission_weight;
  float coat_weight, coat_roughness, coat_ior, sheen_weight, sheen_roughness, emission_strength;
  float thin_film_thickness, thin_film_ior;
  float3 normal, tangent, coat_normal;
  bool has_tangent;
};

OPTICA_HD void principled_bsdf(ClosureList &cl, const BsdfTables &t, const ShaderData &sd, const PrincipledInputs &in,
                               float mix_weight) {
  float3 weight = make3(mix_weight);
  float3 n = safe_normalize_or(in.normal, sd.N);
  float3 base = max3(in.base_color, make3(0.0f));
  float3 clamped_base = min3(base, make3(1.0f));
  float ior = maxf(in.ior, 1e-5f);
  float roughness = saturatef(in.roughness);
  float metallic = saturatef(in.metallic);
  float alpha = saturatef(in.alpha);
  float3 valid_n = valid_specular_normal(sd, n);
  float3 coat_n = safe_normalize_or(in.coat_normal, sd.N);
  float3 spec_tint = max3(in.specular_tint, make3(0.0f));
  float anisotropic = saturatef(in.anisotropic);
  float subsurface = saturatef(in.subsurface_weight);
  float coat = maxf(in.coat_weight, 0.0f), sheen = maxf(in.sheen_weight, 0.0f);
  float transmission = saturatef(in.transmission_weight);

  float ax = sqr(roughness), ay = ax;
  float3 tangent = make3(0.0f);
  if (anisotropic > 0.0f && in.has_tangent) {
    tangent = in.tangent;
    float aspect = sqrtf(1.0f - anisotropic * 0.9f);
    ax /= aspect;
    ay *= aspect;
    if (in.anisotropic_rotation != 0.0f) tangent = rotate_around_axis(tangent, n, in.anisotropic_rotation * 2.0f * kPi);
  }

  if (alpha < 1.0f) {
    closure_add_transparent(cl, weight * (1.0f - alpha), sd.N);
    weight *= alpha;
  }
  if (sheen > kClosureWeightCutoff) {
    float3 sheen_n = safe_normalize_or(mix3(n, coat_n, saturatef(coat)), n);
    float3 albedo = make3(0.0f);
    add_sheen(cl, t, sd, max3(in.sheen_tint, make3(0.0f)) * sheen * weight, sheen_n, saturatef(in.sheen_roughness),
              &albedo);
    weight = layering_weight(albedo, weight);
  }
  if (coat > kClosureWeightCutoff) {
    float coat_ior = maxf(in.coat_ior, 1.0f);
    float3 valid_coat_n = valid_specular_normal(sd, coat_n);
    float coat_alpha = sqr(saturatef(in.coat_roughness));
    Closure *c = microfacet_alloc(cl, weight * coat, valid_coat_n, kLobeReflect, coat_alpha, coat_alpha);
    if (c) {
      c->ior = coat_ior;
      c->fresnel = kFresnelDielectric;
      microfacet_finish_setup(t, *c, sd.wi);
      microfacet_preserve_energy(t, *c, sd.wi, make3(fresnel_dielectric_average(coat_ior)));
      weight = layering_weight(layer_albedo(c), weight);
    }
    float3 coat_tint = max3(in.coat_tint, make3(0.0f));
    if (!equal3(coat_tint, make3(1.0f))) {
      // Beer's law through a coat of unit thickness along the refracted view direction.
      float cos_ni = dot(sd.wi, valid_coat_n);
      float cos_nt = sqrtf(1.0f - sqr(1.0f / coat_ior) * (1.0f - sqr(cos_ni)));
      float depth = 1.0f / cos_nt;
      float3 tinted = make3(powf(coat_tint.x, depth), powf(coat_tint.y, depth), powf(coat_tint.z, depth));
      weight *= mix3(make3(1.0f), tinted, coat);
    }
  }
  float3 emission = in.emission_color * in.emission_strength;
  if (!is_zero3(emission)) cl.emission += emission * weight;
  if (sd.path.flags & kPathEmission) return;  // a light sample needs the emission only

  if (metallic > kClosureWeightCutoff) {
    Closure *c = microfacet_alloc(cl, weight * metallic, valid_n, kLobeReflect, ax, ay);
    if (c) {
      c->T = tangent;
      setup_f82_fresnel(t, *c, sd.wi, clamped_base, min3(spec_tint, make3(1.0f)), in.multiscatter);
    }
    weight *= 1.0f - metallic;
  }
  if (transmission > kClosureWeightCutoff) {
    Closure *c = microfacet_alloc(cl, weight * transmission, valid_n, kLobeGlass, sqr(roughness), sqr(roughness));
    if (c) {
      c->ior = sd.backfacing ? 1.0f / ior : ior;
      float3 root_base = make3(sqrtf(clamped_base.x), sqrtf(clamped_base.y), sqrtf(clamped_base.z));
      setup_schlick_fresnel(t, *c, sd.wi, spec_tint * f0_from_ior(ior), make3(1.0f), root_base, in.multiscatter);
    }
    weight *= 1.0f - transmission;
  }
  // Blender's IOR Level scales F0; the specular layer's IOR follows from the scaled F0.
  float eta = ior, f0 = f0_from_ior(ior);
  float level = maxf(in.specular_ior_level, 0.0f);
  if (level != 0.5f) {
    f0 *= 2.0f * level;
    eta = ior_from_f0(f0);
    if (ior < 1.0f) eta = 1.0f / eta;
  }
  if (eta != 1.0f) {
    Closure *c = microfacet_alloc(cl, weight, valid_n, kLobeReflect, ax, ay);
    if (c) {
      c->ior = eta;
      c->T = tangent;
      setup_schlick_fresnel(t, *c, sd.wi, spec_tint * f0, make3(1.0f), make3(0.0f), in.multiscatter);
      weight = layering_weight(layer_albedo(c), weight);
    }
  }
  // Subsurface scattering is approximated by diffuse reflection of the (clamped) base colour.
  float3 diffuse_weight = (base * (1.0f - subsurface) + clamped_base * subsurface) * weight;
  add_diffuse(cl, sd, diffuse_weight, n, saturatef(in.diffuse_roughness), base);
}

// Glossy BSDF (Blender's Anisotropic/Glossy node). distribution: 0 BECKMANN, 1 GGX,
// 2 ASHIKHMIN_SHIRLEY (rendered as GGX), 3 MULTI_GGX.
OPTICA_HD void glossy_bsdf(ClosureList &cl, const BsdfTables &t, const ShaderData &sd, float mix_weight, int distribution,
                           float3 color, float roughness, float anisotropy, float rotation, float3 normal, float3 tangent,
                           bool has_tangent) {
  float3 n = valid_specular_normal(sd, safe_normalize_or(normal, sd.N));
  float r = sqr(saturatef(roughness));
  float a = clampf(anisotropy, -0.99f, 0.99f);
  float ax = r, ay = r;
  float3 tan = make3(0.0f);
  if (has_tangent && fabsf(a) > 1e-4f) {
    tan = rotation != 0.0f ? rotate_around_axis(tangent, n, rotation * 2.0f * kPi) : tangent;
    if (a < 0.0f) { ax = r / (1.0f + a); ay = r * (1.0f + a); }
    else { ax = r * (1.0f - a); ay = r / (1.0f - a); }
  }
  Closure *c = microfacet_alloc(cl, color * mix_weight, n, kLobeReflect, ax, ay);
  if (!c) return;
  c->T = tan;
  c->distribution = distribution == 0 ? kDistBeckmann : kDistGGX;
  if (distribution == 3) microfacet_preserve_energy(t, *c, sd.wi, max3(color, make3(0.0f)));
}

// Metallic BSDF. distribution: 0 BECKMANN, 1 GGX, 2 MULTI_GGX; fresnel: 0 PHYSICAL_CONDUCTOR, 1 F82.
OPTICA_HD void metallic_bsdf(ClosureList &cl, const BsdfTables &t, const ShaderData &sd, float mix_weight,
                             int distribution, int fresnel, float3 base_color, float3 edge_tint, float3 n_ior,
                             float3 k_ext, float roughness, float anisotropy, float rotation, float3 normal,
                             float3 tangent, bool has_tangent) {
  float3 n = safe_normalize_or(normal, sd.N);
  float3 valid_n = valid_specular_normal(sd, n);
  float r = sqr(saturatef(roughness));
  float aniso = saturatef(anisotropy);
  float ax = r, ay = r;
  float3 tan = make3(0.0f);
  if (aniso > 0.0f && has_tangent) {
    float aspect = sqrtf(1.0f - aniso * 0.9f);
    ax /= aspect;
    ay *= aspect;
    tan = rotation != 0.0f ? rotate_around_axis(tangent, n, rotation * 2.0f * kPi) : tangent;
  }
  Closure *c = microfacet_alloc(cl, make3(mix_weight), valid_n, kLobeReflect, ax, ay);
  if (!c) return;
  c->T = tan;
  c->distribution = distribution == 0 ? kDistBeckmann : kDistGGX;
  bool multiscatter = distribution == 2;
  if (fresnel == 0) {
    c->fresnel = kFresnelConductor;
    c->f0 = max3(n_ior, make3(0.0f));
    c->f90 = max3(k_ext, make3(0.0f));
    microfacet_finish_setup(t, *c, sd.wi);
    if (multiscatter) microfacet_preserve_energy(t, *c, sd.wi, fresnel_conductor_average(c->f0, c->f90));
  } else {
    setup_f82_fresnel(t, *c, sd.wi, saturate3(base_color), saturate3(edge_tint), multiscatter);
  }
}

// Glass BSDF. distribution: 0 BECKMANN, 1 GGX, 2 MULTI_GGX.
OPTICA_HD void glass_bsdf(ClosureList &cl, const BsdfTables &t, const ShaderData &sd, float mix_weight, int distribution,
                          float3 color, float roughness, float ior, float3 normal) {
  float3 n = valid_specular_normal(sd, safe_normalize_or(normal, sd.N));
  float alpha = sqr(saturatef(roughness));
  Closure *c = microfacet_alloc(cl, make3(mix_weight), n, kLobeGlass, alpha, alpha);
  if (!c) return;
  float eta = maxf(ior, 1e-5f);
  c->ior = sd.backfacing ? 1.0f / eta : eta;
  c->distribution = distribution == 0 ? kDistBeckmann : kDistGGX;
  float3 tint = max3(color, make3(0.0f));
  setup_schlick_fresnel(t, *c, sd.wi, make3(f0_from_ior(eta)), tint, tint, distribution == 2);
}

// Refraction BSDF. distribution: 0 BECKMANN, 1 GGX.
OPTICA_HD void refraction_bsdf(ClosureList &cl, const ShaderData &sd, float mix_weight, int distribution, float3 color,
                               float roughness, float ior, float3 normal) {
  float3 n = valid_specular_normal(sd, safe_normalize_or(normal, sd.N));
  float alpha = sqr(roughness);
  Closure *c = microfacet_alloc(cl, color * mix_weight, n, kLobeRefract, alpha, alpha);
  if (!c) return;
  float eta = maxf(ior, 1e-5f);
  c->ior = sd.backfacing ? 1.0f / eta : eta;
  c->distribution = distribution == 0 ? kDistBeckmann : kDistGGX;
}

OPTICA_HD void translucent_bsdf(ClosureList &cl, const ShaderData &sd, float mix_weight, float3 color, float3 normal) {
  Closure *c = closure_alloc(cl, kClosureTranslucent, color * mix_weight);
  if (c) c->N = valid_specular_normal(sd, safe_normalize_or(normal, sd.N));
}

// Principled Hair BSDF as Cycles' svm_node_closure_bsdf sets it up. parametrization: 0 ABSORPTION,
// 1 MELANIN, 2 COLOR (Blender's order); model: 0 CHIANG, 1 HUANG (rendered with Chiang's lobes
// scaled by the R, TT, TRT inputs: an approximation, docs/shading.md). `random` is the node's
// Random (Curves Info › Random on curves when the socket is not linked).
struct PrincipledHairInputs {
  int32_t model, parametrization;
  float3 color, tint, absorption;
  float melanin, melanin_redness, roughness, radial_roughness, coat, ior, offset, random_roughness, random_color,
      random, lobe_r, lobe_tt, lobe_trt;
};

OPTICA_HD void principled_hair_bsdf(ClosureList &cl, const ShaderData &sd, float3 dPdu, const PrincipledHairInputs &in,
                                    float mix_weight) {
  bool huang = in.model == 1;
  if (huang && in.lobe_r <= 0.0f && in.lobe_tt <= 0.0f && in.lobe_trt <= 0.0f) return;
  float factor_rough = 1.0f + 2.0f * (in.random - 0.5f) * in.random_roughness;
  float roughness = in.roughness * factor_rough;
  float radial = huang ? roughness : in.radial_roughness * factor_rough;
  float3 sigma;
  if (in.parametrization == 0) {
    sigma = in.absorption;
  } else if (in.parametrization == 1) {
    float random_color = clampf(in.random_color, 0.0f, 1.0f);
    float melanin = in.melanin * (1.0f + 2.0f * (in.random - 0.5f) * random_color);
    melanin = -logf(maxf(1.0f - melanin, 0.0001f));
    sigma = hair_sigma_from_concentration(melanin * (1.0f - in.melanin_redness), melanin * in.melanin_redness) +
            hair_sigma_from_reflectance(in.tint, radial);
  } else {
    sigma = hair_sigma_from_reflectance(in.color, radial);
  }
  Closure *c = closure_alloc(cl, kClosureHairChiang, make3(mix_weight));
  if (!c) return;
  float3 X = safe_normalize_or(dPdu, make3(0.0f));
  float3 Y = safe_normalize_or(cross(X, sd.wi), make3(0.0f));
  float3 Z = safe_normalize_or(cross(X, Y), make3(0.0f));
  // Where the ray crossed the fibre: ribbons from the offset across the strip, tubes (and
  // meshes) from the normal, as the sine of its angle to Z seen along the tangent.
  float h = sd.curve == 1 + kCurveRibbon ? -sd.curve_sine : dot(cross(sd.Ng, X), Z);
  hair_chiang_setup(*c, X, sd.wi, h, roughness, radial, huang ? 0.0f : in.coat, in.offset, in.ior, sigma);
  if (huang) c->reflection_tint = max3(make3(in.lobe_r, in.lobe_tt, in.lobe_trt), make3(0.0f));
  c->lobes = sd.curve ? 1 : 0;
}

// Hair BSDF (component 0 REFLECTION, 1 TRANSMISSION): the tangent is the Tangent input when
// linked, else the curve's (meshes: dPdv with no offset), as Cycles.
OPTICA_HD void hair_bsdf(ClosureList &cl, const ShaderData &sd, float3 dPdu, float3 dPdv, float mix_weight,
                         int component, float3 color, float offset, float roughness_u, float roughness_v,
                         float3 tangent, bool has_tangent) {
  Closure *c = closure_alloc(cl, component == 0 ? kClosureHairReflection : kClosureHairTransmission,
                             color * mix_weight);
  if (!c) return;
  float3 n = sd.curve ? sd.N : valid_specular_normal(sd, sd.N);
  float off = -offset;
  float3 t;
  if (has_tangent) {
    t = safe_normalize_or(tangent, safe_normalize_or(dPdu, sd.N));
  } else if (!sd.curve) {
    t = safe_normalize_or(dPdv, sd.N);
    off = 0.0f;
  } else {
    t = safe_normalize_or(dPdu, sd.N);
  }
  hair_kajiya_setup(*c, n, t, roughness_u, roughness_v, off);
  c->lobes = sd.curve ? 1 : 0;
}

}  // namespace optica
