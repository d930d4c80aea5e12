// Pure converter nodes: Math, Vector Math, Mix, Separate/Combine Color and XYZ, Mapping, the
// Normal node and the implicit socket conversions, with Blender's definitions (safe
// division, Blender's modulo variants, wrap, ping-pong, smooth min/max ...).
#pragma once
#include "color.h"

namespace optica {

OPTICA_HD float compatible_powf(float x, float y) {
  if (y == 0.0f) return 1.0f;
  if (x == 0.0f) return 0.0f;
  return powf(x, y);
}
OPTICA_HD float safe_powf(float a, float b) {
  if (a < 0.0f && b != float(int(b))) return 0.0f;
  return compatible_powf(a, b);
}
OPTICA_HD float safe_logf(float a, float b) {
  if (a <= 0.0f || b <= 0.0f) return 0.0f;
  return safe_divide(logf(a), logf(b));
}
OPTICA_HD float safe_modulo(float a, float b) { return b != 0.0f ? fmodf(a, b) : 0.0f; }
OPTICA_HD float safe_floored_modulo(float a, float b) { return b != 0.0f ? a - floorf(a / b) * b : 0.0f; }
OPTICA_HD float wrapf(float value, float max, float min) {
  float range = max - min;
  return range != 0.0f ? value - range * floorf((value - min) / range) : min;
}
OPTICA_HD float fractf(float x) { return x - floorf(x); }
OPTICA_HD float pingpongf(float a, float b) {
  return b != 0.0f ? fabsf(fractf((a - b) / (b * 2.0f)) * b * 2.0f - b) : 0.0f;
}
OPTICA_HD float smoothminf(float a, float b, float k) {
  if (k == 0.0f) return minf(a, b);
  float h = maxf(k - fabsf(a - b), 0.0f) / k;
  return minf(a, b) - h * h * h * k * (1.0f / 6.0f);
}
OPTICA_HD float signf_zero(float f) { return f == 0.0f ? 0.0f : (f < 0.0f ? -1.0f : 1.0f); }

// Math operations in the order of the `math` enum (opcodes.h), which is Blender's.
OPTICA_HD float svm_math(int op, float a, float b, float c) {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return safe_divide(a, b);
    case 4: return a * b + c;
    case 5: return safe_powf(a, b);
    case 6: return safe_logf(a, b);
    case 7: return safe_sqrt(a);
    case 8: return a > 0.0f ? 1.0f / sqrtf(a) : 0.0f;
    case 9: return fabsf(a);
    case 10: return expf(a);
    case 11: return fminf(a, b);
    case 12: return fmaxf(a, b);
    case 13: return a < b ? 1.0f : 0.0f;
    case 14: return a > b ? 1.0f : 0.0f;
    case 15: return signf_zero(a);
    case 16: return (a == b || fabsf(a - b) <= fmaxf(c, 1.1920929e-7f)) ? 1.0f : 0.0f;
    case 17: return smoothminf(a, b, c);
    case 18: return -smoothminf(-a, -b, c);
    case 19: return floorf(a + 0.5f);
    case 20: return floorf(a);
    case 21: return ceilf(a);
    case 22: return a >= 0.0f ? floorf(a) : ceilf(a);
    case 23: return a - floorf(a);
    case 24: return safe_modulo(a, b);
    case 25: return safe_floored_modulo(a, b);
    case 26: return wrapf(a, b, c);
    case 27: return floorf(safe_divide(a, b)) * b;
    case 28: return pingpongf(a, b);
    case 29: return sinf(a);
    case 30: return cosf(a);
    case 31: return tanf(a);
    case 32: return asinf(clampf(a, -1.0f, 1.0f));
    case 33: return acosf(clampf(a, -1.0f, 1.0f));
    case 34: return atanf(a);
    case 35: return (a == 0.0f && b == 0.0f) ? 0.0f : atan2f(a, b);
    case 36: return sinhf(a);
    case 37: return coshf(a);
    case 38: return tanhf(a);
    case 39: return a * (kPi / 180.0f);
    case 40: return a * (180.0f / kPi);
  }
  return 0.0f;
}

OPTICA_HD float3 floor3(float3 a) { return make3(floorf(a.x), floorf(a.y), floorf(a.z)); }
OPTICA_HD float3 safe_divide3(float3 a, float3 b) {
  return make3(safe_divide(a.x, b.x), safe_divide(a.y, b.y), safe_divide(a.z, b.z));
}

// Vector Math in the order of the `vector_math` enum; returns the vector result, writes the
// float one (dot product, distance, length) to `value`.
OPTICA_HD float3 svm_vector_math(int op, float3 a, float3 b, float3 c, float scale, float &value) {
  value = 0.0f;
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return safe_divide3(a, b);
    case 4: return a * b + c;
    case 5: return cross(a, b);
    case 6: {
      float l2 = dot(b, b);
      return l2 != 0.0f ? b * (dot(a, b) / l2) : make3(0.0f);
    }
    case 7: {
      float3 n = safe_normalize_or(b, b);
      return a - n * (2.0f * dot(n, a));
    }
    case 8: {
      float3 n = safe_normalize_or(b, b);
      float k = 1.0f - scale * scale * (1.0f - dot(n, a) * dot(n, a));
      if (k < 0.0f) return make3(0.0f);
      return a * scale - n * (scale * dot(n, a) + sqrtf(k));
    }
    case 9: return dot(c, b) < 0.0f ? a : -a;
    case 10: value = dot(a, b); return make3(0.0f);
    case 11: value = length(a - b); return make3(0.0f);
    case 12: value = length(a); return make3(0.0f);
    case 13: return a * scale;
    case 14: return safe_normalize_or(a, a);
    case 15: return make3(fabsf(a.x), fabsf(a.y), fabsf(a.z));
    case 16: return make3(safe_powf(a.x, b.x), safe_powf(a.y, b.y), safe_powf(a.z, b.z));
    case 17: return make3(signf_zero(a.x), signf_zero(a.y), signf_zero(a.z));
    case 18: return min3(a, b);
    case 19: return max3(a, b);
    case 20: return floor3(a);
    case 21: return make3(ceilf(a.x), ceilf(a.y), ceilf(a.z));
    case 22: return a - floor3(a);
    case 23: return make3(safe_modulo(a.x, b.x), safe_modulo(a.y, b.y), safe_modulo(a.z, b.z));
    case 24: {
      float3 r = b - c;
      return make3(safe_floored_modulo(a.x - c.x, r.x), safe_floored_modulo(a.y - c.y, r.y),
                   safe_floored_modulo(a.z - c.z, r.z)) + c;
    }
    case 25: return floor3(safe_divide3(a, b)) * b;
    case 26: return make3(sinf(a.x), sinf(a.y), sinf(a.z));
    case 27: return make3(cosf(a.x), cosf(a.y), cosf(a.z));
    case 28: return make3(tanf(a.x), tanf(a.y), tanf(a.z));
  }
  return make3(0.0f);
}

// Blender's XYZ Euler rotation matrix applied to v (and its transpose, the inverse).
OPTICA_HD float3 euler_rotate(float3 e, float3 v, bool inverse) {
  float cx = cosf(e.x), cy = cosf(e.y), cz = cosf(e.z);
  float sx = sinf(e.x), sy = sinf(e.y), sz = sinf(e.z);
  float m[3][3] = {{cy * cz, sy * sx * cz - cx * sz, sy * cx * cz + sx * sz},
                   {cy * sz, sy * sx * sz + cx * cz, sy * cx * sz - sx * cz},
                   {-sy, cy * sx, cy * cx}};
  if (inverse)
    return make3(m[0][0] * v.x + m[1][0] * v.y + m[2][0] * v.z, m[0][1] * v.x + m[1][1] * v.y + m[2][1] * v.z,
                 m[0][2] * v.x + m[1][2] * v.y + m[2][2] * v.z);
  return make3(m[0][0] * v.x + m[0][1] * v.y + m[0][2] * v.z, m[1][0] * v.x + m[1][1] * v.y + m[1][2] * v.z,
               m[2][0] * v.x + m[2][1] * v.y + m[2][2] * v.z);
}

// Mapping node: 0 POINT, 1 TEXTURE, 2 VECTOR, 3 NORMAL.
OPTICA_HD float3 svm_mapping(int type, float3 v, float3 loc, float3 rot, float3 scale) {
  switch (type) {
    case 0: return euler_rotate(rot, v * scale, false) + loc;
    case 1: return safe_divide3(euler_rotate(rot, v - loc, true), scale);
    case 2: return euler_rotate(rot, v * scale, false);
    case 3: {
      float3 n = euler_rotate(rot, safe_divide3(v, scale), false);
      return safe_normalize_or(n, n);
    }
  }
  return make3(0.0f);
}

// Colour → float as Cycles converts it: luminance with the scene's Rec.709 coefficients.
OPTICA_HD float color_to_gray(float3 c) { return luminance(c); }

}  // namespace optica
