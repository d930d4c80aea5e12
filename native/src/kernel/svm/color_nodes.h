// The colour adjustment nodes — Invert, Gamma, Hue/Saturation/Value, Bright/Contrast — with
// Cycles' definitions (negative results clamped where Cycles clamps them).
#pragma once
#include "color.h"

namespace optica {

OPTICA_HD float3 invert_color(float fac, float3 c) {
  return make3(fac * (1.0f - c.x) + (1.0f - fac) * c.x, fac * (1.0f - c.y) + (1.0f - fac) * c.y,
               fac * (1.0f - c.z) + (1.0f - fac) * c.z);
}

// Only positive channels are raised to the power; gamma 0 gives white.
OPTICA_HD float3 gamma_color(float3 c, float gamma) {
  if (gamma == 0.0f) return make3(1.0f);
  return make3(c.x > 0.0f ? powf(c.x, gamma) : c.x, c.y > 0.0f ? powf(c.y, gamma) : c.y,
               c.z > 0.0f ? powf(c.z, gamma) : c.z);
}

// Hue shifts (0.5: none), saturation and value scale, then blend by `fac`; clamped at zero
// (over-saturation can go negative).
OPTICA_HD float3 hue_saturation_value(float hue, float saturation, float value, float fac, float3 in) {
  float3 hsv = rgb_to_hsv(in);
  float h = hsv.x + hue + 0.5f;
  hsv.x = h - floorf(h);
  hsv.y = saturatef(hsv.y * saturation);
  hsv.z *= value;
  float3 c = hsv_to_rgb(hsv);
  c = c * fac + in * (1.0f - fac);
  return max3(c, make3(0.0f));
}

OPTICA_HD float3 bright_contrast(float3 c, float bright, float contrast) {
  float a = 1.0f + contrast, b = bright - contrast * 0.5f;
  return max3(make3(a * c.x + b, a * c.y + b, a * c.z + b), make3(0.0f));
}

}  // namespace optica
