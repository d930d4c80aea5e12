#include "motion.h"

#include <algorithm>
#include <cmath>

namespace optica {
namespace {

// Cycles' transform_to_quat (a rotation matrix to (x, y, z, w)), in double.
void rotation_to_quat(const double r[3][3], float q[4]) {
  double trace = r[0][0] + r[1][1] + r[2][2];
  if (trace > 0.0) {
    double s = std::sqrt(trace + 1.0);
    q[3] = float(s / 2.0);
    s = 0.5 / s;
    q[0] = float((r[2][1] - r[1][2]) * s);
    q[1] = float((r[0][2] - r[2][0]) * s);
    q[2] = float((r[1][0] - r[0][1]) * s);
    return;
  }
  int i = 0;
  if (r[1][1] > r[i][i]) i = 1;
  if (r[2][2] > r[i][i]) i = 2;
  int j = (i + 1) % 3, k = (j + 1) % 3;
  double s = std::sqrt(r[i][i] - (r[j][j] + r[k][k]) + 1.0);
  double v[3];
  v[i] = s * 0.5;
  if (s != 0.0) s = 0.5 / s;
  q[3] = float((r[k][j] - r[j][k]) * s);
  v[j] = (r[j][i] + r[i][j]) * s;
  v[k] = (r[k][i] + r[i][k]) * s;
  q[0] = float(v[0]);
  q[1] = float(v[1]);
  q[2] = float(v[2]);
}

// Gram-Schmidt on the columns (Cycles' transform_decompose): M = R · S, S upper triangular.
MotionTransform decompose(const Affine &a) {
  MotionTransform d{};
  double c[3][3];  // columns
  for (int col = 0; col < 3; ++col)
    for (int row = 0; row < 3; ++row) c[col][row] = a.m[4 * row + col];
  auto dot3 = [](const double *x, const double *y) { return x[0] * y[0] + x[1] * y[1] + x[2] * y[2]; };
  auto unit = [&](double *x) {
    double l = std::sqrt(dot3(x, x));
    if (l != 0.0)
      for (int k = 0; k < 3; ++k) x[k] /= l;
    return l;
  };
  double sx = unit(c[0]);
  double shz = dot3(c[0], c[1]);
  for (int k = 0; k < 3; ++k) c[1][k] -= shz * c[0][k];
  double sy = unit(c[1]);
  double shy = dot3(c[0], c[2]);
  for (int k = 0; k < 3; ++k) c[2][k] -= shy * c[0][k];
  double shx = dot3(c[1], c[2]);
  for (int k = 0; k < 3; ++k) c[2][k] -= shx * c[1][k];
  double sz = unit(c[2]);
  double r[3][3];
  for (int row = 0; row < 3; ++row)
    for (int col = 0; col < 3; ++col) r[row][col] = c[col][row];
  double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
               r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  double sign = 1.0;
  if (det < 0.0) {  // a mirror: negate the scale, keep a proper rotation
    sign = -1.0;
    for (auto &row : r)
      for (double &v : row) v = -v;
  }
  rotation_to_quat(r, d.q);
  // S = [[sx, shz, shy], [0, sy, shx], [0, 0, sz]], negated with the rotation for a mirror
  // (Cycles negates the scale only, which is the same product up to its shears' signs: here
  // R · S stays M exactly).
  const double s[9] = {sx, shz, shy, 0.0, sy, shx, 0.0, 0.0, sz};
  for (int k = 0; k < 9; ++k) d.s[k] = float(s[k] * sign);
  for (int k = 0; k < 3; ++k) d.t[k] = a.m[4 * k + 3];
  return d;
}

}  // namespace

std::vector<MotionTransform> decompose_motion(const std::vector<Affine> &steps) {
  std::vector<MotionTransform> out(steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    out[i] = decompose(steps[i]);
    if (i > 0) {
      const float *p = out[i - 1].q;
      float *q = out[i].q;
      if (p[0] * q[0] + p[1] * q[1] + p[2] * q[2] + p[3] * q[3] < 0.0f)
        for (int k = 0; k < 4; ++k) q[k] = -q[k];
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const float *s = out[i].s;
    if (s[0] != 0.0f || s[4] != 0.0f || s[8] != 0.0f) continue;
    const MotionTransform *from = i > 0 ? &out[i - 1] : (i + 1 < out.size() ? &out[i + 1] : nullptr);
    if (from) std::copy(from->q, from->q + 4, out[i].q);
  }
  // Each interval's slerp, in float as Cycles' kernel computes it.
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    MotionTransform &a = out[i];
    const float *q1 = a.q, *q2 = out[i + 1].q;
    float c = q1[0] * q2[0] + q1[1] * q2[1] + q1[2] * q2[2] + q1[3] * q2[3];
    a.theta = 0.0f;
    if (c > 0.9995f) continue;
    float perp[4], l = 0.0f;
    for (int k = 0; k < 4; ++k) {
      perp[k] = q2[k] - q1[k] * c;
      l += perp[k] * perp[k];
    }
    if (!(l > 0.0f)) continue;
    a.theta = std::acos(std::min(1.0f, std::max(-1.0f, c)));
    for (int k = 0; k < 4; ++k) a.perp[k] = perp[k] / std::sqrt(l);
  }
  return out;
}

Aabb motion_bounds(const MotionTransform *steps, int count, const Aabb &local) {
  Aabb out;
  if (!local.valid()) return out;
  float3 corners[8];
  float reach = 0.0f;  // the farthest a box corner lies from the object's origin
  for (int i = 0; i < 8; ++i) {
    corners[i] = make3((i & 1) ? local.hi.x : local.lo.x, (i & 2) ? local.hi.y : local.lo.y,
                       (i & 4) ? local.hi.z : local.lo.z);
    reach = std::max(reach, length(corners[i]));
  }
  auto times_s = [](const float *s, float3 c) {
    return make3(s[0] * c.x + s[1] * c.y + s[2] * c.z, s[3] * c.x + s[4] * c.y + s[5] * c.z,
                 s[6] * c.x + s[7] * c.y + s[8] * c.z);
  };
  constexpr int kSamples = 64;  // per step interval
  float pad = 0.0f;
  for (int seg = 0; seg + 1 < count; ++seg) {
    const MotionTransform &a = steps[seg], &b = steps[seg + 1];
    // How fast (per unit of the interval's parameter) a corner c can move: the translation's
    // change, plus the rotation's angle times |S c| (at most the larger of the two steps', S being
    // linear in between), plus |ΔS c|.
    float dt = length(make3(b.t[0] - a.t[0], b.t[1] - a.t[1], b.t[2] - a.t[2]));
    float c = std::fabs(a.q[0] * b.q[0] + a.q[1] * b.q[1] + a.q[2] * b.q[2] + a.q[3] * b.q[3]);
    float angle = 2.0f * std::acos(std::min(1.0f, c)) * 1.01f + 1e-6f;  // the rotation turns by 2θ
    float ds[9];
    for (int k = 0; k < 9; ++k) ds[k] = b.s[k] - a.s[k];
    float speed = 0.0f;
    for (const float3 &corner : corners) {
      float scaled = std::max(length(times_s(a.s, corner)), length(times_s(b.s, corner)));
      speed = std::max(speed, dt + angle * scaled + length(times_s(ds, corner)));
    }
    // Between two samples a corner is at most half their spacing times its speed from one.
    pad = std::max(pad, 0.5f * speed / kSamples);
    for (int k = 0; k <= kSamples; ++k) {
      Affine m = motion_transform_at(steps + seg, 2, float(k) / kSamples);
      for (const float3 &corner : corners) out.grow(m.point(corner));
    }
  }
  out.lo = out.lo - make3(pad);
  out.hi = out.hi + make3(pad);
  // Float rounding of the composed transforms: widen by a relative epsilon.
  float mag = std::max(max_component(max3(-out.lo, out.hi)), max_component(max3(out.lo, -out.hi)));
  float3 e = make3(1e-5f * (std::fabs(mag) + reach) + 1e-7f);
  out.lo = out.lo - e;
  out.hi = out.hi + e;
  return out;
}

std::vector<float> shutter_table(const std::vector<float> &curve) {
  constexpr int kSteps = 4096;
  size_t k = curve.size();
  auto density = [&](double x) {  // x in [0, 1], the curve linear between its points
    double f = x * double(k - 1);
    size_t i = std::min(size_t(f), k - 2);
    double t = f - double(i);
    return std::max(0.0, double(curve[i]) * (1.0 - t) + double(curve[i + 1]) * t);
  };
  std::vector<double> cdf(kSteps + 1, 0.0);
  for (int i = 0; i < kSteps; ++i) cdf[i + 1] = cdf[i] + density((i + 0.5) / kSteps);
  for (double &c : cdf) c /= cdf[kSteps];
  std::vector<float> table(kShutterTableSize);
  int j = 0;
  for (int n = 0; n < kShutterTableSize; ++n) {
    double u = double(n) / (kShutterTableSize - 1);
    while (j < kSteps - 1 && cdf[j + 1] < u) ++j;
    double span = cdf[j + 1] - cdf[j];
    double t = span > 0 ? std::clamp((u - cdf[j]) / span, 0.0, 1.0) : 0.0;
    table[n] = float((j + t) / kSteps);
  }
  return table;
}

}  // namespace optica
