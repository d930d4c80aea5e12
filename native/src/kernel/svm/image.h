// Image Texture: lookups with Cycles' interpolation (Closest, Linear, Cubic B-spline; Smart
// is Cubic), extension (Repeat, Extend, Clip, Mirror) and projection (Flat, Box, Sphere,
// Tube), in Cycles' order: sRGB images (8-bit, and float files Cycles keeps encoded) are
// interpolated as stored — sRGB-encoded, alpha-associated — then unassociated (if the Alpha
// output is used) and decoded. Decoding after interpolation is what gives texture edges
// Cycles' softness (and a bright hard-edged disk in such an HDRI Cycles' lower energy).
#pragma once
#include "color.h"
#include "stack.h"

namespace optica {

struct Texel4 { float v[4]; };

OPTICA_HD Texel4 texel_zero() { return Texel4{{0.0f, 0.0f, 0.0f, 0.0f}}; }

OPTICA_HD Texel4 texel_read(const TextureView &t, int x, int y) {
  size_t i = size_t(y) * size_t(t.width) + size_t(x);
  Texel4 r;
  if (t.channels == 1) {
    float v = t.bytes ? t.bytes[i] * (1.0f / 255.0f) : t.floats[i];
    r.v[0] = r.v[1] = r.v[2] = v;
    r.v[3] = 1.0f;
    return r;
  }
  for (int k = 0; k < 4; ++k) r.v[k] = t.bytes ? t.bytes[4 * i + k] * (1.0f / 255.0f) : t.floats[4 * i + k];
  return r;
}

OPTICA_HD int wrap_periodic(int x, int n) {
  x %= n;
  return x < 0 ? x + n : x;
}
OPTICA_HD int wrap_clamp(int x, int n) { return x < 0 ? 0 : (x >= n ? n - 1 : x); }
OPTICA_HD int wrap_mirror(int x, int n) {
  int m = (x + (x < 0 ? 1 : 0));
  m = (m < 0 ? -m : m) % (2 * n);
  return m >= n ? 2 * n - m - 1 : m;
}
// Texel coordinate under the extension mode; -1 outside a clipped image.
OPTICA_HD int wrap_texel(int x, int n, int extension) {
  switch (extension) {
    case kExtRepeat: return wrap_periodic(x, n);
    case kExtExtend: return wrap_clamp(x, n);
    case kExtMirror: return wrap_mirror(x, n);
    default: return (x < 0 || x >= n) ? -1 : x;
  }
}

OPTICA_HD Texel4 texel_at(const TextureView &t, int x, int y, int extension) {
  int wx = wrap_texel(x, t.width, extension), wy = wrap_texel(y, t.height, extension);
  if (wx < 0 || wy < 0) return texel_zero();
  return texel_read(t, wx, wy);
}

OPTICA_HD void texel_accumulate(Texel4 &acc, const Texel4 &v, float w) {
  for (int k = 0; k < 4; ++k) acc.v[k] += v.v[k] * w;
}

// Floor of x and the fraction left over (Cycles' frac()).
OPTICA_HD float floor_frac(float x, int &i) {
  float f = floorf(x);
  i = int(f);
  return x - f;
}

OPTICA_HD void cubic_bspline_weights(float t, float w[4]) {
  w[0] = (((-1.0f / 6.0f) * t + 0.5f) * t - 0.5f) * t + (1.0f / 6.0f);
  w[1] = ((0.5f * t - 1.0f) * t) * t + (2.0f / 3.0f);
  w[2] = ((-0.5f * t + 0.5f) * t + 0.5f) * t + (1.0f / 6.0f);
  w[3] = (1.0f / 6.0f) * t * t * t;
}

OPTICA_HD Texel4 texture_interpolate(const TextureView &t, float x, float y, int interpolation, int extension) {
  if (interpolation == kInterpClosest) {
    int ix, iy;
    floor_frac(x * t.width, ix);
    floor_frac(y * t.height, iy);
    return texel_at(t, ix, iy, extension);
  }
  int ix, iy;
  float tx = floor_frac(x * t.width - 0.5f, ix), ty = floor_frac(y * t.height - 0.5f, iy);
  Texel4 acc = texel_zero();
  if (interpolation == kInterpLinear) {
    if (extension == kExtClip && (ix < -1 || ix >= t.width || iy < -1 || iy >= t.height)) return acc;
    texel_accumulate(acc, texel_at(t, ix, iy, extension), (1.0f - tx) * (1.0f - ty));
    texel_accumulate(acc, texel_at(t, ix + 1, iy, extension), tx * (1.0f - ty));
    texel_accumulate(acc, texel_at(t, ix, iy + 1, extension), (1.0f - tx) * ty);
    texel_accumulate(acc, texel_at(t, ix + 1, iy + 1, extension), tx * ty);
    return acc;
  }
  if (extension == kExtClip && (ix < -2 || ix > t.width || iy < -2 || iy > t.height)) return acc;
  float wx[4], wy[4];
  cubic_bspline_weights(tx, wx);
  cubic_bspline_weights(ty, wy);
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 4; ++i) texel_accumulate(acc, texel_at(t, ix - 1 + i, iy - 1 + j, extension), wx[i] * wy[j]);
  return acc;
}

// Colour and alpha of texture `index` (-1: missing image, Cycles' magenta) at (x, y).
OPTICA_HD Texel4 texture_lookup(const KernelScene &s, int32_t index, float x, float y, int interpolation, int extension,
                                bool alpha_used) {
  if (index < 0) return Texel4{{1.0f, 0.0f, 1.0f, 1.0f}};
  const TextureView &t = s.textures[index];
  Texel4 r = texture_interpolate(t, x, y, interpolation, extension);
  float a = r.v[3];
  if (alpha_used && t.unassociate && a != 1.0f && a != 0.0f) {
    for (int k = 0; k < 3; ++k) r.v[k] /= a;
  }
  if (t.srgb)
    for (int k = 0; k < 3; ++k) r.v[k] = srgb_to_linear(r.v[k]);
  return r;
}

// Sphere and Tube projections of a coordinate in [-1, 1]³ (Cycles' map_to_sphere/tube).
OPTICA_HD float2 map_to_tube(float3 co) {
  float len = sqrtf(co.x * co.x + co.y * co.y);
  if (len > 0.0f) return {(1.0f - atan2f(co.x / len, co.y / len) / kPi) * 0.5f, (co.z + 1.0f) * 0.5f};
  return {0.0f, 0.0f};
}
OPTICA_HD float2 map_to_sphere(float3 co) {
  float l = dot(co, co);
  if (l > 0.0f) {
    float u = (co.x == 0.0f && co.y == 0.0f) ? 0.0f : (1.0f - atan2f(co.x, co.y) / kPi) * 0.5f;
    return {u, 1.0f - safe_divide(acosf(clampf(co.z / sqrtf(l), -1.0f, 1.0f)), kPi)};
  }
  return {0.0f, 0.0f};
}

OPTICA_HD Texel4 svm_image_flat(const KernelScene &s, int32_t tex, int interpolation, int extension, int projection,
                                bool alpha_used, float3 co) {
  float2 uv{co.x, co.y};
  if (projection == 2 || projection == 3) {  // SPHERE, TUBE: from the [0, 1] box to [-1, 1]
    float3 c = (co - make3(0.5f)) * 2.0f;
    uv = projection == 2 ? map_to_sphere(c) : map_to_tube(c);
  }
  return texture_lookup(s, tex, uv.x, uv.y, interpolation, extension, alpha_used);
}

// Box projection: three planar lookups blended by the object-space normal (Cycles'
// svm_node_tex_image_box).
OPTICA_HD Texel4 svm_image_box(const KernelScene &s, float3 n_object, int32_t tex, int interpolation, int extension,
                               float blend, bool alpha_used, float3 co) {
  float3 signed_n = n_object;
  float3 n = make3(fabsf(n_object.x), fabsf(n_object.y), fabsf(n_object.z));
  n = n / (n.x + n.y + n.z);
  float3 w = make3(0.0f);
  float limit = 0.5f * (1.0f + blend);
  if (n.x > limit * (n.x + n.y) && n.x > limit * (n.x + n.z)) {
    w.x = 1.0f;
  } else if (n.y > limit * (n.x + n.y) && n.y > limit * (n.y + n.z)) {
    w.y = 1.0f;
  } else if (n.z > limit * (n.x + n.z) && n.z > limit * (n.y + n.z)) {
    w.z = 1.0f;
  } else if (blend > 0.0f) {
    if (n.z < (1.0f - limit) * (n.y + n.x)) {
      w.x = n.x / (n.x + n.y);
      w.x = saturatef((w.x - 0.5f * (1.0f - blend)) / blend);
      w.y = 1.0f - w.x;
    } else if (n.x < (1.0f - limit) * (n.y + n.z)) {
      w.y = n.y / (n.y + n.z);
      w.y = saturatef((w.y - 0.5f * (1.0f - blend)) / blend);
      w.z = 1.0f - w.y;
    } else if (n.y < (1.0f - limit) * (n.x + n.z)) {
      w.x = n.x / (n.x + n.z);
      w.x = saturatef((w.x - 0.5f * (1.0f - blend)) / blend);
      w.z = 1.0f - w.x;
    } else {
      w.x = ((2.0f - limit) * n.x + (limit - 1.0f)) / (2.0f * limit - 1.0f);
      w.y = ((2.0f - limit) * n.y + (limit - 1.0f)) / (2.0f * limit - 1.0f);
      w.z = ((2.0f - limit) * n.z + (limit - 1.0f)) / (2.0f * limit - 1.0f);
    }
  } else {
    w.x = 1.0f;  // no valid choice without blending: Cycles falls back to one side
  }
  Texel4 acc = texel_zero();
  if (w.x > 0.0f) {
    Texel4 t = texture_lookup(s, tex, signed_n.x < 0.0f ? 1.0f - co.y : co.y, co.z, interpolation, extension, alpha_used);
    texel_accumulate(acc, t, w.x);
  }
  if (w.y > 0.0f) {
    Texel4 t = texture_lookup(s, tex, signed_n.y > 0.0f ? 1.0f - co.x : co.x, co.z, interpolation, extension, alpha_used);
    texel_accumulate(acc, t, w.y);
  }
  if (w.z > 0.0f) {
    Texel4 t = texture_lookup(s, tex, signed_n.z > 0.0f ? 1.0f - co.y : co.y, co.x, interpolation, extension, alpha_used);
    texel_accumulate(acc, t, w.z);
  }
  return acc;
}

}  // namespace optica
