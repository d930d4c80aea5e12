// Camera rays with Blender's conventions: the camera looks along its −Z with +Y up; the
// view plane follows BKE_camera_params_compute_viewplane (sensor fit, shift in units of the
// fitted dimension), so framing matches Blender and Cycles pixel for pixel.
#pragma once
#include "defs.h"
#include "motion.h"
#include "sampling.h"

namespace optica {

constexpr int kFilterTableSize = 256;

struct CameraView {
  Affine to_world;      // camera to world, rotation part orthonormal
  Affine to_camera;     // its inverse
  int orthographic;
  float pixel_size;     // view-plane units per pixel at distance 1 (perspective) or in world units (ortho)
  float x0, y0;         // view-plane coordinates of the frame's top-left corner
  float clip_start, clip_end;
  float aperture_radius, focus_distance, aperture_rotation;
  int aperture_blades;
  float frame_width, frame_height;  // full frame in pixels (Window coordinates span it)
  // Camera motion: S > 0 decomposed camera-to-world steps (scale removed); `to_world` and
  // `to_camera` stay the frame's (shading's camera space, as Cycles' worldtocamera).
  int32_t motion_steps;
  const MotionTransform *motion;
  // Inverse CDF of the pixel filter, sampled separably in x and y (as Cycles does).
  float filter_table[kFilterTableSize];
};

OPTICA_HD float sample_filter(const CameraView &c, float u) {
  float f = u * (kFilterTableSize - 1);
  int i = int(f);
  if (i >= kFilterTableSize - 1) return c.filter_table[kFilterTableSize - 1];
  float t = f - i;
  return c.filter_table[i] * (1.0f - t) + c.filter_table[i + 1] * t;
}

// Generates the ray through frame pixel (px, py) (origin top-left). `depth_scale` turns a
// distance along the ray into camera-space depth (Cycles' Z pass). `time`: the ray's τ (a moving
// camera is placed where it is then).
OPTICA_HD Ray camera_ray(const CameraView &c, float time, int px, int py, float u_fx, float u_fy, float u_lx,
                         float u_ly, float &depth_scale, float &depth_offset) {
  const Affine *to_world = &c.to_world;
  Affine moved;
  if (c.motion_steps) {
    moved = motion_transform_at(c.motion, c.motion_steps, time);
    to_world = &moved;
  }
  float fx = px + 0.5f + sample_filter(c, u_fx);
  float fy = py + 0.5f + sample_filter(c, u_fy);
  float vx = c.x0 + fx * c.pixel_size;
  float vy = c.y0 - fy * c.pixel_size;
  float3 o, d;
  Ray ray;
  ray.time = time;
  if (c.orthographic) {
    o = make3(vx, vy, 0.0f);
    d = make3(0.0f, 0.0f, -1.0f);
    if (c.aperture_radius > 0.0f) {
      float2 l = c.aperture_blades >= 3 ? sample_polygon(u_lx, u_ly, c.aperture_blades, c.aperture_rotation)
                                        : sample_concentric_disk(u_lx, u_ly);
      float3 lens = make3(l.x * c.aperture_radius, l.y * c.aperture_radius, 0.0f);
      float3 focus = o + d * c.focus_distance;
      o = o + lens;
      d = normalize(focus - o);
    }
    depth_scale = -d.z;
    depth_offset = c.clip_start;
    ray.o = to_world->point(o + d * (c.clip_start / -d.z));
    ray.d = normalize(to_world->vector(d));
    ray.tmin = 0.0f;
    ray.tmax = (c.clip_end - c.clip_start) / -d.z;
    ray.dP = c.pixel_size;
    ray.dD = 0.0f;
    return ray;
  }
  float3 plane = make3(vx, vy, -1.0f);
  float inv_len = 1.0f / length(plane);
  d = plane * inv_len;
  o = make3(0.0f);
  // Angle one pixel subtends here: the mean rate of change of the unit direction over a pixel
  // in x and in y (Cycles' compact ray differential, to first order).
  float dd = 0.5f * c.pixel_size * inv_len * (safe_sqrt(1.0f - d.x * d.x) + safe_sqrt(1.0f - d.y * d.y));
  if (c.aperture_radius > 0.0f) {
    float2 l = c.aperture_blades >= 3 ? sample_polygon(u_lx, u_ly, c.aperture_blades, c.aperture_rotation)
                                      : sample_concentric_disk(u_lx, u_ly);
    float3 lens = make3(l.x * c.aperture_radius, l.y * c.aperture_radius, 0.0f);
    float3 focus = d * (c.focus_distance / -d.z);
    o = lens;
    d = normalize(focus - lens);
  }
  depth_scale = -d.z;
  depth_offset = 0.0f;
  ray.o = to_world->point(o);
  ray.d = normalize(to_world->vector(d));
  ray.tmin = c.clip_start / -d.z;
  ray.tmax = c.clip_end / -d.z;
  ray.dP = 0.0f;
  ray.dD = dd;
  return ray;
}

// Cycles' camera space: x right, y up, z forward (Blender's camera looks along its −Z).
OPTICA_HD float3 camera_space_point(const CameraView &c, float3 p) {
  float3 q = c.to_camera.point(p);
  return make3(q.x, q.y, -q.z);
}

// Normalised device coordinates of a world point over the full frame: (0, 0) bottom left,
// (1, 1) top right (the Texture Coordinate node's Window output).
OPTICA_HD float3 camera_ndc(const CameraView &c, float3 p) {
  float3 q = c.to_camera.point(p);
  float vx = q.x, vy = q.y;
  if (!c.orthographic) {
    float z = -q.z;
    vx = safe_divide(q.x, z);
    vy = safe_divide(q.y, z);
  }
  float rx = (vx - c.x0) / c.pixel_size, ry = (c.y0 - vy) / c.pixel_size;
  return make3(rx / c.frame_width, 1.0f - ry / c.frame_height, 0.0f);
}

}  // namespace optica
