// Vector Rotate (axis-angle, X/Y/Z axis, XYZ Euler, inverted), Vector Transform (points,
// vectors and normals between world, object and camera space) and the view-dependent inputs
// built on the same spaces (Camera Data, Light Falloff), with Cycles' definitions. Camera
// space is Cycles': +Z looks forward.
#pragma once
#include "geometry_nodes.h"

namespace optica {

// Rodrigues' rotation of p about the unit axis by angle (right-handed).
OPTICA_HD float3 rotate_about_axis(float3 p, float3 a, float angle) {
  float c = cosf(angle), s = sinf(angle), t = 1.0f - c;
  return make3((c + t * a.x * a.x) * p.x + (t * a.x * a.y - a.z * s) * p.y + (t * a.x * a.z + a.y * s) * p.z,
               (t * a.x * a.y + a.z * s) * p.x + (c + t * a.y * a.y) * p.y + (t * a.y * a.z - a.x * s) * p.z,
               (t * a.x * a.z - a.y * s) * p.x + (t * a.y * a.z + a.x * s) * p.y + (c + t * a.z * a.z) * p.z);
}

// Vector Rotate's `rotation_type`, in Blender's order.
enum VectorRotateType : int { kRotateAxisAngle, kRotateX, kRotateY, kRotateZ, kRotateEulerXYZ };

OPTICA_HD float3 vector_rotate(int type, bool invert, float3 v, float3 center, float3 axis, float angle,
                               float3 rotation) {
  if (type == kRotateEulerXYZ) return euler_rotate(rotation, v - center, invert) + center;
  float axis_length = 1.0f;
  if (type == kRotateX) axis = make3(1.0f, 0.0f, 0.0f);
  else if (type == kRotateY) axis = make3(0.0f, 1.0f, 0.0f);
  else if (type == kRotateZ) axis = make3(0.0f, 0.0f, 1.0f);
  else axis_length = length(axis);
  if (axis_length == 0.0f) return v;
  return rotate_about_axis(v - center, axis / axis_length, invert ? -angle : angle) + center;
}

// Vector Transform's enums, in Blender's order.
enum VectorTransformType : int { kTransformPoint, kTransformVector, kTransformNormal };
enum VectorTransformSpace : int { kSpaceWorld, kSpaceObject, kSpaceCamera };

OPTICA_HD float3 world_to_cycles_camera(const CameraView &cam, int type, float3 v) {
  float3 q = type == kTransformPoint ? cam.to_camera.point(v) : cam.to_camera.vector(v);
  q = make3(q.x, q.y, -q.z);
  return type == kTransformNormal ? normalize(q) : q;
}
OPTICA_HD float3 cycles_camera_to_world(const CameraView &cam, int type, float3 v) {
  float3 q = make3(v.x, v.y, -v.z);
  float3 r = type == kTransformPoint ? cam.to_world.point(q) : cam.to_world.vector(q);
  return type == kTransformNormal ? normalize(r) : r;
}

OPTICA_HD float3 object_to_world(const KernelScene &s, const ShaderData &sd, int type, float3 v) {
  if (sd.instance < 0) return v;
  if (sd_identity(s, sd)) return type == kTransformNormal ? normalize(v) : v;
  if (type == kTransformPoint) return sd_xfm(s, sd).point(v);
  if (type == kTransformVector) return sd_xfm(s, sd).vector(v);
  return object_to_world_normal(s, sd, v);
}
OPTICA_HD float3 world_to_object(const KernelScene &s, const ShaderData &sd, int type, float3 v) {
  if (sd.instance < 0) return v;
  if (sd_identity(s, sd)) return type == kTransformNormal ? normalize(v) : v;
  if (type == kTransformPoint) return sd_inv(s, sd).point(v);
  if (type == kTransformVector) return sd_inv(s, sd).vector(v);
  return world_to_object_normal(s, sd, v);
}

OPTICA_HD float3 vector_transform(const KernelScene &s, const ShaderData &sd, int type, int from, int to, float3 v) {
  if (from == to) return v;
  if (from == kSpaceObject) v = object_to_world(s, sd, type, v);
  else if (from == kSpaceCamera) v = cycles_camera_to_world(s.camera, type, v);
  if (to == kSpaceObject) return world_to_object(s, sd, type, v);
  if (to == kSpaceCamera) return world_to_cycles_camera(s.camera, type, v);
  return v;
}

// Light Falloff: `strength` with the falloff of `type` (0 quadratic: as given, 1 linear,
// 2 constant) undone over the ray length, softened near the emitter by `smooth`. Rays of
// unbounded length (distant lights) leave the strength as it is.
OPTICA_HD float light_falloff(int type, float strength, float smooth, float ray_length) {
  if (!(ray_length < 3.0e38f)) return strength;
  if (type == 1) strength *= ray_length;
  else if (type == 2) strength *= ray_length * ray_length;
  float squared = ray_length * ray_length;
  if (smooth > 0.0f && squared < kInf) strength *= squared / (smooth + squared);
  return strength;
}

}  // namespace optica
