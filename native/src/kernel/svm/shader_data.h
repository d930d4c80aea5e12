// What a shader program sees at a shading point (Cycles' ShaderData): position, normals
// facing the incoming ray, barycentrics and triangle edges for attributes, the ray footprint,
// and the path state the Light Path node reports.
#pragma once
#include "../intersect.h"
#include "../scene_data.h"

namespace optica {

enum PathFlags : uint32_t {
  kPathCamera = 1u << 0,
  kPathShadow = 1u << 1,
  kPathDiffuse = 1u << 2,
  kPathGlossy = 1u << 3,
  kPathSingular = 1u << 4,
  kPathReflect = 1u << 5,
  kPathTransmit = 1u << 6,
  kPathEmission = 1u << 7,  // evaluating a light's emission (sampled emissive triangle)
};

struct PathState {
  uint32_t flags;
  int32_t bounce, diffuse_bounce, glossy_bounce, transmission_bounce, transparent_bounce;
};

struct ShaderData {
  float3 P;
  float3 N;   // smooth shading normal, facing wi
  float3 Ng;  // geometric normal, facing wi
  float3 wi;  // towards the ray origin
  float3 ray_origin;
  float ray_length;
  float dP;   // ray footprint radius at P
  float u, v; // barycentrics: P = (1 − u − v)·p0 + u·p1 + v·p2
  int32_t instance;  // -1: the world
  uint32_t prim;
  int32_t backfacing;
  int32_t is_mesh;
  int32_t curve;      // 0: not a curve; 1 + CurveShape of the hit curve
  float curve_sine;   // ribbons: the offset across the strip over the radius (Cycles' sd->v)
  float3 curve_tangent;  // curves: the unit tangent of the hit chord (world space)
  PathState path;
  float time;       // the ray's τ over the shutter
  int32_t moving;   // the instance moves: xfm / inv below hold its transform at `time`
  Affine xfm, inv;
};

OPTICA_HD const InstanceView &sd_instance(const KernelScene &s, const ShaderData &sd) { return s.instances[sd.instance]; }

// The object-to-world transform (and its inverse) of the shading point's instance at the ray's
// time; `sd_identity` says it is the identity (nothing to transform).
OPTICA_HD const Affine &sd_xfm(const KernelScene &s, const ShaderData &sd) {
  return sd.moving ? sd.xfm : s.instances[sd.instance].xfm;
}
OPTICA_HD const Affine &sd_inv(const KernelScene &s, const ShaderData &sd) {
  return sd.moving ? sd.inv : s.instances[sd.instance].inv;
}
OPTICA_HD bool sd_identity(const KernelScene &s, const ShaderData &sd) {
  return !sd.moving && s.instances[sd.instance].identity;
}

// The shading normal of a curve hit (object space) at u along segment `prim`, object-space
// point po seen along direction dir: round curves, away from the axis of the chord hit;
// ribbons, Cycles' rounded normal across the strip (sine = the offset across over the radius).
// Also gives the chord's unit tangent and, for ribbons, the sine.
OPTICA_HD void curve_normal(const GeometryView &g, uint32_t prim, float u, float time, float3 po, float3 dir,
                            float3 &n, float3 &tangent_out, float &sine_out) {
  CurveKey c[4];
  curve_segment_keys(g, prim, time, c);
  const int pieces = curve_pieces(g.curve_basis);
  int i = int(u * float(pieces));
  i = i < 0 ? 0 : (i >= pieces ? pieces - 1 : i);
  const float sp = u * float(pieces) - float(i);
  CurveKey a, b;
  curve_piece(c, g.curve_basis, i, a, b);
  const float3 axis = a.p + (b.p - a.p) * sp;
  const float3 tangent = normalize(b.p - a.p);
  tangent_out = tangent;
  sine_out = 0.0f;
  if (g.curve_shape == kCurveRibbon) {
    const float3 side = normalize(cross(tangent, -dir));
    const float r = a.r + (b.r - a.r) * sp;
    float sine = r > 0.0f ? dot(po - axis, side) / r : 0.0f;
    sine = clampf(sine, -1.0f, 1.0f);
    sine_out = sine;
    const float cosine = sqrtf(maxf(0.0f, 1.0f - sine * sine));
    n = side * sine - normalize(cross(tangent, side)) * cosine;
    return;
  }
  float3 radial = po - axis;
  radial = radial - tangent * dot(radial, tangent);
  n = dot(radial, radial) > 0.0f ? radial : -dir;
}

// Fills `sd` for a surface point of (instance, prim) at barycentrics (u, v), seen along wi
// (unit, towards the viewer) from `origin` at distance `ray_length`, at shutter time `time` (a
// moving instance or deforming mesh is shaded where it is then; smooth normals stay the frame's).
OPTICA_HD void shader_setup_surface(const KernelScene &s, uint32_t instance, uint32_t prim, uint32_t slot, float u,
                                    float v, float3 p, float3 wi, float3 origin, float ray_length, float dP,
                                    float time, ShaderData &sd) {
  const InstanceView &inst = s.instances[instance];
  const GeometryView &g = s.geometries[inst.geometry];
  sd.time = time;
  sd.moving = inst.motion_steps ? 1 : 0;
  if (sd.moving) {
    sd.xfm = instance_transform_at(s, inst, time);
    sd.inv = affine_inverse(sd.xfm);
  }
  sd.P = p;
  sd.wi = wi;
  sd.ray_origin = origin;
  sd.ray_length = ray_length;
  sd.dP = dP;
  sd.instance = int32_t(instance);
  sd.prim = prim;
  sd.u = u;
  sd.v = v;
  float3 ng, ns;
  sd.curve = 0;
  if (g.type == kGeomMesh) {
    sd.is_mesh = 1;
    float3 tv[3];
    triangle_vertices_at(g, prim, time, tv);
    ng = cross(tv[1] - tv[0], tv[2] - tv[0]);
    if (g.normals) {
      const int32_t *ni = g.normal_idx + 3 * size_t(prim);
      float w0 = 1.0f - u - v;
      ns = g.normals[ni[0]] * w0 + g.normals[ni[1]] * u + g.normals[ni[2]] * v;
    } else {
      ns = ng;
    }
  } else if (g.type == kGeomCurves) {
    sd.is_mesh = 0;
    float3 po = sd_identity(s, sd) ? p : sd_inv(s, sd).point(p);
    float3 tangent;
    curve_normal(g, prim, u, time, po, sd_identity(s, sd) ? -wi : sd_inv(s, sd).vector(-wi), ng, tangent,
                 sd.curve_sine);
    sd.curve = 1 + g.curve_shape;
    sd.curve_tangent = sd_identity(s, sd) ? tangent : normalize(sd_xfm(s, sd).vector(tangent));
    ns = ng;
  } else {
    sd.is_mesh = 0;
    const SphereAccel &sph = g.spheres[slot];
    float3 po = sd_identity(s, sd) ? p : sd_inv(s, sd).point(p);
    ng = ns = po - sph.c;
  }
  if (!sd_identity(s, sd)) {
    ng = Affine::normal(sd_inv(s, sd), ng);
    ns = Affine::normal(sd_inv(s, sd), ns);
  }
  ng = normalize(ng);
  ns = normalize(ns);
  // Cycles: seen from behind, both normals turn to face the viewer.
  sd.backfacing = dot(ng, wi) < 0.0f ? 1 : 0;
  sd.Ng = sd.backfacing ? -ng : ng;
  sd.N = sd.backfacing ? -ns : ns;
  if (g.type == kGeomCurves && g.curve_shape == kCurveRibbon) sd.Ng = wi;  // Cycles: a ribbon faces the ray
}

// Cycles' dPdu and dPdv: on curves the tangent and tangent × Ng (before Ng turns round); on
// triangles the edges p1 − p0 and p2 − p0 (world space); both turned round when the surface is
// seen from behind.
OPTICA_HD void sd_dPdudv(const KernelScene &s, const ShaderData &sd, float3 &dPdu, float3 &dPdv) {
  dPdu = dPdv = make3(0.0f);
  if (sd.curve) {
    dPdu = sd.backfacing ? -sd.curve_tangent : sd.curve_tangent;
    dPdv = cross(sd.curve_tangent, sd.Ng);  // −(T × Ng_front) when seen from behind, as Cycles
    return;
  }
  if (!sd.is_mesh || sd.instance < 0) return;
  const GeometryView &g = s.geometries[s.instances[sd.instance].geometry];
  float3 tv[3];
  triangle_vertices_at(g, sd.prim, sd.time, tv);
  dPdu = tv[1] - tv[0];
  dPdv = tv[2] - tv[0];
  if (!sd_identity(s, sd)) {
    dPdu = sd_xfm(s, sd).vector(dPdu);
    dPdv = sd_xfm(s, sd).vector(dPdv);
  }
  if (sd.backfacing) {
    dPdu = -dPdu;
    dPdv = -dPdv;
  }
}

OPTICA_HD void shader_setup_from_hit(const KernelScene &s, const Ray &ray, const Hit &hit, ShaderData &sd) {
  float3 p = ray.o + ray.d * hit.t;
  shader_setup_surface(s, hit.instance, hit.prim, hit.slot, hit.u, hit.v, p, -ray.d, ray.o, hit.t,
                       ray.dP + hit.t * ray.dD, ray.time, sd);
}

// The world: Cycles shades escaped rays with P = the direction, N = Ng = −direction.
OPTICA_HD void shader_setup_background(const Ray &ray, ShaderData &sd) {
  sd.P = ray.d;
  sd.N = sd.Ng = -ray.d;
  sd.wi = -ray.d;
  sd.ray_origin = ray.o;
  sd.ray_length = kInf;
  sd.dP = 0.0f;
  sd.u = sd.v = 0.0f;
  sd.instance = -1;
  sd.prim = 0;
  sd.backfacing = 0;
  sd.is_mesh = 0;
  sd.curve = 0;
  sd.time = ray.time;
  sd.moving = 0;
}

}  // namespace optica
