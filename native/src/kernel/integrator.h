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

constexpr int kRouletteStart = 3;  // bounces before Russian roulette may end a path
constexpr uint32_t kTimeDimensionSet = 0x7ffffff1u;  // the ray time's (never reached by next4)

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
  int32_t slot = 0;
  if (g.material_ids && g.type == kGeomMesh) slot = g.material_ids[hit.prim];
  else if (g.material_ids && g.type == kGeomCurves) slot = g.material_ids[g.curve_segments[hit.prim].curve];
  if (slot < 0) slot = 0;
  if (uint32_t(slot) >= inst.slot_count) slot = int32_t(inst.slot_count) - 1;
  return s.slot_materials[inst.slot_base + slot];
}

OPTICA_HD void shade(const KernelScene &s, int32_t material, ShaderData &sd, ClosureList &cl) {
  svm_eval(s, s.materials[material], sd, cl);
}

// Colour of the light that gets through along a shadow ray: surfaces whose program can be
// transparent are shaded (as shadow rays, for the Light Path node) and pass their
// transparent weight; anything else blocks. As Cycles (integrate_shadow_max_transparent_hits),
// a shadow ray passes at most the transparent bounces its path has left; one more blocks.
OPTICA_HD float3 shadow_transmittance(const KernelScene &s, Ray ray, const PathState &path) {
  if (!s.has_transparency) return intersect_any(s, ray) ? make3(0.0f) : make3(1.0f);
  float3 transmittance = make3(1.0f);
  PathState shadow_path = path;
  shadow_path.flags = kPathShadow;
  const int max_hits = s.max_transparent_bounces - path.transparent_bounce;
  for (int i = 0;; ++i) {
    Hit hit;
    if (!intersect_closest(s, ray, hit)) return transmittance;
    if (i >= max_hits) return make3(0.0f);
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
}

// How far the smooth surface that the vertex normals describe lies above the flat triangle at
// the shading point, along the interpolated normal (world space): Hanika's "Hacking the shadow
// terminator" as Cycles' shadow_ray_smooth_surface_offset computes it. `ng` is the geometric
// normal on the side the shadow ray leaves from.
OPTICA_HD float3 smooth_surface_offset(const KernelScene &s, const ShaderData &sd, float3 ng) {
  const InstanceView &inst = s.instances[sd.instance];
  const GeometryView &g = s.geometries[inst.geometry];
  const int32_t *ni = g.normal_idx + 3 * size_t(sd.prim);
  float3 v[3];
  triangle_vertices_at(g, sd.prim, sd.time, v);
  float3 n[3] = {g.normals[ni[0]], g.normals[ni[1]], g.normals[ni[2]]};
  float u = 1.0f - sd.u - sd.v, vv = sd.u, w = sd.v;
  float3 p = v[0] * u + v[1] * vv + v[2] * w;  // object space
  float3 nw = n[0] * u + n[1] * vv + n[2] * w;
  if (!sd_identity(s, sd)) nw = sd_xfm(s, sd).vector(nw);
  // Parabolic approximation of the smooth surface over the triangle...
  float a = dot(n[2] - n[0], v[0] - v[2]), b = dot(n[2] - n[1], v[1] - v[2]), c = dot(n[1] - n[0], v[1] - v[0]);
  float h = a * u * (u - 1.0f) + (a + b + c) * u * vv + b * vv * (vv - 1.0f);
  // ...bounded by the local linear envelope of the vertices' tangent planes.
  if (dot(nw, ng) > 0.0f) {
    float h0 = maxf(maxf(dot(v[1] - v[0], n[0]), dot(v[2] - v[0], n[0])), 0.0f);
    float h1 = maxf(maxf(dot(v[0] - v[1], n[1]), dot(v[2] - v[1], n[1])), 0.0f);
    float h2 = maxf(maxf(dot(v[0] - v[2], n[2]), dot(v[1] - v[2], n[2])), 0.0f);
    h0 = maxf(dot(v[0] - p, n[0]) + h0, 0.0f);
    h1 = maxf(dot(v[1] - p, n[1]) + h1, 0.0f);
    h2 = maxf(dot(v[2] - p, n[2]) + h2, 0.0f);
    h = maxf(minf(minf(h0, h1), h2), h * 0.5f);
  } else {
    float h0 = maxf(maxf(dot(v[0] - v[1], n[0]), dot(v[0] - v[2], n[0])), 0.0f);
    float h1 = maxf(maxf(dot(v[1] - v[0], n[1]), dot(v[1] - v[2], n[1])), 0.0f);
    float h2 = maxf(maxf(dot(v[2] - v[0], n[2]), dot(v[2] - v[1], n[2])), 0.0f);
    h0 = maxf(dot(p - v[0], n[0]) + h0, 0.0f);
    h1 = maxf(dot(p - v[1], n[1]) + h1, 0.0f);
    h2 = maxf(dot(p - v[2], n[2]) + h2, 0.0f);
    h = minf(-minf(minf(h0, h1), h2), h * 0.5f);
  }
  return nw * h;
}

// Where a shadow ray towards direction l starts (Cycles' shadow_ray_offset). On smooth-shaded
// triangles near the terminator, the origin is lifted onto the smooth surface, so that a light
// the shading normal faces is not cut off by the flat facet a little early; the ray may then
// still hit its own facet (what keeps the far side dark). Elsewhere: the surface point, moved
// off the surface on the side the ray leaves.
OPTICA_HD float3 shadow_ray_origin(const KernelScene &s, const ShaderData &sd, float3 l) {
  float3 p = sd.P;
  float3 side = dot(l, sd.Ng) > 0.0f ? sd.Ng : -sd.Ng;
  const InstanceView &inst = s.instances[sd.instance];
  const GeometryView &g = s.geometries[inst.geometry];
  // Object › Shadow Terminator › Geometry Offset: the cosine below which rays are lifted.
  const float cutoff = inst.terminator_geometry_offset;
  if (sd.is_mesh && g.normals && cutoff > 0.0f) {
    float nl = dot(sd.N, l);
    float3 ng = nl < 0.0f ? -sd.Ng : sd.Ng;
    nl = fabsf(nl);
    float ngl = dot(ng, l);
    float amount = nl < cutoff ? clampf(2.0f - (ngl + nl) / cutoff, 0.0f, 1.0f) : clampf(1.0f - ngl / cutoff, 0.0f, 1.0f);
    if (amount > 0.0f) {
      p += smooth_surface_offset(s, sd, ng) * amount;
      side = ng;  // Cycles skips its own facet only when the light is in front of it
    }
  }
  return offset_ray_origin(p, side);
}

// Light-sampling pdf (solid angle, from `origin`) of the emissive triangle point we hit at
// shutter time `time`: selected by its frame area, sampled uniformly over its area at `time`.
OPTICA_HD float emissive_triangle_pdf(const KernelScene &s, const Hit &hit, float3 origin, float3 p, int32_t material,
                                      float time) {
  const InstanceView &inst = s.instances[hit.instance];
  const GeometryView &g = s.geometries[inst.geometry];
  const int32_t *tri = g.tri_idx + 3 * size_t(hit.prim);
  float3 v0 = inst.xfm.point(g.vertices[tri[0]]);
  float3 v1 = inst.xfm.point(g.vertices[tri[1]]);
  float3 v2 = inst.xfm.point(g.vertices[tri[2]]);
  float3 c = cross(v1 - v0, v2 - v0);
  float area = 0.5f * length(c);
  float sel_area = area;
  if (inst.motion_steps || g.deform_steps) {
    float3 e1, e2;
    emissive_world_triangle(s, hit.instance, hit.prim, time, v0, e1, e2);
    c = cross(e1, e2);
    area = 0.5f * length(c);
  }
  float3 d = p - origin;
  float dist2 = dot(d, d);
  float cos_l = fabsf(dot(c, d)) / (2.0f * area * sqrtf(dist2));
  if (area <= 0.0f || sel_area <= 0.0f || cos_l <= 0.0f) return 0.0f;
  float sel = emissive_select_pdf(s, s.materials[material].emission_estimate, sel_area) / light_entries(s);
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

// Cycles' PATH_RAY_TERMINATE_AFTER_TRANSPARENT: one of the Light Paths › Max Bounces limits is
// used up (scene/integrator.cpp hands the kernel each user limit + 1, path_state_next compares
// the counter of the scattering's type, and the total, with it).
OPTICA_HD bool bounces_exhausted(const KernelScene &s, const PathState &p) {
  return p.bounce > s.max_bounces || p.diffuse_bounce > s.max_diffuse_bounces ||
         p.glossy_bounce > s.max_glossy_bounces || p.transmission_bounce > s.max_transmission_bounces;
}

// Cycles' PATH_RAY_TERMINATE_ON_NEXT_SURFACE: the last transparent pass used up Max Bounces ›
// Transparent, so the next surface adds its emission and ends the path. The counter only grows
// on transparent passes and the path ends right after it reaches the limit, so testing it at a
// surface is the same as Cycles' flag (0 passes: no limit reached yet, even when the limit is 0).
OPTICA_HD bool transparent_exhausted(const KernelScene &s, const PathState &p) {
  return p.transparent_bounce > 0 && p.transparent_bounce >= s.max_transparent_bounces;
}

// Samples the closure list with one 4-D point. Dimensions 0 and 1 of a set stratify a 2-D draw
// best (Sobol' is a (0, 2)-sequence there), so a single lobe takes its direction from them; a
// mixture keeps its lobe pick on 0 and its direction on 1–2, because the pick and the direction
// are one 3-D point and, measured on the glossy room, moving the direction to 0–1 under a pick
// on 2 made mixtures noisier (docs/benchmarks.md, *Sampling: which dimensions a 2-D draw takes*).
OPTICA_HD bool sample_closures(const ShadingFrame &frame, const ClosureList &cl, const Sample4 &su, MixtureSample &ms) {
  if (cl.count == 1) return closures_sample(frame, cl, su.v[2], su.v[0], su.v[1], su.v[3], ms);
  return closures_sample(frame, cl, su.v[0], su.v[1], su.v[2], su.v[3], ms);
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
  // Motion blur: the path's time over the shutter, from a dimension set of its own (every other
  // dimension is drawn as in a scene without motion).
  float time = s.shutter.frame_time;
  if (s.has_motion) time = shutter_time(s.shutter, smp.at(kTimeDimensionSet).v[0], py, s.camera.frame_height);
  float depth_scale, depth_offset;
  Ray ray = camera_ray(s.camera, time, px, py, cam.v[0], cam.v[1], cam.v[2], cam.v[3], depth_scale, depth_offset);

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
        w = power_heuristic(prev_pdf, emissive_triangle_pdf(s, hit, mis_origin, sd.P, material, ray.time));
      out.radiance += clamp_contribution(beta * cl.emission * w, clamp);
    }
    if (transparent_exhausted(s, path)) break;

    ShadingFrame frame{sd.N, sd.Ng, sd.wi, s.instances[hit.instance].terminator_frequency};
    // Continue the path by sampling the closures (the sample is drawn before light sampling
    // only so that the AOVs know whether this surface passes the path straight on).
    MixtureSample ms;
    bool scattered = cl.count > 0 && sample_closures(frame, cl, su, ms);
    bool through = scattered && ms.lobe == kClosureTransparent;
    if (first_surface && !through) {
      first_surface = false;
      out.albedo = closures_albedo(s.tables, frame, cl);
      out.normal = sd.N;
      out.depth = hit.t * depth_scale + depth_offset;
      out.object_id = s.instances[hit.instance].object_id;
    }
    if (cl.count == 0) break;

    // Cycles (bounces_exhausted): the surface reached after max_bounces scatterings (or after
    // the limit of a type) is still lit and still sampled, and the surface after that adds its
    // emission (above) and lets light through its transparency, nothing more. The last BSDF ray
    // matters: it finds the lights and the world with its MIS weight, and whatever emits without
    // being light-sampled.
    if (bounces_exhausted(s, path)) {
      if (is_black(cl.transparent)) break;
      ++path.transparent_bounce;
      beta *= cl.transparent;
      mis_offset += hit.t;
      ray.o = offset_ray_origin(sd.P, -sd.Ng);
      ray.tmax = ray_end - hit.t;
      ray.tmin = 0.0f;
      ray.dP = sd.dP;
      continue;
    }
    float clamp_next = path.bounce == 0 ? s.clamp_direct : s.clamp_indirect;

    // Next-event estimation.
    LightSample ls;
    if (sample_any_light(s, sd.P, ray.time, path, sl.v[0], sl.v[1], sl.v[2], ls)) {
      float bsdf_pdf;
      float3 f = closures_eval(frame, cl, ls.wi, bsdf_pdf);
      if (!is_black(f)) {
        Ray shadow;
        shadow.o = shadow_ray_origin(s, sd, ls.wi);
        shadow.d = ls.wi;
        shadow.tmin = 0.0f;
        shadow.tmax = ls.dist < kInf ? ls.dist * (1.0f - 1e-4f) : kInf;
        shadow.dP = shadow.dD = 0.0f;
        shadow.time = ray.time;
        float3 vis = shadow_transmittance(s, shadow, path);
        if (!is_black(vis)) {
          float w = ls.delta ? 1.0f : power_heuristic(ls.pdf, bsdf_pdf);
          out.radiance += clamp_contribution(beta * f * ls.li * vis * (w / ls.pdf), clamp_next);
        }
      }
    }

    if (!scattered) break;
    if (through) {
      // Straight through: not a bounce; the MIS state of the last real scattering stays.
      ++path.transparent_bounce;
      beta *= ms.weight;
      mis_offset += hit.t;
      ray.o = offset_ray_origin(sd.P, -sd.Ng);
      ray.tmax = ray_end - hit.t;  // what is left to the camera's clip end
      ray.tmin = 0.0f;
      ray.dP = sd.dP;
      continue;
    }
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
