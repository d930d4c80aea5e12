// The closure list a shader program produces at a shading point (Cycles' ShaderClosure set):
// weighted BSDF lobes, plus the emission, transparency and holdout weights that are not lobes.
// Directions follow Cycles: `wi` points from the surface to where the ray came from, `wo` to
// the light; N faces wi.
#pragma once
#include "../defs.h"

namespace optica {

enum ClosureType : int32_t {
  kClosureNone = 0,
  kClosureDiffuse,      // Lambert
  kClosureOrenNayar,    // Fujii's improved Oren-Nayar with energy compensation (Cycles 4.3+)
  kClosureTranslucent,  // Lambert through the surface
  kClosureSheen,        // see sheen.h (an approximation of Cycles' LTC sheen)
  kClosureMicrofacet,   // GGX or Beckmann; reflection, refraction or both (glass)
  kClosureTransparent,  // straight through, no bounce counted
  kClosureHairChiang,        // Principled Hair (Chiang et al.), see hair.h
  kClosureHairReflection,    // Hair BSDF › Reflection (Kajiya-Kay-like), see hair.h
  kClosureHairTransmission,  // Hair BSDF › Transmission
};

OPTICA_HD bool closure_is_hair(int32_t type) {
  return type == kClosureHairChiang || type == kClosureHairReflection || type == kClosureHairTransmission;
}

enum MicrofacetDistribution : int32_t { kDistGGX = 0, kDistBeckmann = 1 };
enum MicrofacetLobes : int32_t { kLobeReflect = 1, kLobeRefract = 2, kLobeGlass = 3 };
enum FresnelType : int32_t {
  kFresnelNone = 0,            // 1 for reflection; transmission excludes total internal reflection
  kFresnelDielectric,          // the exact dielectric Fresnel of `ior`
  kFresnelGeneralizedSchlick,  // f0..f90 by the real Fresnel curve (exponent < 0) or Schlick
  kFresnelF82Tint,             // Kutz et al.'s F82-tint metal (Principled metallic)
  kFresnelConductor,           // complex IOR n + ik (Metallic BSDF, physical conductor)
};

// Squared roughness below which a microfacet lobe is a perfect mirror (Cycles' threshold).
constexpr float kRoughnessSqThreshold = 2e-10f;
// Closures lighter than this are not created (Cycles' CLOSURE_WEIGHT_CUTOFF).
constexpr float kClosureWeightCutoff = 1e-5f;
constexpr int kMaxClosures = 16;

struct Closure {
  int32_t type;
  int32_t distribution;  // microfacet
  int32_t lobes;         // microfacet: MicrofacetLobes
  int32_t fresnel;       // microfacet: FresnelType
  float3 weight;         // colour weight (includes the mix weight)
  float sample_weight;   // selection weight: average(weight) × estimated albedo
  float3 N;
  float3 T;              // anisotropy tangent (microfacet), sheen frame tangent; zero if unused
  float alpha_x, alpha_y;
  float ior;             // microfacet: relative IOR across the surface (1/ior from the back)
  float energy_scale;    // multiscatter GGX compensation
  // Fresnel data. Generalized Schlick: f0, f90, exponent, tints. F82-tint: f0 and b (in f90).
  // Conductor: n (f0) and k (f90). Oren-Nayar: a, b (alpha_x, alpha_y) and the multiscatter
  // term (f0). Sheen: LTC-like lobe parameters (alpha_x, alpha_y), bitangent in f90.
  float3 f0, f90;
  float3 reflection_tint, transmission_tint;
  float exponent;
  float3 albedo;  // microfacet: estimated directional albedo of the Fresnel model (set at setup)
};

struct ClosureList {
  Closure c[kMaxClosures];
  int32_t count;
  float3 emission;     // emitted radiance (surface) or background radiance (world)
  float3 transparent;  // weight of straight-through transmission (Cycles' transparent extinction)
  float3 holdout;      // weight cut out of the image's alpha
};

OPTICA_HD void closures_clear(ClosureList &cl) {
  cl.count = 0;
  cl.emission = make3(0.0f);
  cl.transparent = make3(0.0f);
  cl.holdout = make3(0.0f);
}

// A new lobe of the given colour weight, or null when it is too light or the list is full.
OPTICA_HD Closure *closure_alloc(ClosureList &cl, int32_t type, float3 weight) {
  weight = max3(weight, make3(0.0f));
  float sample_weight = fabsf(average(weight));
  if (!(sample_weight >= kClosureWeightCutoff) || cl.count >= kMaxClosures) return nullptr;
  Closure *c = &cl.c[cl.count++];
  c->type = type;
  c->weight = weight;
  c->sample_weight = sample_weight;
  c->distribution = kDistGGX;
  c->lobes = kLobeReflect;
  c->fresnel = kFresnelNone;
  c->T = make3(0.0f);
  c->alpha_x = c->alpha_y = 0.0f;
  c->ior = 1.0f;
  c->energy_scale = 1.0f;
  c->exponent = 0.0f;
  c->f0 = c->f90 = make3(0.0f);
  c->reflection_tint = c->transmission_tint = make3(1.0f);
  c->albedo = make3(1.0f);
  return c;
}

// Transparency is one lobe whose weight accumulates (Cycles' bsdf_transparent_setup).
OPTICA_HD void closure_add_transparent(ClosureList &cl, float3 weight, float3 N) {
  weight = max3(weight, make3(0.0f));
  if (!(fabsf(average(weight)) >= kClosureWeightCutoff)) return;
  cl.transparent += weight;
  for (int i = 0; i < cl.count; ++i)
    if (cl.c[i].type == kClosureTransparent) {
      cl.c[i].weight += weight;
      cl.c[i].sample_weight += fabsf(average(weight));
      return;
    }
  Closure *c = closure_alloc(cl, kClosureTransparent, weight);
  if (c) c->N = N;
}

}  // namespace optica
