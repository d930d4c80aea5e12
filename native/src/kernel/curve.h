// Curve segments (hair, Curves objects): one cubic segment between two control points, drawn
// as Cycles' 3D Curve (a round tube whose radius follows the curve) or Rounded Ribbon (a flat
// strip facing the ray). The intersection splits the segment into kCurvePieces chords (one
// for linear segments) and intersects each chord as a cone frustum (round) or as the strip
// through the chord facing the ray (ribbon). Cycles refines the swept sphere iteratively;
// on hair-thin curves the chords differ from it by a fraction of the radius.
#pragma once
#include "defs.h"

namespace optica {

enum CurveShape : int32_t { kCurveRound = 0, kCurveRibbon = 1 };
enum CurveBasis : int32_t { kBasisCatmullRom = 0, kBasisBSpline = 1, kBasisLinear = 2 };

// Chords per cubic segment.
constexpr int kCurvePieces = 8;

struct CurveKey {
  float3 p;
  float r;  // radius
};

// A segment: its four control points (the curve's ends repeated, as Cycles does) and its curve.
struct CurveSegment {
  int32_t k[4];
  uint32_t curve;
  float reach;  // bound on the distance of the tube's surface from the chord c[1] → c[2]
};

// Whether the ray's line passes the chord p → q closer than `reach` (a capsule test that skips
// most segments whose axis-aligned box the ray enters).
OPTICA_HD bool curve_capsule_hit(float3 p, float3 q, float reach, float3 o, float3 d) {
  const float3 w = q - p, m = o - p;
  const float a = dot(d, d), b = dot(d, w), c = dot(w, w), dm = dot(d, m), wm = dot(w, m);
  const float den = a * c - b * b;
  float s = den > 1e-12f * a * c ? (a * wm - b * dm) / den : 0.0f;
  s = clampf(s, 0.0f, 1.0f);
  const float3 x = p + w * s - o;
  const float t = dot(d, x) / a;
  const float3 gap = x - d * t;
  const float r = reach * 1.001f + 1e-6f * length(m);
  return dot(gap, gap) <= r * r;
}

// The point and radius at parameter u ∈ [0, 1] between c[1] and c[2].
OPTICA_HD CurveKey curve_eval(const CurveKey c[4], int32_t basis, float u) {
  float w0, w1, w2, w3;
  const float t = u, s = 1.0f - u;
  if (basis == kBasisLinear) {
    w0 = 0.0f; w1 = s; w2 = t; w3 = 0.0f;
  } else if (basis == kBasisBSpline) {
    w0 = s * s * s * (1.0f / 6.0f);
    w1 = (3.0f * t * t * t - 6.0f * t * t + 4.0f) * (1.0f / 6.0f);
    w2 = (-3.0f * t * t * t + 3.0f * t * t + 3.0f * t + 1.0f) * (1.0f / 6.0f);
    w3 = t * t * t * (1.0f / 6.0f);
  } else {
    w0 = -0.5f * t * s * s;
    w1 = 0.5f * (2.0f + t * t * (3.0f * t - 5.0f));
    w2 = 0.5f * (2.0f + s * s * (3.0f * s - 5.0f));
    w3 = -0.5f * s * t * t;
  }
  CurveKey k;
  k.p = c[0].p * w0 + c[1].p * w1 + c[2].p * w2 + c[3].p * w3;
  k.r = c[0].r * w0 + c[1].r * w1 + c[2].r * w2 + c[3].r * w3;
  return k;
}

OPTICA_HD int curve_pieces(int32_t basis) { return basis == kBasisLinear ? 1 : kCurvePieces; }

// The chord of piece i (its two end keys).
OPTICA_HD void curve_piece(const CurveKey c[4], int32_t basis, int i, CurveKey &a, CurveKey &b) {
  const float n = float(curve_pieces(basis));
  a = curve_eval(c, basis, float(i) / n);
  b = curve_eval(c, basis, float(i + 1) / n);
}

// Ray against the cone frustum a → b (radii a.r, b.r, open ends), for an origin o near it.
// The nearest root in (tmin, tmax) whose axial parameter s is in [0, 1]; returns s. The ray's
// own origin is at t_origin: when it lies inside the cone, the wall the ray leaves through is
// not a hit (a strand's transmission or a shadow ray to a light behind it passes, as Cycles'
// rays skip the primitive they leave); rays from outside still meet the inner wall through the
// wedge between two chords at a bend, which stands in for the swept tube there.
OPTICA_HD bool intersect_cone(const CurveKey &a, const CurveKey &b, float3 o, float3 d, float tmin, float tmax,
                              float t_origin, float &t, float &s) {
  const float3 w = b.p - a.p;
  const float l2 = dot(w, w);
  if (!(l2 > 0.0f)) return false;
  const float3 oa = o - a.p;
  const float s0 = dot(oa, w) / l2, s1 = dot(d, w) / l2;
  const float dr = b.r - a.r;
  const float r0 = a.r + dr * s0;
  // |oa + t d|² − l2 (s0 + t s1)² − (r0 + dr s1 t)² = 0
  const float qa = dot(d, d) - (l2 + dr * dr) * s1 * s1;
  const float qb = dot(oa, d) - l2 * s0 * s1 - r0 * dr * s1;
  const float qc = dot(oa, oa) - l2 * s0 * s0 - r0 * r0;
  if (fabsf(qa) < 1e-12f * dot(d, d)) return false;  // along the axis: the open tube is not hit
  const float disc = qb * qb - qa * qc;
  if (disc < 0.0f) return false;
  const float sq = sqrtf(disc);
  const float q = qb < 0.0f ? -qb + sq : -qb - sq;
  float t0 = q / qa, t1 = q != 0.0f ? qc / q : t0;
  if (t0 > t1) { float tmp = t0; t0 = t1; t1 = tmp; }
  const float r_origin = r0 + dr * s1 * t_origin;
  const bool inside = (qa * t_origin + 2.0f * qb) * t_origin + qc < 0.0f && r_origin > 0.0f;
  for (int k = 0; k < 2; ++k) {
    const float tk = k == 0 ? t0 : t1;
    if (!(tk > tmin && tk < tmax)) continue;
    const float sk = s0 + s1 * tk;
    if (sk < 0.0f || sk > 1.0f || a.r + dr * sk < 0.0f) continue;
    if (inside) {
      const float3 radial = oa + d * tk - w * sk;
      if (dot(d, radial - w * ((a.r + dr * sk) * dr / l2)) > 0.0f) continue;  // the wall it leaves
    }
    t = tk;
    s = sk;
    return true;
  }
  return false;
}

// Ray against the strip through the chord a → b facing the ray: hit where the ray passes the
// axis closest, when that distance is within the radius there. v ∈ [−1, 1] across the strip.
OPTICA_HD bool intersect_ribbon_piece(const CurveKey &a, const CurveKey &b, float3 o, float3 d, float tmin,
                                      float tmax, float &t, float &s, float &v) {
  const float3 w = b.p - a.p;
  const float3 n = cross(d, w);
  const float nn = dot(n, n);
  if (!(nn > 0.0f)) return false;
  const float3 ao = a.p - o;
  // Closest approach: o + t d and a + s w with (o + t d − a − s w) ⊥ d, w.
  const float tk = dot(cross(ao, w), n) / nn;
  const float sk = dot(cross(ao, d), n) / nn;
  if (!(tk > tmin && tk < tmax) || sk < 0.0f || sk > 1.0f) return false;
  const float r = a.r + (b.r - a.r) * sk;
  const float dist = dot(ao, n) / sqrtf(nn);  // signed distance between the two lines
  if (!(fabsf(dist) <= r) || !(r > 0.0f)) return false;
  t = tk;
  s = sk;
  v = -dist / r;
  return true;
}

// The nearest hit of a segment in (tmin, tmax): t, u along the segment ([0, 1] from c[1] to
// c[2]), v across (ribbons; 0 for round curves). Hits nearer the origin than a hundredth of
// the radius (round) or two radii (ribbon, as Cycles) are the surface the ray left and are skipped.
OPTICA_HD bool intersect_curve_segment(const CurveKey c[4], int32_t basis, int32_t shape, float3 o, float3 d,
                                       float tmin, float tmax, float &t, float &u, float &v) {
  // Solve from the point of the ray nearest the segment (precision for distant origins).
  const float dd = dot(d, d);
  const float3 mid = (c[1].p + c[2].p) * 0.5f;
  const float dt = dot(mid - o, d) / dd;
  const float3 ro = o + d * dt;
  const float inv_len = 1.0f / sqrtf(dd);
  const int n = curve_pieces(basis);
  bool found = false;
  float best = tmax - dt;
  CurveKey a = curve_eval(c, basis, 0.0f);
  for (int i = 0; i < n; ++i) {
    CurveKey b = curve_eval(c, basis, float(i + 1) / float(n));
    float ti, si, vi = 0.0f;
    const float skip = (shape == kCurveRibbon ? 2.0f : 0.01f) * maxf(a.r, b.r) * inv_len;
    const float lo = maxf(tmin, skip) - dt;
    bool hit = shape == kCurveRibbon ? intersect_ribbon_piece(a, b, ro, d, lo, best, ti, si, vi)
                                     : intersect_cone(a, b, ro, d, lo, best, -dt, ti, si);
    if (hit) {
      best = ti;
      t = ti + dt;
      u = (float(i) + si) / float(n);
      v = vi;
      found = true;
    }
    a = b;
  }
  return found;
}

}  // namespace optica
