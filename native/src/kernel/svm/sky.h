// Sky Texture: the sky models evaluated per direction from the data the host precomputed
// (optica_core/shading/sky.py), in Cycles' conventions (kernel/svm/sky.h): Preetham's
// analytic daylight and Hosek & Wilkie's analytic sky (XYZ), with the sun's zenith and azimuth
// measured as Cycles measures them, and the Nishita skies' table (XYZ over azimuth from the sun
// and a non-linear elevation) with the sun disc drawn analytically in front of it.
#pragma once
#include "../defs.h"

namespace optica {

enum SkyModel : int32_t { kSkyPreetham = 0, kSkyNishita = 1, kSkyHosekWilkie = 2 };
constexpr int kSkyNishitaHeader = 14;
constexpr int kSkyHosekWilkieCount = 33;

// Perez et al.'s sky luminance distribution: theta from the zenith, gamma from the sun.
OPTICA_HD float sky_perez(const float *lam, float theta, float gamma) {
  float cg = cosf(gamma);
  return (1.0f + lam[0] * expf(lam[1] / cosf(theta))) * (1.0f + lam[2] * expf(lam[3] * gamma) + lam[4] * cg * cg);
}

OPTICA_HD float3 sky_xyz_to_rgb(float3 c) {
  float3 rgb = make3(3.2409699f * c.x - 1.5373832f * c.y - 0.4986108f * c.z,
                     -0.9692436f * c.x + 1.8759675f * c.y + 0.0415551f * c.z,
                     0.0556301f * c.x - 0.2039770f * c.y + 1.0569715f * c.z);
  return max3(rgb, make3(0.0f));
}

// CIE xyY to linear Rec.709 (XYZ with a D65 white, Blender's XYZ role), negatives cut to zero.
OPTICA_HD float3 sky_xyY_to_rgb(float x, float y, float Y) {
  float X = y != 0.0f ? x / y * Y : 0.0f;
  float Z = (y != 0.0f && Y != 0.0f) ? (1.0f - x - y) / y * Y : 0.0f;
  return sky_xyz_to_rgb(make3(X, Y, Z));
}

OPTICA_HD float3 sky_texel(const float *table, int w, int x, int y) {
  const float *t = table + 3 * (size_t(y) * size_t(w) + size_t(x));
  return make3(t[0], t[1], t[2]);
}

// The table at (u, v) in [0, 1]: bilinear between texel centres, edges extended (Cycles'
// Linear interpolation with Extend, as it loads the sky table).
OPTICA_HD float3 sky_table(const float *table, int w, int h, float u, float v) {
  float px = u * float(w) - 0.5f, py = v * float(h) - 0.5f;
  float fx = floorf(px), fy = floorf(py);
  float tx = px - fx, ty = py - fy;
  int x0 = int(fx), y0 = int(fy);
  int xa = x0 < 0 ? 0 : (x0 > w - 1 ? w - 1 : x0), xb = x0 + 1 < 0 ? 0 : (x0 + 1 > w - 1 ? w - 1 : x0 + 1);
  int ya = y0 < 0 ? 0 : (y0 > h - 1 ? h - 1 : y0), yb = y0 + 1 < 0 ? 0 : (y0 + 1 > h - 1 ? h - 1 : y0 + 1);
  return (sky_texel(table, w, xa, ya) * (1.0f - tx) + sky_texel(table, w, xb, ya) * tx) * (1.0f - ty) +
         (sky_texel(table, w, xa, yb) * (1.0f - tx) + sky_texel(table, w, xb, yb) * tx) * ty;
}

// Multiple Scattering (data: see optica_core/shading/sky.py, multiple_scattering()).
OPTICA_HD float3 sky_nishita(const float *data, int count, float3 dir) {
  int w = int(data[12]), h = int(data[13]);
  if (w < 1 || h < 1 || count < kSkyNishitaHeader + 3 * w * h) return make3(0.0f);
  float3 bottom = make3(data[1], data[2], data[3]), top = make3(data[4], data[5], data[6]);
  float sun_elevation = data[7], sun_rotation = data[8], diameter = data[9], intensity = data[10];
  float horizon = data[11];
  float dir_theta = acosf(clampf(dir.z, -1.0f, 1.0f));
  float dir_elevation = 0.5f * kPi - dir_theta;
  float3 xyz = make3(0.0f);
  if (diameter >= 0.0f) {
    float ce = cosf(sun_elevation);
    float3 sun = make3(-ce * sinf(sun_rotation), ce * cosf(sun_rotation), sinf(sun_elevation));
    // The angle between unit vectors, accurate for small angles.
    float angle = 2.0f * atan2f(length(dir - sun), length(dir + sun));
    float half = 0.5f * diameter;
    if (angle < half && dir_elevation > horizon) {
      float y = (dir_elevation - sun_elevation) / diameter + 0.5f;
      float limb = 1.0f - 0.6f * (1.0f - sqrtf(maxf(1.0f - sqr(angle / half), 0.0f)));
      xyz = (bottom + (top - bottom) * y) * (intensity * limb);
    }
  }
  float x = (-atan2f(dir.y, dir.x) - 0.5f * kPi + sun_rotation) * (0.5f / kPi);
  x -= floorf(x);
  float v = copysignf(sqrtf(fabsf(dir_elevation) * (2.0f / kPi)), dir_elevation) * 0.5f + 0.5f;
  xyz += sky_table(data + kSkyNishitaHeader, w, h, x, v);
  return sky_xyz_to_rgb(xyz);
}

// Hosek & Wilkie's radiance distribution for one channel's nine coefficients (A … I): theta from
// the zenith (at most just above the horizon), gamma from the sun.
OPTICA_HD float sky_hosek_channel(const float *c, float theta, float gamma) {
  float ct = cosf(theta), cg = cosf(gamma);
  float rayleigh = cg * cg;
  float mie = (1.0f + rayleigh) / powf(1.0f + c[8] * c[8] - 2.0f * c[8] * cg, 1.5f);
  return (1.0f + c[0] * expf(c[1] / (ct + 0.01f))) *
         (c[2] + c[3] * expf(c[4] * gamma) + c[5] * rayleigh + c[6] * mie + c[7] * sqrtf(ct));
}

// The angles both analytic models share: theta of dir from the zenith and gamma from the sun at
// (sun_theta, sun_phi), phi measured as Cycles does (from +Y towards +X).
OPTICA_HD void sky_angles(float3 dir, float sun_theta, float sun_phi, float &theta, float &gamma) {
  theta = acosf(clampf(dir.z, -1.0f, 1.0f));
  float phi = 0.5f * kPi - atan2f(dir.y, dir.x);
  float cos_gamma = sinf(sun_theta) * sinf(theta) * cosf(phi - sun_phi) + cosf(sun_theta) * cosf(theta);
  gamma = acosf(clampf(cos_gamma, -1.0f, 1.0f));
}

// data (Hosek / Wilkie): model, sun theta, sun phi, the overall X, Y, Z radiance, then the nine
// coefficients for X, Y and Z (optica_core/shading/sky.py, hosek_wilkie()). Below the horizon
// the horizon's colour, as Cycles; XYZ in the model's W m⁻² sr⁻¹ nm⁻¹ scaled by 2π / 683.
OPTICA_HD float3 sky_hosek_wilkie(const float *data, int count, float3 dir) {
  if (count < kSkyHosekWilkieCount) return make3(0.0f);
  float theta, gamma;
  sky_angles(dir, data[1], data[2], theta, gamma);
  theta = minf(theta, 0.5f * kPi - 0.001f);
  float3 xyz = make3(sky_hosek_channel(data + 6, theta, gamma) * data[3],
                     sky_hosek_channel(data + 15, theta, gamma) * data[4],
                     sky_hosek_channel(data + 24, theta, gamma) * data[5]);
  return sky_xyz_to_rgb(xyz) * (2.0f * kPi / 683.0f);
}

// data (Preetham): model, sun theta, sun phi, zenith Y, x, y, then Perez's five coefficients
// for Y, x and y. Directions below the horizon see the horizon (theta is clamped), as Cycles.
OPTICA_HD float3 svm_sky(const float *data, int count, float3 dir) {
  if (count >= kSkyNishitaHeader && int(data[0]) == kSkyNishita) return sky_nishita(data, count, dir);
  if (count >= 1 && int(data[0]) == kSkyHosekWilkie) return sky_hosek_wilkie(data, count, dir);
  if (count < 21 || int(data[0]) != kSkyPreetham) return make3(0.0f);
  float theta, gamma;
  sky_angles(dir, data[1], data[2], theta, gamma);
  theta = minf(theta, 0.5f * kPi - 0.001f);
  float Y = data[3] * sky_perez(data + 6, theta, gamma);
  float x = data[4] * sky_perez(data + 11, theta, gamma);
  float y = data[5] * sky_perez(data + 16, theta, gamma);
  return sky_xyY_to_rgb(x, y, Y);
}

}  // namespace optica
