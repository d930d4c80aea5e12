// Map Range (float and vector, every interpolation, clamping) and Clamp, with Cycles'
// definitions.
#pragma once
#include "../defs.h"

namespace optica {

// Map Range's `interpolation_type`, in Blender's order.
enum MapRangeType : int { kMapRangeLinear, kMapRangeStepped, kMapRangeSmoothstep, kMapRangeSmootherstep };

OPTICA_HD float smoothstep_between(float edge0, float edge1, float x) {
  if (x < edge0) return 0.0f;
  if (x >= edge1) return 1.0f;
  float t = (x - edge0) / (edge1 - edge0);
  return (3.0f - 2.0f * t) * (t * t);
}
OPTICA_HD float smootherstep_between(float edge0, float edge1, float x) {
  x = clampf(safe_divide(x - edge0, edge1 - edge0), 0.0f, 1.0f);
  return x * x * x * (x * (x * 6.0f - 15.0f) + 10.0f);
}

// Clamp between two bounds given in either order (Clamp's RANGE mode, Map Range's clamp).
OPTICA_HD float clamp_range(float v, float a, float b) { return a > b ? clampf(v, b, a) : clampf(v, a, b); }

OPTICA_HD float map_range(int type, bool clamp, float value, float from_min, float from_max, float to_min,
                          float to_max, float steps) {
  if (from_max == from_min) return 0.0f;
  float factor;
  switch (type) {
    case kMapRangeStepped:
      factor = (value - from_min) / (from_max - from_min);
      factor = steps > 0.0f ? floorf(factor * (steps + 1.0f)) / steps : 0.0f;
      break;
    case kMapRangeSmoothstep:
      factor = from_min > from_max ? 1.0f - smoothstep_between(from_max, from_min, value)
                                   : smoothstep_between(from_min, from_max, value);
      break;
    case kMapRangeSmootherstep:
      factor = from_min > from_max ? 1.0f - smootherstep_between(from_max, from_min, value)
                                   : smootherstep_between(from_min, from_max, value);
      break;
    default: factor = (value - from_min) / (from_max - from_min);
  }
  float result = to_min + factor * (to_max - to_min);
  return clamp ? clamp_range(result, to_min, to_max) : result;
}

// Per component; division by an empty source range gives 0 there (Cycles' safe_divide), and
// the smooth types never clamp (their result stays in range).
OPTICA_HD float map_range_component(int type, bool clamp, float value, float from_min, float from_max, float to_min,
                                    float to_max, float steps) {
  float factor = safe_divide(value - from_min, from_max - from_min);
  switch (type) {
    case kMapRangeStepped: factor = steps > 0.0f ? floorf(factor * (steps + 1.0f)) / steps : 0.0f; break;
    case kMapRangeSmoothstep:
      factor = saturatef(factor);
      factor = (3.0f - 2.0f * factor) * (factor * factor);
      break;
    case kMapRangeSmootherstep:
      factor = saturatef(factor);
      factor = factor * factor * factor * (factor * (factor * 6.0f - 15.0f) + 10.0f);
      break;
    default: break;
  }
  float result = to_min + factor * (to_max - to_min);
  bool clamped = clamp && (type == kMapRangeLinear || type == kMapRangeStepped);
  return clamped ? clamp_range(result, to_min, to_max) : result;
}

OPTICA_HD float3 map_range_vector(int type, bool clamp, float3 v, float3 from_min, float3 from_max, float3 to_min,
                                  float3 to_max, float3 steps) {
  float3 r;
  for (int i = 0; i < 3; ++i)
    r[i] = map_range_component(type, clamp, v[i], from_min[i], from_max[i], to_min[i], to_max[i], steps[i]);
  return r;
}

// Clamp's `clamp_type`: 0 MINMAX (min then max, as given), 1 RANGE (bounds in either order).
OPTICA_HD float clamp_node(int type, float value, float lo, float hi) {
  return type == 1 ? clamp_range(value, lo, hi) : clampf(value, lo, hi);
}

}  // namespace optica
