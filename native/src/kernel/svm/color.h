// Colour models (RGB ↔ HSV / HSL) and the Mix node's blend modes, as Blender defines them.
#pragma once
#include "../defs.h"

namespace optica {

OPTICA_HD float3 rgb_to_hsv(float3 rgb) {
  float cmax = maxf(rgb.x, maxf(rgb.y, rgb.z));
  float cmin = minf(rgb.x, minf(rgb.y, rgb.z));
  float delta = cmax - cmin;
  float h = 0.0f, s = cmax != 0.0f ? delta / cmax : 0.0f;
  if (s != 0.0f) {
    float3 c = (make3(cmax) - rgb) / delta;
    if (rgb.x == cmax) h = c.z - c.y;
    else if (rgb.y == cmax) h = 2.0f + c.x - c.z;
    else h = 4.0f + c.y - c.x;
    h /= 6.0f;
    if (h < 0.0f) h += 1.0f;
  }
  return make3(h, s, cmax);
}

OPTICA_HD float3 hsv_to_rgb(float3 hsv) {
  float h = hsv.x, s = hsv.y, v = hsv.z;
  if (s == 0.0f) return make3(v);
  if (h == 1.0f) h = 0.0f;
  h *= 6.0f;
  float i = floorf(h), f = h - i;
  float p = v * (1.0f - s), q = v * (1.0f - s * f), t = v * (1.0f - s * (1.0f - f));
  if (i == 0.0f) return make3(v, t, p);
  if (i == 1.0f) return make3(q, v, p);
  if (i == 2.0f) return make3(p, v, t);
  if (i == 3.0f) return make3(p, q, v);
  if (i == 4.0f) return make3(t, p, v);
  return make3(v, p, q);
}

OPTICA_HD float3 rgb_to_hsl(float3 rgb) {
  float cmax = maxf(rgb.x, maxf(rgb.y, rgb.z));
  float cmin = minf(rgb.x, minf(rgb.y, rgb.z));
  float l = minf(1.0f, 0.5f * (cmax + cmin));
  float h = 0.0f, s = 0.0f;
  if (cmax != cmin) {
    float d = cmax - cmin;
    s = l > 0.5f ? d / (2.0f - cmax - cmin) : d / (cmax + cmin);
    if (cmax == rgb.x) h = (rgb.y - rgb.z) / d + (rgb.y < rgb.z ? 6.0f : 0.0f);
    else if (cmax == rgb.y) h = (rgb.z - rgb.x) / d + 2.0f;
    else h = (rgb.x - rgb.y) / d + 4.0f;
  }
  return make3(h / 6.0f, s, l);
}

OPTICA_HD float3 hsl_to_rgb(float3 hsl) {
  float h = hsl.x, s = hsl.y, l = hsl.z;
  float nr = clampf(fabsf(h * 6.0f - 3.0f) - 1.0f, 0.0f, 1.0f);
  float ng = clampf(2.0f - fabsf(h * 6.0f - 2.0f), 0.0f, 1.0f);
  float nb = clampf(2.0f - fabsf(h * 6.0f - 4.0f), 0.0f, 1.0f);
  float chroma = (1.0f - fabsf(2.0f * l - 1.0f)) * s;
  return make3((nr - 0.5f) * chroma + l, (ng - 0.5f) * chroma + l, (nb - 0.5f) * chroma + l);
}

// Colour mode of Separate/Combine Color: 0 RGB, 1 HSV, 2 HSL.
OPTICA_HD float3 color_from_rgb(int mode, float3 c) {
  return mode == 1 ? rgb_to_hsv(c) : mode == 2 ? rgb_to_hsl(c) : c;
}
OPTICA_HD float3 color_to_rgb(int mode, float3 c) {
  return mode == 1 ? hsv_to_rgb(c) : mode == 2 ? hsl_to_rgb(c) : c;
}

// ---- blend modes (per channel where Blender works per channel)

OPTICA_HD float blend_dodge(float a, float b, float t) {
  if (a == 0.0f) return a;
  float d = 1.0f - t * b;
  if (d <= 0.0f) return 1.0f;
  return minf(a / d, 1.0f);
}
OPTICA_HD float blend_burn(float a, float b, float t) {
  float d = (1.0f - t) + t * b;
  if (d <= 0.0f) return 0.0f;
  return clampf(1.0f - (1.0f - a) / d, 0.0f, 1.0f);
}
OPTICA_HD float blend_overlay(float a, float b, float t) {
  float tm = 1.0f - t;
  return a < 0.5f ? a * (tm + 2.0f * t * b) : 1.0f - (tm + 2.0f * t * (1.0f - b)) * (1.0f - a);
}
OPTICA_HD float blend_divide(float a, float b, float t) { return b != 0.0f ? (1.0f - t) * a + t * a / b : a; }

// The blend modes in the order of the `blend` enum (opcodes.h), which is Blender's.
enum BlendMode : int {
  kBlendMix, kBlendDarken, kBlendMultiply, kBlendBurn, kBlendLighten, kBlendScreen, kBlendDodge, kBlendAdd,
  kBlendOverlay, kBlendSoftLight, kBlendLinearLight, kBlendDifference, kBlendExclusion, kBlendSubtract,
  kBlendDivide, kBlendHue, kBlendSaturation, kBlendColor, kBlendValue
};

OPTICA_HD float3 blend_colors(int mode, float t, float3 a, float3 b) {
  float tm = 1.0f - t;
  switch (mode) {
    case kBlendMix: return mix3(a, b, t);
    case kBlendDarken: return mix3(a, min3(a, b), t);
    case kBlendMultiply: return mix3(a, a * b, t);
    case kBlendBurn: return make3(blend_burn(a.x, b.x, t), blend_burn(a.y, b.y, t), blend_burn(a.z, b.z, t));
    case kBlendLighten: return mix3(a, max3(a, b), t);
    case kBlendScreen: return make3(1.0f) - (make3(tm) + (make3(1.0f) - b) * t) * (make3(1.0f) - a);
    case kBlendDodge: return make3(blend_dodge(a.x, b.x, t), blend_dodge(a.y, b.y, t), blend_dodge(a.z, b.z, t));
    case kBlendAdd: return mix3(a, a + b, t);
    case kBlendOverlay:
      return make3(blend_overlay(a.x, b.x, t), blend_overlay(a.y, b.y, t), blend_overlay(a.z, b.z, t));
    case kBlendSoftLight: {
      float3 scr = make3(1.0f) - (make3(1.0f) - b) * (make3(1.0f) - a);
      return a * tm + ((make3(1.0f) - a) * b * a + a * scr) * t;
    }
    case kBlendLinearLight: return a + (b * 2.0f - make3(1.0f)) * t;
    case kBlendDifference:
      return mix3(a, make3(fabsf(a.x - b.x), fabsf(a.y - b.y), fabsf(a.z - b.z)), t);
    case kBlendExclusion: return max3(mix3(a, a + b - a * b * 2.0f, t), make3(0.0f));
    case kBlendSubtract: return mix3(a, a - b, t);
    case kBlendDivide: return make3(blend_divide(a.x, b.x, t), blend_divide(a.y, b.y, t), blend_divide(a.z, b.z, t));
    case kBlendHue: {
      float3 hsv2 = rgb_to_hsv(b);
      if (hsv2.y == 0.0f) return a;
      float3 hsv = rgb_to_hsv(a);
      hsv.x = hsv2.x;
      return mix3(a, hsv_to_rgb(hsv), t);
    }
    case kBlendSaturation: {
      float3 hsv = rgb_to_hsv(a);
      if (hsv.y == 0.0f) return a;
      hsv.y = tm * hsv.y + t * rgb_to_hsv(b).y;
      return hsv_to_rgb(hsv);
    }
    case kBlendColor: {
      float3 hsv2 = rgb_to_hsv(b);
      if (hsv2.y == 0.0f) return a;
      float3 hsv = rgb_to_hsv(a);
      hsv.x = hsv2.x;
      hsv.y = hsv2.y;
      return mix3(a, hsv_to_rgb(hsv), t);
    }
    case kBlendValue: {
      float3 hsv = rgb_to_hsv(a);
      hsv.z = tm * hsv.z + t * rgb_to_hsv(b).z;
      return hsv_to_rgb(hsv);
    }
  }
  return make3(0.0f);
}

// sRGB transfer function (decoding), as Cycles applies it to 8-bit sRGB images.
OPTICA_HD float srgb_to_linear(float c) {
  if (c < 0.04045f) return c < 0.0f ? 0.0f : c * (1.0f / 12.92f);
  return powf((c + 0.055f) * (1.0f / 1.055f), 2.4f);
}

}  // namespace optica
