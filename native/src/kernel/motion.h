// Motion blur (docs/scene-dict.md, *Motion blur*): ray times over the shutter, transforms at a
// time (decomposed steps, interpolated as Cycles' transform_motion_array_interpolate) and
// deforming vertices (linear between steps). Times τ run over [0, 1] from shutter open to
// close; an array of S steps holds its values at τ = i / (S − 1).
#pragma once
#include "defs.h"

namespace optica {

constexpr int kShutterTableSize = 256;

// One transform step split as M = T · R(q) · S: translation, unit quaternion (x, y, z, w) and
// an upper-triangular scale/shear matrix (row-major, Cycles' transform_decompose). Consecutive
// steps' quaternions are on the same hemisphere, so interpolation takes the shorter arc.
struct MotionTransform {
  float q[4];
  float t[3];
  float s[9];
  // The slerp towards the next step, precomputed (Cycles' "possible optimization"): its angle
  // (0: the rotations are within acos(0.9995) and are lerped and normalised, as Cycles does) and
  // the unit quaternion perpendicular to q in the plane of both.
  float theta;
  float perp[4];
};

// The shutter as the kernel reads it.
struct ShutterView {
  const float *table;      // inverse CDF of the shutter curve (kShutterTableSize), null: uniform
  int32_t rolling;         // rolling shutter from the top
  float rolling_duration;  // the part of the shutter the scan takes
  float open, length;      // shutter open and its length, in frames relative to the frame
  float frame_time;        // τ of the frame's own values (−open / length)
};

// τ of a camera ray from a uniform number u, for a pixel row `row` counted from the top of a
// frame `height` rows high (Cycles' camera_sample: its raster y runs from the bottom).
OPTICA_HD float shutter_time(const ShutterView &sh, float u, int row, float height) {
  float time = u;
  if (sh.table) {
    float f = u * (kShutterTableSize - 1);
    int i = int(f);
    time = i >= kShutterTableSize - 1 ? sh.table[kShutterTableSize - 1]
                                      : sh.table[i] * (1.0f - (f - i)) + sh.table[i + 1] * (f - i);
  }
  if (sh.rolling) {
    float scan = float(row + 1) / height;  // 1 − y / height with y = height − 1 − row
    float d = sh.rolling_duration;
    time = d != 0.0f ? (time - 0.5f) * d + (scan - 0.5f) * (1.0f - d) + 0.5f : scan;
  }
  return time;
}

// Which two steps of S bracket τ, and the weight of the second.
OPTICA_HD int motion_step(int steps, float time, float &frac) {
  int last = steps - 1;
  float f = clampf(time, 0.0f, 1.0f) * float(last);
  int step = int(f);
  if (step > last - 1) step = last - 1;
  frac = f - float(step);
  return step;
}

// Rotation from step a towards step b at fraction t (Cycles' quat_interpolate, with a's
// precomputed angle and perpendicular).
OPTICA_HD void quat_interpolate(const MotionTransform &a, const MotionTransform &b, float t, float out[4]) {
  if (a.theta == 0.0f) {
    float l = 0.0f;
    for (int i = 0; i < 4; ++i) { out[i] = a.q[i] * (1.0f - t) + b.q[i] * t; l += out[i] * out[i]; }
    float inv = 1.0f / sqrtf(l);
    for (int i = 0; i < 4; ++i) out[i] *= inv;
    return;
  }
  float ct = cosf(a.theta * t), st = sinf(a.theta * t);
  for (int i = 0; i < 4; ++i) out[i] = a.q[i] * ct + a.perp[i] * st;
}

// R(q) · S plus translation, as an Affine.
OPTICA_HD Affine motion_compose(const float q[4], const float t[3], const float s[9]) {
  float x = q[0], y = q[1], z = q[2], w = q[3];
  float r[9] = {1.0f - 2.0f * (y * y + z * z), 2.0f * (x * y - w * z), 2.0f * (x * z + w * y),
                2.0f * (x * y + w * z), 1.0f - 2.0f * (x * x + z * z), 2.0f * (y * z - w * x),
                2.0f * (x * z - w * y), 2.0f * (y * z + w * x), 1.0f - 2.0f * (x * x + y * y)};
  Affine m;
  for (int row = 0; row < 3; ++row) {
    for (int col = 0; col < 3; ++col)
      m.m[4 * row + col] = r[3 * row] * s[col] + r[3 * row + 1] * s[3 + col] + r[3 * row + 2] * s[6 + col];
    m.m[4 * row + 3] = t[row];
  }
  return m;
}

// The transform at τ from S ≥ 2 decomposed steps.
OPTICA_HD Affine motion_transform_at(const MotionTransform *steps, int count, float time) {
  float f;
  int i = motion_step(count, time, f);
  const MotionTransform &a = steps[i], &b = steps[i + 1];
  float q[4], t[3], s[9];
  quat_interpolate(a, b, f, q);
  for (int k = 0; k < 3; ++k) t[k] = a.t[k] * (1.0f - f) + b.t[k] * f;
  for (int k = 0; k < 9; ++k) s[k] = a.s[k] * (1.0f - f) + b.s[k] * f;
  return motion_compose(q, t, s);
}

// Inverse of an affine transform (a singular one, e.g. a scale passing through 0 between
// steps, gives a zero matrix: rays then miss the object at that time).
OPTICA_HD Affine affine_inverse(const Affine &a) {
  const float *m = a.m;
  float c0 = m[5] * m[10] - m[6] * m[9], c1 = m[6] * m[8] - m[4] * m[10], c2 = m[4] * m[9] - m[5] * m[8];
  float det = m[0] * c0 + m[1] * c1 + m[2] * c2;
  float id = det != 0.0f ? 1.0f / det : 0.0f;
  Affine r;
  r.m[0] = c0 * id;
  r.m[1] = (m[2] * m[9] - m[1] * m[10]) * id;
  r.m[2] = (m[1] * m[6] - m[2] * m[5]) * id;
  r.m[4] = c1 * id;
  r.m[5] = (m[0] * m[10] - m[2] * m[8]) * id;
  r.m[6] = (m[2] * m[4] - m[0] * m[6]) * id;
  r.m[8] = c2 * id;
  r.m[9] = (m[1] * m[8] - m[0] * m[9]) * id;
  r.m[10] = (m[0] * m[5] - m[1] * m[4]) * id;
  for (int i = 0; i < 3; ++i) r.m[4 * i + 3] = -(r.m[4 * i] * m[3] + r.m[4 * i + 1] * m[7] + r.m[4 * i + 2] * m[11]);
  return r;
}

// A deforming vertex at τ: linear between the two steps around it (`steps` holds S rows of
// `count` vertices).
OPTICA_HD float3 motion_vertex(const float3 *steps, int count_steps, uint32_t count, int32_t index, float time) {
  float f;
  int i = motion_step(count_steps, time, f);
  float3 a = steps[size_t(i) * count + size_t(index)], b = steps[size_t(i + 1) * count + size_t(index)];
  return a * (1.0f - f) + b * f;
}

}  // namespace optica
