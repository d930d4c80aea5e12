// Unidirectional path tracing with next-event estimation, multiple importance sampling
// (power heuristic) and Russian roulette. One call traces one camera sample of one pixel.
#pragma once
#include "camera.h"
#include "lights.h"
#include "sampler.h"
#include "surface.h"

#include <cstring>

namespace optica {

constexpr int kMaxTransparentHits = 64;
constexpr int kRouletteStart = 3;  // bounces before Russian roulette may end a path

struct PathResult {
  float3 radiance;
  float3 albedo;   // first hit
  float3 normal;   // first hit, world space; zero on a miss
  float depth;     // camera-space Z of the first hit; kMissDepth on a miss
  int32_t object_id;
};

OPTICA_HD int32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_int(f);
#else
  int32_t i; memcpy(&i, &f, 4); return i;
#endif
}
OPTICA_HD float bits_float(int32_t i) {
#if defined(__CUDA_ARCH__)
  return __int_as_float(i);
#else
  float f; memcpy(&f, &i, 4); return f;
#endif
}

// Moves a hit point off its surface along ±n so a new ray does not hit it again
// (Wächter & Binder, Ray Tracing Gems ch. 6): robust at any distance from the origin.
OPTICA_HD float3 offset_ray_origin(float3 p, float3 n) {
  const float origin = 1.0f / 32.0f, float_scale = 1.0f / 65536.0f, int_scale = 256.0f;
  float3 r;
  for (int i = 0; i < 3; ++i) {
    int32_t of = int32_t(int_scale * n[i]);
    float pi = bits_float(float_bits(p[i]) + (p[i] < 0.0f ? -of : of));
    r[i] = fabsf(p[i]) < origin ? p[i] + float_scale * n[i] : pi;
  }
  return r;
}

OPTICA_HD float3 clamp_contribution(float3 c, float limit) {
  if (limit <= 0.0f) return c;
  float m = max_component(c);
  return m > limit ? c * (limit / m) : c;
}

OPTICA_HD uint32_t pixel_seed(const KernelScene &s, int px, int py) {
  return hash_combine(hash_combine(s.seed, uint32_t(px)), uint32_t(py));
}

// Fraction of light that reaches along a shadow ray: 0 or 1, except through surfaces whose
// material has alpha < 1, which let (1 − alpha) through, as stochastic alpha does on average.
OPTICA_HD float shadow_transmittance(const KernelScene &s, Ray ray) {
  if (!s.has_alpha) return intersect_any(s, ray) ? 0.0f : 1.0f;
  float transmittance = 1.0f;
  for (int i = 0; i < kMaxTransparentHits; ++i) {
    Hit hit;
    if (!intersect_closest(s, ray, hit)) return transmittance;
    SurfacePoint sp;
    surface_at(s, ray, hit, sp);
    transmittance *= 1.0f - sp.material->alpha;
    if (transmittance <= 0.0f) return 0.0f;
    ray.o = offset_ray_origin(sp.p, dot(ray.d, sp.ng) > 0.0f ? sp.ng : -sp.ng);
    ray.tmax -= hit.t;
  }
  return 0.0f;
}

OPTICA_HD float emissive_triangle_pdf(const KernelScene &s, const Hit &hit, const Ray &ray, float3 le) {
  // Light-sampling pdf of the point we hit, in solid angle, for MIS.
  const InstanceView &inst = s.instances[hit.instance];
  const GeometryView &g = s.geometries[inst.geometry];
  const int32_t *tri = g.tri_idx + 3 * size_t(hit.prim);
  float3 v0 = inst.xfm.point(g.vertices[tri[0]]);
  float3 v1 = inst.xfm.point(g.vertices[tri[1]]);
  float3 v2 = inst.xfm.point(g.vertices[tri[2]]);
  float3 c = cross(v1 - v0, v2 - v0);
  float area = 0.5f * length(c);
  float cos_l = fabsf(dot(c, ray.d)) / (2.0f * area);
  if (area <= 0.0f || cos_l <= 0.0f) return 0.0f;
  float sel = emissive_select_pdf(s, le, area) / light_entries(s);
  return sel * hit.t * hit.t / (area * cos_l);
}

OPTICA_HD PathResult trace_path(const KernelScene &s, int px, int py, uint32_t sample_index) {
  PathResult out;
  out.radiance = make3(0.0f);
  out.albedo = make3(0.0f);
  out.normal = make3(0.0f);
  out.depth = kMissDepth;
  out.object_id = -1;

  Sampler smp{s.sobol, pixel_seed(s, px, py), sample_index, 0};
  Sample4 cam = smp.next4();
  float depth_scale, depth_offset;
  Ray ray = camera_ray(s.camera, px, py, cam.v[0], cam.v[1], cam.v[2], cam.v[3], depth_scale, depth_offset);

  float3 beta = make3(1.0f);
  bool specular = true;   // the last bounce was a delta lobe (or this is the camera ray)
  float prev_pdf = 0.0f;  // solid-angle pdf of the last BSDF sample
  int transparent = 0;
  for (int bounce = 0;;) {
    Hit hit;
    bool found = intersect_closest(s, ray, hit);
    float tmax = found ? hit.t : ray.tmax;
    float clamp = bounce <= 1 ? s.clamp_direct : s.clamp_indirect;
    // Lights are seen by reflected rays but not by the camera (Cycles' default).
    if (bounce > 0 && s.num_lights > 0)
      out.radiance += clamp_contribution(beta * hit_analytic_lights(s, ray.o, ray.d, tmax, prev_pdf, specular), clamp);
    if (!found) {
      float3 le = s.world;
      if (bounce > 0) {
        float sun_pdf;
        float3 sun = eval_suns(s, ray.d, sun_pdf);
        if (!is_black(sun)) le += sun * (specular ? 1.0f : power_heuristic(prev_pdf, sun_pdf));
      }
      out.radiance += clamp_contribution(beta * le, clamp);
      break;
    }

    SurfacePoint sp;
    surface_at(s, ray, hit, sp);
    const MaterialView &m = *sp.material;
    Sample4 su = smp.next4();  // alpha, lobe, direction u1, u2
    Sample4 sl = smp.next4();  // light selection, light u1, u2, roulette

    if (m.alpha < 1.0f && su.v[0] >= m.alpha) {
      // Stochastic transparency: continue straight through without counting a bounce.
      if (++transparent > kMaxTransparentHits) break;
      ray.o = offset_ray_origin(sp.p, dot(ray.d, sp.ng) > 0.0f ? sp.ng : -sp.ng);
      ray.tmax = tmax - hit.t;
      ray.tmin = 0.0f;
      continue;
    }

    Bsdf bsdf = make_bsdf(s, sp);
    if (bounce == 0) {
      out.albedo = bsdf_albedo(bsdf);
      out.normal = sp.ns;
      out.depth = hit.t * depth_scale + depth_offset;
      out.object_id = sp.object_id;
    }

    if (!is_black(m.emission)) {
      const GeometryView &g = s.geometries[s.instances[hit.instance].geometry];
      float w = 1.0f;
      if (!specular && bounce > 0 && g.type == kGeomMesh && s.num_emissive > 0)
        w = power_heuristic(prev_pdf, emissive_triangle_pdf(s, hit, ray, m.emission));
      out.radiance += clamp_contribution(beta * m.emission * w, clamp);
    }
    // Cycles counts bounces after direct lighting: max_bounces 0 still lights the first hit,
    // and the last vertex gets light sampling (unweighted: no BSDF ray follows it) but no
    // continuation.
    bool last_vertex = bounce >= s.max_bounces;

    Frame frame = Frame::from_normal(sp.ns);
    float3 wo = frame.to_local(-ray.d);
    float wo_ng = dot(-ray.d, sp.ng);
    float clamp_next = bounce == 0 ? s.clamp_direct : s.clamp_indirect;

    // Next-event estimation.
    LightSample ls;
    if (sample_any_light(s, sp.p, sl.v[0], sl.v[1], sl.v[2], ls)) {
      float bsdf_pdf;
      float3 f = bsdf_eval(bsdf, wo, frame.to_local(ls.wi), bsdf_pdf);
      float wi_ng = dot(ls.wi, sp.ng);
      if (!is_black(f) && wi_ng * wo_ng != 0.0f) {
        Ray shadow;
        shadow.o = offset_ray_origin(sp.p, wi_ng > 0.0f ? sp.ng : -sp.ng);
        shadow.d = ls.wi;
        shadow.tmin = 0.0f;
        shadow.tmax = ls.dist < kInf ? ls.dist * (1.0f - 1e-4f) : kInf;
        float vis = shadow_transmittance(s, shadow);
        if (vis > 0.0f) {
          float w = (ls.delta || last_vertex) ? 1.0f : power_heuristic(ls.pdf, bsdf_pdf);
          out.radiance += clamp_contribution(beta * f * ls.li * (w * vis / ls.pdf), clamp_next);
        }
      }
    }

    if (last_vertex) break;

    // Continue the path by sampling the BSDF.
    BsdfSample bs;
    if (!bsdf_sample(bsdf, wo, su.v[1], su.v[2], su.v[3], bs)) break;
    float3 wi = frame.to_world(bs.wi);
    float wi_ng = dot(wi, sp.ng);
    bool shading_reflect = bs.wi.z * wo.z > 0.0f;
    bool geometric_reflect = wi_ng * wo_ng > 0.0f;
    if (shading_reflect != geometric_reflect) break;  // shading normal would leak light
    beta *= bs.weight;
    specular = bs.delta;
    prev_pdf = bs.pdf;
    ray.o = offset_ray_origin(sp.p, wi_ng > 0.0f ? sp.ng : -sp.ng);
    ray.d = wi;
    ray.tmin = 0.0f;
    ray.tmax = kInf;
    ++bounce;

    if (bounce >= kRouletteStart) {
      float q = minf(max_component(beta), 1.0f);
      if (sl.v[3] >= q) break;
      beta = beta / q;
    }
  }
  // A NaN from a degenerate configuration must not poison the running mean.
  if (!(out.radiance.x == out.radiance.x && out.radiance.y == out.radiance.y && out.radiance.z == out.radiance.z))
    out.radiance = make3(0.0f);
  return out;
}

}  // namespace optica
