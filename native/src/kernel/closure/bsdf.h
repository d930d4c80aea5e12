// Evaluating and sampling a closure list as Cycles does: every lobe is evaluated for MIS (the
// one-sample model with the balance heuristic over lobes), one lobe is picked for sampling in
// proportion to its sample weight. `ns` is the smooth shading normal before bump/normal maps.
#pragma once
#include "diffuse.h"
#include "hair.h"

namespace optica {

struct ShadingFrame {
  float3 ns;  // smooth normal (faces wi)
  float3 ng;  // geometric normal (faces wi)
  float3 wi;  // towards where the ray came from
  float terminator_frequency = 1.0f;  // the object's Shadow Terminator › Shading Offset, as
                                      // Cycles' kernel holds it (1: off)
};

// Shading Offset (Cycles' shift_cos_in, from appleseed): stretches the angle to the normal so
// that reflection fades out before the terminator.
OPTICA_HD float shift_cos_in(float cos_in, float frequency) {
  cos_in = minf(cos_in, 1.0f);
  return maxf(cosf(acosf(cos_in) * frequency), 0.0f) / cos_in;
}

// Keeps bump and normal maps from leaking light through the smooth surface, and softens the
// terminator of bumped diffuse lobes (Cycles' bump_shadowing_term).
OPTICA_HD float bump_shadowing(const ShadingFrame &f, const Closure &c, float3 dir, bool is_eval) {
  if (equal3(c.N, f.ns)) return 1.0f;
  if (closure_is_hair(c.type) && c.lobes) return 1.0f;  // on a curve: Cycles does not smooth curves
  float cos_nsi = dot(f.ns, dir), cos_nsn = dot(f.ns, c.N), cos_ni = dot(c.N, dir);
  bool diffuse = c.type == kClosureDiffuse || c.type == kClosureOrenNayar || c.type == kClosureTranslucent ||
                 c.type == kClosureSheen;
  if (cos_nsi * cos_nsn * cos_ni < 0.0f && (is_eval || diffuse)) return 0.0f;
  if (!diffuse) return 1.0f;
  float cos_i = fabsf(cos_nsi), cos_d = fabsf(cos_nsn);
  if (cos_d >= 1.0f || cos_i >= 1.0f) return 1.0f;
  if (cos_i < 1e-6f) return 0.0f;
  float bump_alpha2 = saturatef(0.125f * (1.0f / sqr(cos_d) - 1.0f));
  return 1.0f / (1.0f + mf_lambda(kDistGGX, bump_alpha2, cos_i));
}

OPTICA_HD float3 closure_eval(const ShadingFrame &f, const Closure &c, float3 wo, float &pdf) {
  pdf = 0.0f;
  float shadow = bump_shadowing(f, c, wo, true);
  if (shadow == 0.0f) return make3(0.0f);
  float3 v = make3(0.0f);
  switch (c.type) {
    case kClosureDiffuse: {
      float cos_o = maxf(dot(c.N, wo), 0.0f) * kInvPi;
      pdf = cos_o;
      v = make3(cos_o);
      break;
    }
    case kClosureOrenNayar: {
      float cos_o = dot(c.N, wo);
      if (cos_o > 0.0f) {
        pdf = cos_o * kInvPi;
        v = oren_nayar_value(c, f.wi, wo);
      }
      break;
    }
    case kClosureTranslucent: {
      float cos_o = maxf(-dot(c.N, wo), 0.0f) * kInvPi;
      pdf = cos_o;
      v = make3(cos_o);
      break;
    }
    case kClosureSheen: {
      float cos_o = dot(c.N, wo);
      if (cos_o > 0.0f) {
        pdf = cos_o * kInvPi;
        v = make3(sheen_value(c.alpha_x, c.N, f.wi, wo));
      }
      break;
    }
    case kClosureMicrofacet:
      v = microfacet_eval(c, f.wi, wo, pdf);
      break;
    case kClosureHairChiang:
      v = hair_chiang_eval(c, f.wi, wo, pdf);
      break;
    case kClosureHairReflection:
    case kClosureHairTransmission:
      v = hair_kajiya_eval(c, f.wi, wo, pdf);
      break;
    default:  // transparent: a delta lobe, never evaluated
      break;
  }
  if (f.terminator_frequency > 1.0f) {
    float cos_o = dot(wo, c.N);
    if (cos_o >= 0.0f) v *= shift_cos_in(cos_o, f.terminator_frequency);
  }
  return v * shadow;
}

OPTICA_HD bool closure_sample(const ShadingFrame &f, const Closure &c, float u1, float u2, float u3, BsdfSample &s) {
  s.singular = false;
  s.transmit = false;
  switch (c.type) {
    case kClosureDiffuse:
    case kClosureOrenNayar:
    case kClosureSheen: {
      s.wo = sample_cosine_around(c.N, u1, u2, s.pdf);
      if (dot(f.ng, s.wo) <= 0.0f) return false;
      if (c.type == kClosureDiffuse) s.eval = make3(s.pdf);
      else if (c.type == kClosureOrenNayar) s.eval = oren_nayar_value(c, f.wi, s.wo);
      else s.eval = make3(sheen_value(c.alpha_x, c.N, f.wi, s.wo));
      break;
    }
    case kClosureTranslucent:
      s.wo = sample_cosine_around(-c.N, u1, u2, s.pdf);
      if (dot(f.ng, s.wo) >= 0.0f) return false;
      s.eval = make3(s.pdf);
      s.transmit = true;
      break;
    case kClosureMicrofacet:
      if (!microfacet_sample(c, f.ng, f.wi, u1, u2, u3, s)) return false;
      break;
    case kClosureHairChiang:
      if (!hair_chiang_sample(c, f.wi, u1, u2, u3, s)) return false;
      break;
    case kClosureHairReflection:
    case kClosureHairTransmission:
      if (!hair_kajiya_sample(c, f.wi, u1, u2, s)) return false;
      break;
    case kClosureTransparent:
      s.wo = -f.wi;
      s.pdf = 1e6f;
      s.eval = make3(1e6f);
      s.singular = true;
      s.transmit = true;
      return true;
    default:
      return false;
  }
  if (!s.transmit && f.terminator_frequency > 1.0f) s.eval *= shift_cos_in(dot(s.wo, c.N), f.terminator_frequency);
  if (!s.singular) s.eval *= bump_shadowing(f, c, s.wo, false);
  return s.pdf > 0.0f && !is_black(s.eval);
}

// Σ weight·f·cos over every lobe, and the mixture pdf Σ sw·pdf / Σ sw.
OPTICA_HD float3 closures_eval(const ShadingFrame &f, const ClosureList &cl, float3 wo, float &pdf) {
  float3 sum = make3(0.0f);
  float sum_pdf = 0.0f, sum_sw = 0.0f;
  for (int i = 0; i < cl.count; ++i) {
    const Closure &c = cl.c[i];
    float p;
    float3 v = closure_eval(f, c, wo, p);
    if (p != 0.0f) {
      sum += v * c.weight;
      sum_pdf += p * c.sample_weight;
    }
    sum_sw += c.sample_weight;
  }
  pdf = sum_sw > 0.0f ? sum_pdf / sum_sw : 0.0f;
  return sum;
}

struct MixtureSample {
  float3 wo;
  float3 weight;   // throughput factor: eval / pdf of the whole mixture
  float pdf;       // mixture pdf (for MIS against light sampling); delta lobes: their 1e6 value
  int32_t lobe;    // the sampled closure's type
  bool singular, transmit;
};

OPTICA_HD bool closures_sample(const ShadingFrame &f, const ClosureList &cl, float u_pick, float u1, float u2,
                               float u3, MixtureSample &out) {
  float sum_sw = 0.0f;
  for (int i = 0; i < cl.count; ++i) sum_sw += cl.c[i].sample_weight;
  if (!(sum_sw > 0.0f)) return false;
  // Pick a lobe by sample weight; u1, u2 sample its direction, u3 a glass lobe's
  // reflect/refract choice.
  float r = u_pick * sum_sw;
  int pick = cl.count - 1;
  float acc = 0.0f;
  for (int i = 0; i < cl.count; ++i) {
    if (r < acc + cl.c[i].sample_weight || i == cl.count - 1) { pick = i; break; }
    acc += cl.c[i].sample_weight;
  }
  const Closure &c = cl.c[pick];
  BsdfSample s;
  if (!closure_sample(f, c, u1, u2, u3, s)) return false;
  out.wo = s.wo;
  out.singular = s.singular;
  out.transmit = s.transmit;
  out.lobe = c.type;
  if (s.singular) {
    out.pdf = s.pdf;
    out.weight = s.eval * c.weight / (s.pdf * (c.sample_weight / sum_sw));
    return true;
  }
  float3 eval = s.eval * c.weight;
  float sum_pdf = s.pdf * c.sample_weight;
  for (int i = 0; i < cl.count; ++i) {
    if (i == pick) continue;
    float p;
    float3 v = closure_eval(f, cl.c[i], s.wo, p);
    if (p != 0.0f) {
      eval += v * cl.c[i].weight;
      sum_pdf += p * cl.c[i].sample_weight;
    }
  }
  out.pdf = sum_pdf / sum_sw;
  if (!(out.pdf > 0.0f)) return false;
  out.weight = eval / out.pdf;
  return true;
}

// First-hit albedo for the denoiser guide: Σ weight × estimated albedo of each lobe.
OPTICA_HD float3 closures_albedo(const BsdfTables &t, const ShadingFrame &f, const ClosureList &cl) {
  float3 sum = make3(0.0f);
  for (int i = 0; i < cl.count; ++i) {
    const Closure &c = cl.c[i];
    float3 a = c.weight;
    if (c.type == kClosureMicrofacet) a = a * c.albedo;
    else if (c.type == kClosureSheen) a = a * sheen_albedo(t, c.alpha_x, dot(c.N, f.wi));
    else if (c.type == kClosureHairChiang) a = a * hair_chiang_albedo(c, f.wi);
    else if (c.type == kClosureTransparent) continue;
    sum += a;
  }
  return sum;
}

}  // namespace optica
