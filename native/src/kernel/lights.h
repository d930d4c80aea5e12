// Light sampling and evaluation, in Cycles' units:
//   point/spot: a sphere of `radius` with radiance power/(4π²r²) (intensity power/(4π) W/sr);
//   sun: irradiance `strength` spread over a cone of the given angular diameter;
//   area: one-sided Lambertian emitter with radiance power/(π·area);
//   emissive triangles: radiance = emission colour · strength.
// Light selection: uniform over the analytic lights plus one entry for all emissive
// triangles, which are then chosen in proportion to their programs' emission estimate × area
// (the radiance of a sampled triangle point comes from running its program there), plus one
// for the world when it has an importance map (world_sampling.h).
#pragma once
#include "sampling.h"
#include "scene_data.h"
#include "svm/eval.h"
#include "world_sampling.h"

namespace optica {

struct LightSample {
  float3 wi;       // towards the light
  float dist;      // to the sampled point (inf for the sun)
  float3 li;       // radiance arriving (delta lights: irradiance-like value; see pdf)
  float pdf;       // solid angle, including the selection probability; delta: selection prob.
  bool delta;
};

OPTICA_HD bool world_is_light(const KernelScene &s) { return s.world_map.res_x > 0; }

OPTICA_HD int light_entries(const KernelScene &s) {
  return s.num_lights + (s.num_emissive > 0 ? 1 : 0) + (world_is_light(s) ? 1 : 0);
}

// Light-sampling pdf (solid angle, selection included) of the world along d.
OPTICA_HD float world_light_pdf(const KernelScene &s, float3 d) { return world_map_pdf(s, d) / light_entries(s); }

OPTICA_HD float spot_mask(const LightView &l, float3 from_light) {
  if (l.type != kLightSpot) return 1.0f;
  float c = dot(from_light, l.dir);
  if (c <= l.cos_half_spot) return 0.0f;
  return smoothstep01((c - l.cos_half_spot) * l.spot_smooth);
}

// Uniform sampling of the solid angle a rectangle subtends (Ureña, Fajardo & King 2013,
// "An Area-Preserving Parametrization for Spherical Rectangles"), as Cycles samples
// rectangular area lights: far less noise than area sampling for large, close lights.
// The paper's interior angles are acos of a dot product and the solid angle their sum minus
// 2π; in single precision that cancels badly when the rectangle is small or seen edge-on (acos
// near ±1 is off by ~sqrt(ε) ≈ 3e-4 rad): the top centimetres of a wall beside a ceiling panel
// got a solid angle, and so a light sample weight, off by 1-8 %. We keep each angle as
// π/2 − asin(·) instead (asin of a product of the edge planes' z components is exact to ε), so
// the π/2 terms cancel exactly and the solid angle is −Σ asin (as Cycles' area.h does).
struct SphericalRect {
  float3 o, x, y, z;
  float z0, x0, y0, x1, y1, b0, b1;
  float a23;          // asin terms of the two angles the u draw starts from
  float solid_angle;
};

// Below this area / distance² the light subtends too small a solid angle for spherical
// sampling to beat area sampling by enough to pay its cost (four asin per sample, measured
// ~25% of a Cornell-box path).
constexpr float kSphericalRectMinSize = 0.25f;
// Even as asin the angles lose precision where an argument nears ±1 (an edge plane almost in
// the rectangle's own plane: the light seen edge-on, or from far away): asin's slope
// 1/sqrt(1 − a²) multiplies the argument's rounding error. Where the bound of that error over
// the four angles exceeds this fraction of the solid angle, the light is area-sampled instead
// (exact pdf; such lights subtend little, so the extra noise is small).
constexpr float kSphericalRectMaxRelError = 1e-3f;

OPTICA_HD float safe_asin(float x) { return asinf(clampf(x, -1.0f, 1.0f)); }

// Error bound of asin(a) for an argument a that carries ~4 rounding errors (a product of two
// normalised components): the slope times that error, at most sqrt(2 × error) at |a| = 1.
OPTICA_HD float asin_error(float a) {
  const float da = 4.0f * 5.96e-8f;
  return da / sqrtf(maxf(1.0f - a * a, 0.5f * da));
}

OPTICA_HD bool spherical_rect_init(const LightView &l, float3 o, SphericalRect &q) {
  float3 to_light = l.pos - o;
  if (l.area < kSphericalRectMinSize * dot(to_light, to_light)) return false;
  float3 ex = l.axis_u * 2.0f, ey = l.axis_v * 2.0f;
  float exl = length(ex), eyl = length(ey);
  q.o = o;
  q.x = ex / exl;
  q.y = ey / eyl;
  q.z = cross(q.x, q.y);
  float3 d = (l.pos - l.axis_u - l.axis_v) - o;
  q.z0 = dot(d, q.z);
  if (q.z0 > 0.0f) { q.z = -q.z; q.z0 = -q.z0; }
  if (!(fabsf(q.z0) > 1e-6f)) return false;
  q.x0 = dot(d, q.x);
  q.y0 = dot(d, q.y);
  q.x1 = q.x0 + exl;
  q.y1 = q.y0 + eyl;
  // z components of the four edge planes' inward normals (edges y0, x1, y1, x0 in turn).
  float z2 = q.z0 * q.z0;
  float n0 = -q.y0 / sqrtf(q.y0 * q.y0 + z2), n1 = q.x1 / sqrtf(q.x1 * q.x1 + z2);
  float n2 = q.y1 / sqrtf(q.y1 * q.y1 + z2), n3 = -q.x0 / sqrtf(q.x0 * q.x0 + z2);
  float s0 = -n0 * n1, s1 = -n1 * n2, s2 = -n2 * n3, s3 = -n3 * n0;
  float a2 = safe_asin(s2), a3 = safe_asin(s3);
  q.b0 = n0;
  q.b1 = n2;
  q.a23 = a2 + a3;
  q.solid_angle = -(safe_asin(s0) + safe_asin(s1) + a2 + a3);
  float error = asin_error(s0) + asin_error(s1) + asin_error(s2) + asin_error(s3);
  return error < kSphericalRectMaxRelError * q.solid_angle;
}

OPTICA_HD float3 spherical_rect_sample(const SphericalRect &q, float u, float v) {
  // The paper's au = u·S + k with k = π + a2 + a3; the π flips the signs of cos and sin,
  // which is folded into fu.
  float au = u * q.solid_angle + q.a23;
  float fu = safe_divide(cosf(au) * q.b0 + q.b1, sinf(au));
  float cu = clampf(copysignf(1.0f, fu) / sqrtf(fu * fu + q.b0 * q.b0), -1.0f, 1.0f);
  float xu = clampf(-(cu * q.z0) / maxf(sqrtf(1.0f - cu * cu), 1e-7f), q.x0, q.x1);
  float d2 = xu * xu + q.z0 * q.z0;
  float h0 = q.y0 / sqrtf(d2 + q.y0 * q.y0), h1 = q.y1 / sqrtf(d2 + q.y1 * q.y1);
  float hv = h0 + v * (h1 - h0), hv2 = hv * hv;
  float yv = hv2 < 1.0f - 1e-6f ? hv * sqrtf(d2 / (1.0f - hv2)) : q.y1;
  return q.o + q.x * xu + q.y * yv + q.z * q.z0;
}

// Solid-angle pdf of sampling area light `l` from `o` towards a point on it seen at
// distance t with cos_l between the ray and the light's normal.
OPTICA_HD float area_light_pdf(const LightView &l, float3 o, float t, float cos_l) {
  SphericalRect q;
  if (!l.ellipse && spherical_rect_init(l, o, q)) return 1.0f / q.solid_angle;
  return t * t / (l.area * cos_l);
}

OPTICA_HD float emissive_select_pdf(const KernelScene &s, float3 radiance, float area) {
  return luminance(radiance) * area / s.emissive_total;
}

// A triangle of a moving instance or deforming mesh is sampled where it is at the shading
// point's time (as Cycles' triangle_light_sample): its point density is 1 / its area then, while
// selection keeps the frame's area (any fixed weight is unbiased; the hit side uses the same).
OPTICA_HD void emissive_world_triangle(const KernelScene &s, uint32_t instance, uint32_t prim, float time, float3 &v0,
                                       float3 &e1, float3 &e2) {
  const InstanceView &inst = s.instances[instance];
  float3 v[3];
  triangle_vertices_at(s.geometries[inst.geometry], prim, time, v);
  Affine xfm = instance_transform_at(s, inst, time);
  v0 = xfm.point(v[0]);
  e1 = xfm.point(v[1]) - v0;
  e2 = xfm.point(v[2]) - v0;
}

OPTICA_HD bool sample_emissive(const KernelScene &s, float3 p, float time, const PathState &path, float u0, float u1,
                               float u2, LightSample &ls) {
  // Binary search of the power CDF.
  int lo = 0, hi = s.num_emissive - 1;
  while (lo < hi) {
    int mid = (lo + hi) >> 1;
    if (s.emissive_cdf[mid + 1] <= u0) lo = mid + 1; else hi = mid;
  }
  const EmissiveTri &t = s.emissive[lo];
  float su = sqrtf(u1);
  float b1 = 1.0f - su, b2 = u2 * su;
  float3 v0 = t.v0, e1 = t.e1, e2 = t.e2;
  float area = t.area;
  if (t.moving) {
    emissive_world_triangle(s, t.instance, t.prim, time, v0, e1, e2);
    area = 0.5f * length(cross(e1, e2));
    if (!(area > 0.0f)) return false;
  }
  float3 q = v0 + e1 * b1 + e2 * b2;
  float3 n = normalize(cross(e1, e2));
  float3 d = q - p;
  float d2 = dot(d, d);
  if (d2 <= 0.0f) return false;
  float dist = sqrtf(d2);
  ls.wi = d / dist;
  float cos_l = fabsf(dot(n, ls.wi));  // emission is two-sided, as Cycles' Emission shader
  if (cos_l <= 1e-8f) return false;
  ls.dist = dist;
  ShaderData sd;
  shader_setup_surface(s, t.instance, t.prim, 0, b1, b2, q, -ls.wi, p, dist, 0.0f, time, sd);
  sd.path = path;
  sd.path.flags |= kPathEmission;
  ClosureList cl;
  svm_eval(s, s.materials[t.material], sd, cl);
  if (is_zero3(cl.emission)) return false;
  ls.li = cl.emission;
  ls.pdf = emissive_select_pdf(s, t.estimate, t.area) * d2 / (area * cos_l);
  ls.delta = false;
  return true;
}

OPTICA_HD bool sample_light(const KernelScene &s, const LightView &l, float3 p, float u1, float u2, LightSample &ls) {
  ls.delta = false;
  switch (l.type) {
    case kLightPoint:
    case kLightSpot: {
      float3 to_c = l.pos - p;
      float d2 = dot(to_c, to_c);
      float dist_c = sqrtf(d2);
      float3 axis = to_c / dist_c;
      if (l.radius <= 0.0f) {
        float mask = spot_mask(l, -axis);
        if (mask <= 0.0f) return false;
        ls.wi = axis;
        ls.dist = dist_c;
        ls.li = l.radiance * (mask / d2);
        ls.pdf = 1.0f;
        ls.delta = true;
        return true;
      }
      float sin2 = l.radius * l.radius / d2;
      if (sin2 >= 1.0f) return false;  // inside the light
      float one_minus_cos = sin2 / (1.0f + sqrtf(1.0f - sin2));
      float3 local = sample_uniform_cone(u1, u2, 1.0f - one_minus_cos);
      Frame f = Frame::from_normal(axis);
      ls.wi = normalize(f.to_world(local));
      // Distance to the sphere along wi.
      float b = dot(to_c, ls.wi);
      float disc = l.radius * l.radius - (d2 - b * b);
      ls.dist = b - safe_sqrt(disc);
      // As Cycles: the cone is evaluated from the sampled point of the sphere, which softens
      // a spot's edge by the light's size.
      float mask = spot_mask(l, -ls.wi);
      if (mask <= 0.0f) return false;
      ls.li = l.radiance * mask;
      ls.pdf = 1.0f / (2.0f * kPi * one_minus_cos);
      return true;
    }
    case kLightSun: {
      ls.dist = kInf;
      if (l.cos_half_angle >= 1.0f) {
        ls.wi = -l.dir;
        ls.li = l.radiance;
        ls.pdf = 1.0f;
        ls.delta = true;
        return true;
      }
      Frame f = Frame::from_normal(-l.dir);
      ls.wi = normalize(f.to_world(sample_uniform_cone(u1, u2, l.cos_half_angle)));
      ls.li = l.radiance;
      ls.pdf = uniform_cone_pdf(l.cos_half_angle);
      return true;
    }
    case kLightArea: {
      if (dot(p - l.pos, l.dir) <= 0.0f) return false;  // behind the emitting side
      SphericalRect rect;
      bool by_solid_angle = !l.ellipse && spherical_rect_init(l, p, rect);
      float3 q;
      if (by_solid_angle) {
        q = spherical_rect_sample(rect, u1, u2);
      } else if (l.ellipse) {
        float2 d = sample_concentric_disk(u1, u2);
        q = l.pos + l.axis_u * d.x + l.axis_v * d.y;
      } else {
        q = l.pos + l.axis_u * (2.0f * u1 - 1.0f) + l.axis_v * (2.0f * u2 - 1.0f);
      }
      float3 d = q - p;
      float d2 = dot(d, d);
      if (d2 <= 0.0f) return false;
      float dist = sqrtf(d2);
      ls.wi = d / dist;
      float cos_l = -dot(ls.wi, l.dir);  // emits along dir only
      if (cos_l <= 1e-8f) return false;
      ls.dist = dist;
      ls.li = l.radiance;
      ls.pdf = by_solid_angle ? 1.0f / rect.solid_angle : d2 / (l.area * cos_l);
      return true;
    }
  }
  return false;
}

// A direction towards the world from its importance map.
OPTICA_HD bool sample_world(const KernelScene &s, float u1, float u2, LightSample &ls) {
  float pdf;
  float3 d = world_map_sample(s, u1, u2, pdf);
  if (!(pdf > 0.0f)) return false;
  ls.wi = d;
  ls.dist = kInf;
  ls.li = world_emission(s, d);
  ls.pdf = pdf;
  ls.delta = false;
  return !is_zero3(ls.li);
}

// Picks a light entry and samples it (seen from p at shutter time `time`); pdf includes the
// selection probability.
OPTICA_HD bool sample_any_light(const KernelScene &s, float3 p, float time, const PathState &path, float u_sel, float u1,
                                float u2, LightSample &ls) {
  int n = light_entries(s);
  if (n == 0) return false;
  int pick = int(u_sel * n);
  if (pick >= n) pick = n - 1;
  float sel = 1.0f / n;
  bool ok;
  if (pick < s.num_lights) {
    ok = sample_light(s, s.lights[pick], p, u1, u2, ls);
  } else if (pick == n - 1 && world_is_light(s)) {
    ok = sample_world(s, u1, u2, ls);
  } else {
    float u0 = u_sel * n - pick;  // remainder of the selection number, uniform in [0, 1)
    ok = sample_emissive(s, p, time, path, u0, u1, u2, ls);
  }
  if (!ok) return false;
  ls.pdf *= sel;
  return true;
}

// Radiance that a ray leaving a surface (o, d) picks up from analytic lights in front of
// tmax, weighted by the power heuristic against light sampling. Lights do not block rays:
// as in Cycles, a path passes through a light it hits.
OPTICA_HD float3 hit_analytic_lights(const KernelScene &s, float3 o, float3 d, float tmax, float bsdf_pdf,
                                    bool specular) {
  int n = light_entries(s);
  float3 sum = make3(0.0f);
  for (int i = 0; i < s.num_lights; ++i) {
    const LightView &l = s.lights[i];
    float pdf;
    float3 le;
    if (l.type == kLightPoint || l.type == kLightSpot) {
      if (l.radius <= 0.0f) continue;
      float3 oc = o - l.pos;
      float b = dot(oc, d);
      float c = dot(oc, oc) - l.radius * l.radius;
      if (c <= 0.0f) continue;  // inside the light
      float disc = b * b - c;
      if (disc < 0.0f) continue;
      float t = -b - sqrtf(disc);
      if (t <= 0.0f || t >= tmax) continue;
      float mask = spot_mask(l, -d);
      if (mask <= 0.0f) continue;
      float sin2 = l.radius * l.radius / dot(oc, oc);
      float one_minus_cos = sin2 / (1.0f + sqrtf(1.0f - sin2));
      le = l.radiance * mask;
      pdf = 1.0f / (2.0f * kPi * one_minus_cos) / n;
    } else if (l.type == kLightArea) {
      float denom = dot(d, l.dir);
      if (denom >= 0.0f) continue;  // behind the emitting side, or parallel
      float t = dot(l.pos - o, l.dir) / denom;
      if (t <= 0.0f || t >= tmax) continue;
      float3 q = o + d * t - l.pos;
      float x = dot(q, l.axis_u) / dot(l.axis_u, l.axis_u);
      float y = dot(q, l.axis_v) / dot(l.axis_v, l.axis_v);
      bool inside = l.ellipse ? (x * x + y * y <= 1.0f) : (fabsf(x) <= 1.0f && fabsf(y) <= 1.0f);
      if (!inside) continue;
      le = l.radiance;
      pdf = area_light_pdf(l, o, t, -denom) / n;
    } else {
      continue;
    }
    sum += le * (specular ? 1.0f : power_heuristic(bsdf_pdf, pdf));
  }
  return sum;
}

// Radiance from suns with a finite angle seen along an escaping direction, and its pdf.
OPTICA_HD float3 eval_suns(const KernelScene &s, float3 d, float &pdf_sum) {
  int n = light_entries(s);
  float3 le = make3(0.0f);
  pdf_sum = 0.0f;
  for (int i = 0; i < s.num_lights; ++i) {
    const LightView &l = s.lights[i];
    if (l.type != kLightSun || l.cos_half_angle >= 1.0f) continue;
    if (dot(d, -l.dir) >= l.cos_half_angle) {
      le += l.radiance;
      pdf_sum += uniform_cone_pdf(l.cos_half_angle) / n;
    }
  }
  return le;
}

}  // namespace optica
