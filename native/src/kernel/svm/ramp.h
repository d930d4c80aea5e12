// Table lookups of Color Ramp and RGB / Vector / Float Curves, as Cycles looks them up: the
// ramp or curve is baked into a table by the compiler (Color Ramp: 256 RGBA entries over
// [0, 1]; curves: 257 entries over the curves' x range), read with linear interpolation
// between entries (not for a Constant ramp), clamped, or extended along the end slope for
// curves with Extrapolated extension.
#pragma once
#include "../defs.h"

namespace optica {

// Entry f ∈ [0, 1] (or beyond when `extrapolate`) of a table of `size` rows of `stride`
// floats; channel `k` of it.
OPTICA_HD float table_lookup(const float *table, int size, int stride, int k, float f, bool interpolate,
                             bool extrapolate) {
  if (extrapolate && (f < 0.0f || f > 1.0f)) {
    float t0, dy;
    if (f < 0.0f) {
      t0 = table[k];
      dy = t0 - table[stride + k];
      f = -f;
    } else {
      t0 = table[(size - 1) * stride + k];
      dy = t0 - table[(size - 2) * stride + k];
      f = f - 1.0f;
    }
    return t0 + dy * f * float(size - 1);
  }
  f = saturatef(f) * float(size - 1);
  int i = int(f);
  i = i < 0 ? 0 : (i > size - 1 ? size - 1 : i);  // NaN-safe
  float t = f - float(i);
  float a = table[i * stride + k];
  if (interpolate && t > 0.0f) a = (1.0f - t) * a + t * table[(i + 1) * stride + k];
  return a;
}

// Color Ramp: RGBA rows.
OPTICA_HD void color_ramp(const float *table, int rows, bool interpolate, float fac, float3 &color, float &alpha) {
  color = make3(table_lookup(table, rows, 4, 0, fac, interpolate, false),
                table_lookup(table, rows, 4, 1, fac, interpolate, false),
                table_lookup(table, rows, 4, 2, fac, interpolate, false));
  alpha = table_lookup(table, rows, 4, 3, fac, interpolate, false);
}

// RGB and Vector Curves: three columns over [x_min, x_max], each channel through its column,
// blended with the input by `fac`.
OPTICA_HD float3 curves_rgb(const float *table, int rows, bool extrapolate, float x_min, float x_max, float fac,
                            float3 c) {
  float range = x_max - x_min;
  float3 mapped;
  for (int k = 0; k < 3; ++k) mapped[k] = table_lookup(table, rows, 3, k, (c[k] - x_min) / range, true, extrapolate);
  return c * (1.0f - fac) + mapped * fac;
}

OPTICA_HD float curve_float(const float *table, int rows, bool extrapolate, float x_min, float x_max, float fac,
                            float v) {
  float mapped = table_lookup(table, rows, 1, 0, (v - x_min) / (x_max - x_min), true, extrapolate);
  return (1.0f - fac) * v + fac * mapped;
}

}  // namespace optica
