// Unidirectional path tracing with next-event estimation, multiple importance sampling
// (power heuristic against light sampling; balance heuristic over a shader's lobes, as
// Cycles) and Russian roulette. One call traces one camera sample of one pixel. At every hit
// the material's shader program runs and yields the closures that are lit and sampled.
#pragma once
#include "camera.h"
#include "closure/bsdf.h"
#include "lights.h"
#include "sampler.h"
#include "svm/eval.h"

#include <cstring>

namespace optica {

constexpr int kMaxTransparentHits = 64;
constexpr int kRouletteStart = 3;  // bounces before Russian roulette may end a path

struct PathResult {
  float3 radiance;
  float alpha;     // coverage: 1 minus what holdout shaders cut out (and, with a transparent
                   // film, what camera rays see of the world)
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

// The material program of a hit (slot resolution with the instance's material list).
OPTICA_HD int32_t material_of(const KernelScene &s, const Hit &hit) {
  const InstanceView &inst = s.instances[hit.instance];
  const GeometryView &g = s.geometries[inst.geometry];
  if (inst.slot_count == 0) return 0;
  int32_t slot = (g.type == kGeomMesh && g.material_ids) ? g.material_ids[hit.prim] : 0;
  if (slot < 0) slot = 0;
  if (uint32_t(slot) >= inst.slot_count) slot = int32_t(inst.slot_count) - 1;
  return s.slot_materials[inst.slot_base + slot];
}

OPTICA_HD void shade(const KernelScene &s, int32_t material, ShaderData &sd, ClosureList &cl) {
  svm_eval(s, s.materials[material], sd, cl);
}

// Colour of the light that gets through along a shadow ray: surfaces whose program can be
// transparent are shaded (as shadow rays, for the Light Path node) and pass their
// transparent weight; anything else blocks.
OPTICA_HD float3 shadow_transmittance(const KernelScene &s, Ray ray, const PathState &path) {
  if (!s.has_transparency) return intersect_any(s, ray) ? make3(0.0f) : make3(1.0f);
  float3 transmittance = make3(1.0f);
  PathState shadow_path = path;
  shadow_path.flags = kPathShadow;
  for (int i = 0; i < kMaxTransparentHits; ++i) {
    Hit hit;
    if (!intersect_closest(s, ray, hit)) return transmittance;
    int32_t material = material_of(s, hit);
    if (!(s.materials[material].flags & kProgramTransparent)) return make3(0.0f);
    ShaderData sd;
    shader_setup_from_hit(s, ray, hit, sd);
    sd.path = shadow_path;
    ClosureList cl;
    shade(s, material, sd, cl);
    transmittance *= cl.transparent;
    if (is_black(transmittance)) return make3(0.0f);
    ray.o = offset_ray_origin(sd.P, -sd.Ng);
    ray.tmax -= hit.t;
    ++shadow_path.transparent_bounce;
  }
  return make3(0.0f);
}

// Light-sampling pdf (solid angle, from `origin`) of the emissive triangle point we hit.
OPTICA_HD float emissive_triangle_pdf(const KernelScene &s, const Hit &hit, float3 origin, float3 p, int32_t material) {
  const InstanceView &inst = s.instances[hit.instance];
  const GeometryView &g = s.geometries[inst.geometry];
  const int32_t *tri = g.tri_idx + 3 * size_t(hit.prim);
  float3 v0 = inst.xfm.point(g.vertices[tri[0]]);
  float3 v1 = inst.xfm.point(g.vertices[tri[1]]);
  float3 v2 = inst.xfm.point(g.vertices[tri[2]]);
  float3 c = cross(v1 - v0, v2 - v0);
  float area = 0.5f * length(c);
  float3 d = p - origin;
  float dist2 = dot(d, d);
  float cos_l = fabsf(dot(c, d)) / (2.0f * area * sqrtf(dist2));
  if (area <= 0.0f || cos_l <= 0.0f) return 0.0f;
  float sel = emissive_select_pdf(s, s.materials[material].emission_estimate, area) / light_entries(s);
  return sel * dist2 / (area * cos_l);
}

OPTICA_HD float3 world_radiance(const KernelScene &s, const Ray &ray, const PathState &path) {
  if (s.world_is_constant) return s.world_color;
  ShaderData sd;
  shader_setup_background(ray, sd);
  sd.path = path;
  ClosureList cl;
  svm_eval(s, s.world, sd, cl);
  return cl.emission;
}

// Path flags and bounce counters after a scattering event (Cycles' path_state_next).
OPTICA_HD void path_next(PathState &p, const MixtureSample &ms) {
  p.flags &= ~(kPathCamera | kPathDiffuse | kPathGlossy | kPathSingular | kPathReflect | kPathTransmit);
  ++p.bounce;
  p.flags |= ms.transmit ? kPathTransmit : kPathReflect;
  bool diffuse = ms.lobe == kClosureDiffuse || ms.lobe == kClosureOrenNayar || ms.lobe == kClosureTranslucent ||
                 ms.lobe == kClosureSheen;
  if (ms.transmit) ++p.transmission_bounce;
  else if (diffuse) ++p.diffuse_bounce;
  else ++p.glossy_bounce;
  if (diffuse) p.flags |= kPathDiffuse;
  else if (ms.singular) p.flags |= kPathGlossy | kPathSingular;
  else p.flags |= kPathGlossy;
}

OPTICA_HD PathResult trace_path(const KernelScene &s, int px, int py, uint32_t sample_index) {
  PathResult out;
  out.radiance = make3(0.0f);
  out.alpha = 1.0f;
  out.albedo = make3(0.0f);
  out.normal = make3(0.0f);
  out.depth = kMissDepth;
  out.object_id = -1;

  Sampler smp{s.sobol, pixel_seed(s, px, py), sample_index, 0};
  Sample4 cam = smp.next4();
  float depth_scale, depth_offset;
  Ray ray = camera_ray(s.camera, px, py, cam.v[0], cam.v[1], cam.v[2], cam.v[3], depth_scale, depth_offset);

  PathState path{kPathCamera, 0, 0, 0, 0, 0};
  float3 beta = make3(1.0f);
  bool specular = true;   // the last bounce was a delta lobe (or this is the camera ray)
  float prev_pdf = 0.0f;  // solid-angle pdf of the last BSDF sample
  float3 mis_origin = ray.o;  // where the last non-transparent scattering happened
  float mis_offset = 0.0f;    // distance from mis_origin to the current ray origin
  bool first_surface = true;  // AOVs come from the first surface that does not pass light straight on
  for (;;) {
    Hit hit;
    float ray_end = ray.tmax;
    bool found = intersect_closest(s, ray, hit);
    float tmax = found ? hit.t : ray.tmax;
    float clamp = path.bounce <= 1 ? s.clamp_direct : s.clamp_indirect;
    // Lights are seen by reflected rays but not by the camera (Cycles' default).
    if (path.bounce > 0 && s.num_lights > 0)
      out.radiance += clamp_contribution(
          beta * hit_analytic_lights(s, mis_origin, ray.d, mis_offset + tmax, prev_pdf, specular), clamp);
    if (!found) {
      if (path.bounce == 0 && s.transparent) {
        // Film › Transparent: what the camera sees of the world becomes coverage instead.
        out.alpha -= average(beta);
        break;
      }
      float3 le = world_radiance(s, ray, path);
      if (!specular && path.bounce > 0 && world_is_light(s)) le *= power_heuristic(prev_pdf, world_light_pdf(s, ray.d));
      if (path.bounce > 0) {
        float sun_pdf;
        float3 sun = eval_suns(s, ray.d, sun_pdf);
        if (!is_black(sun)) le += sun * (specular ? 1.0f : power_heuristic(prev_pdf, sun_pdf));
      }
      out.radiance += clamp_contribution(beta * le, clamp);
      break;
    }

    ShaderData sd;
    shader_setup_from_hit(s, ray, hit, sd);
    sd.path = path;
    int32_t material = material_of(s, hit);
    ClosureList cl;
    shade(s, material, sd, cl);
    Sample4 su = smp.next4();  // lobe pick, direction u1, u2, reflect/refract
    Sample4 sl = smp.next4();  // light selection, light u1, u2, roulette

    if (path.bounce == 0 && !is_black(cl.holdout)) {
      // Holdout cuts its weight out of the image's alpha and contributes nothing else.
      float cut = average(cl.holdout * beta);
      out.alpha -= cut;
      if (average(cl.holdout) >= 1.0f) break;
    }

    if (!is_zero3(cl.emission)) {
      float w = 1.0f;
      if (!specular && path.bounce > 0 && sd.is_mesh && s.num_emissive > 0)
        w = power_heuristic(prev_pdf, emissive_triangle_pdf(s, hit, mis_origin, sd.P, material));
      out.radiance += clamp_contribution(beta * cl.emission * w, clamp);
    }

    ShadingFrame frame{sd.N, sd.Ng, sd.wi};
    // Continue the path by sampling the closures (the sample is drawn before light sampling
    // only so that the AOVs know whether this surface passes the path straight on).
    MixtureSample ms;
    bool scattered = cl.count > 0 && closures_sample(frame, cl, su.v[0], su.v[1], su.v[2], su.v[3], ms);
    bool through = scattered && ms.lobe == kClosureTransparent;
    if (first_surface && !through) {
      first_surface = false;
      out.albedo = closures_albedo(s.tables, frame, cl);
      out.normal = sd.N;
      out.depth = hit.t * depth_scale + depth_offset;
      out.object_id = s.instances[hit.instance].object_id;
    }
    if (cl.count == 0) break;

    // Cycles counts bounces after direct lighting: max_bounces 0 still lights the first hit,
    // and the last vertex gets light sampling (unweighted: no BSDF ray follows it) but no
    // continuation.
    bool last_vertex = path.bounce >= s.max_bounces;
    float clamp_next = path.bounce == 0 ? s.clamp_direct : s.clamp_indirect;

    // Next-event estimation.
    LightSample ls;
    if (sample_any_light(s, sd.P, path, sl.v[0], sl.v[1], sl.v[2], ls)) {
      float bsdf_pdf;
      float3 f = closures_eval(frame, cl, ls.wi, bsdf_pdf);
      if (!is_black(f)) {
        float wi_ng = dot(ls.wi, sd.Ng);
        Ray shadow;
        shadow.o = offset_ray_origin(sd.P, wi_ng > 0.0f ? sd.Ng : -sd.Ng);
        shadow.d = ls.wi;
        shadow.tmin = 0.0f;
        shadow.tmax = ls.dist < kInf ? ls.dist * (1.0f - 1e-4f) : kInf;
        shadow.dP = shadow.dD = 0.0f;
        float3 vis = shadow_transmittance(s, shadow, path);
        if (!is_black(vis)) {
          float w = (ls.delta || last_vertex) ? 1.0f : power_heuristic(ls.pdf, bsdf_pdf);
          out.radiance += clamp_contribution(beta * f * ls.li * vis * (w / ls.pdf), clamp_next);
        }
      }
    }

    if (!scattered) break;
    if (through) {
      // Straight through: not a bounce; the MIS state of the last real scattering stays.
      if (++path.transparent_bounce > kMaxTransparentHits) break;
      beta *= ms.weight;
      mis_offset += hit.t;
      ray.o = offset_ray_origin(sd.P, -sd.Ng);
      ray.tmax = ray_end - hit.t;  // what is left to the camera's clip end
      ray.tmin = 0.0f;
      ray.dP = sd.dP;
      continue;
    }
    if (last_vertex) break;
    float wi_ng = dot(ms.wo, sd.Ng);
    beta *= ms.weight;
    specular = ms.singular;
    prev_pdf = ms.pdf;
    path_next(path, ms);
    ray.o = offset_ray_origin(sd.P, wi_ng > 0.0f ? sd.Ng : -sd.Ng);
    ray.d = ms.wo;
    ray.tmin = 0.0f;
    ray.tmax = kInf;
    ray.dP = sd.dP;
    mis_origin = sd.P;
    mis_offset = 0.0f;

    if (path.bounce >= kRouletteStart) {
      float q = minf(max_component(beta), 1.0f);
      if (sl.v[3] >= q) break;
      beta = beta / q;
    }
  }
  // A NaN from a degenerate configuration must not poison the running mean.
  if (!(out.radiance.x == out.radiance.x && out.radiance.y == out.radiance.y && out.radiance.z == out.radiance.z))
    out.radiance = make3(0.0f);
  out.alpha = clampf(out.alpha, 0.0f, 1.0f);
  return out;
}

}  // namespace optica
