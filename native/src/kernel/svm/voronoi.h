// The Voronoi Texture node in 1–4 dimensions: F1, F2, smooth F1, distance to edge and n-sphere
// radius under every distance metric, with its fractal octaves (detail, roughness, lacunarity)
// and normalisation — computing what Cycles' voronoi.h computes (feature points from the same
// hashes: lookup3 of the cell in 1D, PCG of the integer cell in 2D–4D).
#pragma once
#include "noise.h"

namespace optica {

enum VoronoiFeature : int { kVoronoiF1, kVoronoiF2, kVoronoiSmoothF1, kVoronoiDistanceToEdge, kVoronoiNSphereRadius };
enum VoronoiMetric : int { kVoronoiEuclidean, kVoronoiManhattan, kVoronoiChebychev, kVoronoiMinkowski };

struct VoronoiParams {
  int n;  // dimensions, 1–4
  int feature, metric;
  float scale, detail, roughness, lacunarity, smoothness, exponent, randomness, max_distance;
  bool normalize;
};

struct VoronoiVec {
  float v[4];
};

struct VoronoiResult {
  float distance;
  float3 color;
  VoronoiVec position;  // x, y, z, w (1D: only w)
};

OPTICA_HD VoronoiVec vvec(float x) {
  VoronoiVec r = {{x, x, x, x}};
  return r;
}

// Distance between a and b in the first `n` coordinates (1D always |a - b|).
OPTICA_HD float voronoi_distance(const VoronoiParams &vp, const VoronoiVec &a, const VoronoiVec &b) {
  if (vp.n == 1) return fabsf(b.v[0] - a.v[0]);
  float sum = 0.0f, largest = 0.0f;
  for (int i = 0; i < vp.n; ++i) {
    float d = fabsf(a.v[i] - b.v[i]);
    switch (vp.metric) {
      case kVoronoiEuclidean: sum += d * d; break;
      case kVoronoiManhattan: sum += d; break;
      case kVoronoiChebychev: largest = maxf(largest, d); break;
      default: sum += powf(d, vp.exponent); break;
    }
  }
  switch (vp.metric) {
    case kVoronoiEuclidean: return sqrtf(sum);
    case kVoronoiManhattan: return sum;
    case kVoronoiChebychev: return largest;
    default: return powf(sum, 1.0f / vp.exponent);
  }
}

// A monotonic stand-in for the distance where only the nearest point matters (Cycles'
// voronoi_distance_bound: no square root, no final power).
OPTICA_HD float voronoi_distance_bound(const VoronoiParams &vp, const VoronoiVec &a, const VoronoiVec &b) {
  if (vp.n == 1 || vp.metric == kVoronoiManhattan || vp.metric == kVoronoiChebychev)
    return voronoi_distance(vp, a, b);
  float sum = 0.0f;
  for (int i = 0; i < vp.n; ++i) {
    float d = fabsf(a.v[i] - b.v[i]);
    sum += vp.metric == kVoronoiEuclidean ? d * d : powf(d, vp.exponent);
  }
  return sum;
}

struct VoronoiCell {
  int c[4];
};

// The feature point of cell `cell` (integer coordinates), relative to `origin` (the cell of
// the shaded point), and the cell's colour.
OPTICA_HD VoronoiVec voronoi_point(const VoronoiParams &vp, const VoronoiCell &origin, const int *offset) {
  VoronoiVec p = vvec(0.0f);
  float jitter[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  int32_t cell[4];
  for (int i = 0; i < vp.n; ++i) cell[i] = origin.c[i] + offset[i];
  if (vp.n == 1) jitter[0] = hash_f1(float(cell[0]));
  else hash_pcg_to_unit(vp.n, cell, jitter);
  for (int i = 0; i < vp.n; ++i) p.v[i] = float(offset[i]) + jitter[i] * vp.randomness;
  return p;
}

OPTICA_HD float3 voronoi_cell_color(const VoronoiParams &vp, const VoronoiCell &origin, const int *offset) {
  int32_t cell[4] = {0, 0, 0, 0};
  for (int i = 0; i < vp.n; ++i) cell[i] = origin.c[i] + offset[i];
  if (vp.n == 1) return hash_f1_to_3(float(cell[0]));
  float h[4];
  hash_pcg_to_unit(vp.n == 2 ? 3 : vp.n, cell, h);  // 2D hashes (x, y, 0) in three dimensions
  return make3(h[0], h[1], h[2]);
}

// Splits `coord` into its cell and the position inside it.
OPTICA_HD VoronoiCell voronoi_split(const VoronoiParams &vp, const VoronoiVec &coord, VoronoiVec &local,
                                    VoronoiVec &cell_f) {
  VoronoiCell cell = {{0, 0, 0, 0}};
  local = vvec(0.0f);
  cell_f = vvec(0.0f);
  for (int i = 0; i < vp.n; ++i) {
    cell_f.v[i] = floorf(coord.v[i]);
    cell.c[i] = int(cell_f.v[i]);
    local.v[i] = coord.v[i] - cell_f.v[i];
  }
  return cell;
}

// The k-th neighbour offset in a (2r+1)^n block, x varying fastest (Cycles' loop order).
OPTICA_HD void voronoi_offset(int n, int k, int r, int *offset) {
  for (int i = 0; i < 4; ++i) {
    offset[i] = 0;
    if (i < n) {
      offset[i] = k % (2 * r + 1) - r;
      k /= 2 * r + 1;
    }
  }
}
OPTICA_HD int voronoi_block(int n, int r) {
  int count = 1;
  for (int i = 0; i < n; ++i) count *= 2 * r + 1;
  return count;
}

OPTICA_HD VoronoiVec voronoi_absolute(const VoronoiParams &vp, const VoronoiVec &p, const VoronoiVec &cell_f) {
  VoronoiVec r = vvec(0.0f);
  for (int i = 0; i < vp.n; ++i) r.v[i] = p.v[i] + cell_f.v[i];
  if (vp.n == 1) {  // 1D positions live in w
    r.v[3] = r.v[0];
    r.v[0] = 0.0f;
  } else if (vp.n == 2) {
    r.v[2] = r.v[3] = 0.0f;
  } else if (vp.n == 3) {
    r.v[3] = 0.0f;
  }
  return r;
}

OPTICA_HD VoronoiResult voronoi_f1_f2(const VoronoiParams &vp, const VoronoiVec &coord, bool second) {
  VoronoiVec local, cell_f;
  VoronoiCell cell = voronoi_split(vp, coord, local, cell_f);
  float d1 = 3.4e38f, d2 = 3.4e38f;
  int o1[4] = {0, 0, 0, 0}, o2[4] = {0, 0, 0, 0};
  VoronoiVec p1 = vvec(0.0f), p2 = vvec(0.0f);
  const int count = voronoi_block(vp.n, 1);
  for (int k = 0; k < count; ++k) {
    int offset[4];
    voronoi_offset(vp.n, k, 1, offset);
    VoronoiVec p = voronoi_point(vp, cell, offset);
    // F1 compares a cheaper bound and measures the winner; F2 measures every point (Cycles).
    float d = second ? voronoi_distance(vp, p, local) : voronoi_distance_bound(vp, p, local);
    if (d < d1) {
      d2 = d1;
      for (int i = 0; i < 4; ++i) o2[i] = o1[i];
      p2 = p1;
      d1 = d;
      for (int i = 0; i < 4; ++i) o1[i] = offset[i];
      p1 = p;
    } else if (second && d < d2) {
      d2 = d;
      for (int i = 0; i < 4; ++i) o2[i] = offset[i];
      p2 = p;
    }
  }
  VoronoiResult out;
  out.distance = second ? d2 : voronoi_distance(vp, p1, local);
  out.color = voronoi_cell_color(vp, cell, second ? o2 : o1);
  out.position = voronoi_absolute(vp, second ? p2 : p1, cell_f);
  return out;
}

OPTICA_HD float smoothstep_edges(float edge0, float edge1, float x) {
  if (x < edge0) return 0.0f;
  if (x >= edge1) return 1.0f;
  float t = (x - edge0) / (edge1 - edge0);
  return (3.0f - 2.0f * t) * (t * t);
}

OPTICA_HD VoronoiResult voronoi_smooth_f1(const VoronoiParams &vp, const VoronoiVec &coord) {
  VoronoiVec local, cell_f;
  VoronoiCell cell = voronoi_split(vp, coord, local, cell_f);
  float smooth_distance = 0.0f, h = -1.0f;
  float3 smooth_color = make3(0.0f);
  VoronoiVec smooth_position = vvec(0.0f);
  const int count = voronoi_block(vp.n, 2);
  for (int k = 0; k < count; ++k) {
    int offset[4];
    voronoi_offset(vp.n, k, 2, offset);
    VoronoiVec p = voronoi_point(vp, cell, offset);
    float d = voronoi_distance(vp, p, local);
    h = h == -1.0f ? 1.0f : smoothstep_edges(0.0f, 1.0f, 0.5f + 0.5f * (smooth_distance - d) / vp.smoothness);
    float correction = vp.smoothness * h * (1.0f - h);
    smooth_distance = noise_mix(smooth_distance, d, h) - correction;
    correction /= 1.0f + 3.0f * vp.smoothness;
    float3 c = voronoi_cell_color(vp, cell, offset);
    smooth_color = make3(noise_mix(smooth_color.x, c.x, h), noise_mix(smooth_color.y, c.y, h),
                         noise_mix(smooth_color.z, c.z, h)) - make3(correction);
    for (int i = 0; i < vp.n; ++i) smooth_position.v[i] = noise_mix(smooth_position.v[i], p.v[i], h) - correction;
  }
  VoronoiResult out;
  out.distance = smooth_distance;
  out.color = smooth_color;
  out.position = voronoi_absolute(vp, smooth_position, cell_f);
  return out;
}

OPTICA_HD float voronoi_distance_to_edge(const VoronoiParams &vp, const VoronoiVec &coord) {
  VoronoiVec local, cell_f;
  VoronoiCell cell = voronoi_split(vp, coord, local, cell_f);
  if (vp.n == 1) {
    int left[4] = {-1, 0, 0, 0}, mid[4] = {0, 0, 0, 0}, right[4] = {1, 0, 0, 0};
    float m = voronoi_point(vp, cell, mid).v[0], l = voronoi_point(vp, cell, left).v[0];
    float r = voronoi_point(vp, cell, right).v[0];
    return minf(fabsf((m + l) / 2.0f - local.v[0]), fabsf((m + r) / 2.0f - local.v[0]));
  }
  const int count = voronoi_block(vp.n, 1);
  VoronoiVec closest = vvec(0.0f);
  float min_distance = 3.4e38f;
  for (int k = 0; k < count; ++k) {
    int offset[4];
    voronoi_offset(vp.n, k, 1, offset);
    VoronoiVec to_point = voronoi_point(vp, cell, offset);
    float d = 0.0f;
    for (int i = 0; i < vp.n; ++i) {
      to_point.v[i] -= local.v[i];
      d += to_point.v[i] * to_point.v[i];
    }
    if (d < min_distance) {
      min_distance = d;
      closest = to_point;
    }
  }
  min_distance = 3.4e38f;
  for (int k = 0; k < count; ++k) {
    int offset[4];
    voronoi_offset(vp.n, k, 1, offset);
    VoronoiVec to_point = voronoi_point(vp, cell, offset);
    float perp[4], len2 = 0.0f;
    for (int i = 0; i < vp.n; ++i) {
      to_point.v[i] -= local.v[i];
      perp[i] = to_point.v[i] - closest.v[i];
      len2 += perp[i] * perp[i];
    }
    if (len2 > 0.0001f) {
      float inv = 1.0f / sqrtf(len2), edge = 0.0f;
      for (int i = 0; i < vp.n; ++i) edge += (closest.v[i] + to_point.v[i]) / 2.0f * (perp[i] * inv);
      min_distance = minf(min_distance, edge);
    }
  }
  return min_distance;
}

OPTICA_HD float voronoi_n_sphere_radius(const VoronoiParams &vp, const VoronoiVec &coord) {
  VoronoiVec local, cell_f;
  VoronoiCell cell = voronoi_split(vp, coord, local, cell_f);
  const int count = voronoi_block(vp.n, 1);
  VoronoiVec closest = vvec(0.0f);
  int closest_offset[4] = {0, 0, 0, 0};
  float best = 3.4e38f;
  for (int k = 0; k < count; ++k) {
    int offset[4];
    voronoi_offset(vp.n, k, 1, offset);
    VoronoiVec p = voronoi_point(vp, cell, offset);
    float d = 0.0f;
    for (int i = 0; i < vp.n; ++i) d += (p.v[i] - local.v[i]) * (p.v[i] - local.v[i]);
    if (vp.n == 1) d = fabsf(p.v[0] - local.v[0]);
    if (d < best) {
      best = d;
      closest = p;
      for (int i = 0; i < 4; ++i) closest_offset[i] = offset[i];
    }
  }
  best = 3.4e38f;
  VoronoiVec neighbour = vvec(0.0f);
  for (int k = 0; k < count; ++k) {
    int offset[4];
    voronoi_offset(vp.n, k, 1, offset);
    bool centre = true;
    for (int i = 0; i < vp.n; ++i) centre = centre && offset[i] == 0;
    if (centre) continue;
    for (int i = 0; i < vp.n; ++i) offset[i] += closest_offset[i];
    VoronoiVec p = voronoi_point(vp, cell, offset);
    float d = 0.0f;
    for (int i = 0; i < vp.n; ++i) d += (closest.v[i] - p.v[i]) * (closest.v[i] - p.v[i]);
    if (vp.n == 1) d = fabsf(closest.v[0] - p.v[0]);
    if (d < best) {
      best = d;
      neighbour = p;
    }
  }
  float d = 0.0f;
  for (int i = 0; i < vp.n; ++i) d += (neighbour.v[i] - closest.v[i]) * (neighbour.v[i] - closest.v[i]);
  return (vp.n == 1 ? fabsf(neighbour.v[0] - closest.v[0]) : sqrtf(d)) / 2.0f;
}

OPTICA_HD VoronoiVec vvec_scaled(const VoronoiVec &a, float s) {
  VoronoiVec r;
  for (int i = 0; i < 4; ++i) r.v[i] = a.v[i] * s;
  return r;
}
OPTICA_HD VoronoiVec vvec_divided(const VoronoiVec &a, float s) {
  VoronoiVec r;
  for (int i = 0; i < 4; ++i) r.v[i] = a.v[i] / s;
  return r;
}
OPTICA_HD VoronoiVec vvec_mix(const VoronoiVec &a, const VoronoiVec &b, float t) {
  VoronoiVec r;
  for (int i = 0; i < 4; ++i) r.v[i] = noise_mix(a.v[i], b.v[i], t);
  return r;
}

OPTICA_HD VoronoiResult voronoi_octave(const VoronoiParams &vp, const VoronoiVec &coord) {
  if (vp.feature == kVoronoiF2) return voronoi_f1_f2(vp, coord, true);
  if (vp.feature == kVoronoiSmoothF1 && vp.smoothness != 0.0f) return voronoi_smooth_f1(vp, coord);
  return voronoi_f1_f2(vp, coord, false);
}

// Octaves summed as fBM noise does, with lerps where a sum makes no sense (positions).
OPTICA_HD VoronoiResult voronoi_fractal(const VoronoiParams &vp, const VoronoiVec &coord) {
  float amplitude = 1.0f, max_amplitude = 0.0f, scale = 1.0f;
  VoronoiResult out;
  out.distance = 0.0f;
  out.color = make3(0.0f);
  out.position = vvec(0.0f);
  const bool single = vp.detail == 0.0f || vp.roughness == 0.0f;
  for (int i = 0; i <= ceilf(vp.detail); ++i) {
    VoronoiResult octave = voronoi_octave(vp, vvec_scaled(coord, scale));
    if (single) {
      max_amplitude = 1.0f;
      out = octave;
      break;
    }
    VoronoiVec octave_position = vvec_divided(octave.position, scale);
    if (i <= vp.detail) {
      max_amplitude += amplitude;
      out.distance += octave.distance * amplitude;
      out.color += octave.color * amplitude;
      out.position = vvec_mix(out.position, octave_position, amplitude);
      scale *= vp.lacunarity;
      amplitude *= vp.roughness;
    } else {
      float remainder = vp.detail - floorf(vp.detail);
      if (remainder != 0.0f) {
        max_amplitude = noise_mix(max_amplitude, max_amplitude + amplitude, remainder);
        out.distance = noise_mix(out.distance, out.distance + octave.distance * amplitude, remainder);
        float3 c = out.color + octave.color * amplitude;
        out.color = make3(noise_mix(out.color.x, c.x, remainder), noise_mix(out.color.y, c.y, remainder),
                          noise_mix(out.color.z, c.z, remainder));
        out.position = vvec_mix(out.position, vvec_mix(out.position, octave_position, amplitude), remainder);
      }
    }
  }
  if (vp.normalize) {
    out.distance /= max_amplitude * vp.max_distance;
    out.color = make3(out.color.x / max_amplitude, out.color.y / max_amplitude, out.color.z / max_amplitude);
  }
  for (int i = 0; i < 4; ++i) out.position.v[i] = safe_divide(out.position.v[i], vp.scale);
  return out;
}

OPTICA_HD float voronoi_fractal_distance_to_edge(const VoronoiParams &vp, const VoronoiVec &coord) {
  float amplitude = 1.0f, max_amplitude = vp.max_distance, scale = 1.0f, distance = 8.0f;
  const bool single = vp.detail == 0.0f || vp.roughness == 0.0f;
  for (int i = 0; i <= ceilf(vp.detail); ++i) {
    float octave = voronoi_distance_to_edge(vp, vvec_scaled(coord, scale));
    if (single) {
      distance = octave;
      break;
    }
    if (i <= vp.detail) {
      max_amplitude = noise_mix(max_amplitude, vp.max_distance / scale, amplitude);
      distance = noise_mix(distance, minf(distance, octave / scale), amplitude);
      scale *= vp.lacunarity;
      amplitude *= vp.roughness;
    } else {
      float remainder = vp.detail - floorf(vp.detail);
      if (remainder != 0.0f) {
        float lerp_amplitude = noise_mix(max_amplitude, vp.max_distance / scale, amplitude);
        max_amplitude = noise_mix(max_amplitude, lerp_amplitude, remainder);
        float lerp_distance = noise_mix(distance, minf(distance, octave / scale), amplitude);
        distance = noise_mix(distance, minf(distance, lerp_distance), remainder);
      }
    }
  }
  return vp.normalize ? distance / max_amplitude : distance;
}

// The node: `p` and `w` not yet scaled. Writes distance, colour, position, W and radius.
OPTICA_HD void voronoi_texture(VoronoiParams vp, float3 p, float w, float &distance, float3 &color, float3 &position,
                               float &w_out, float &radius) {
  vp.detail = clampf(vp.detail, 0.0f, 15.0f);
  vp.roughness = clampf(vp.roughness, 0.0f, 1.0f);
  vp.randomness = clampf(vp.randomness, 0.0f, 1.0f);
  vp.smoothness = clampf(vp.smoothness / 2.0f, 0.0f, 0.5f);
  VoronoiVec coord = vvec(0.0f);
  if (vp.n == 1) {
    coord.v[0] = w * vp.scale;
  } else {
    coord.v[0] = p.x * vp.scale;
    coord.v[1] = p.y * vp.scale;
    if (vp.n >= 3) coord.v[2] = p.z * vp.scale;
    if (vp.n == 4) coord.v[3] = w * vp.scale;
  }
  distance = 0.0f;
  color = position = make3(0.0f);
  w_out = radius = 0.0f;
  const float half_cell = 0.5f + 0.5f * vp.randomness;
  if (vp.feature == kVoronoiDistanceToEdge) {
    vp.max_distance = half_cell;
    distance = voronoi_fractal_distance_to_edge(vp, coord);
    return;
  }
  if (vp.feature == kVoronoiNSphereRadius) {
    radius = voronoi_n_sphere_radius(vp, coord);
    return;
  }
  VoronoiVec corner = vvec(0.0f);
  for (int i = 0; i < vp.n; ++i) corner.v[i] = half_cell;
  vp.max_distance = (vp.n == 1 ? half_cell : voronoi_distance(vp, vvec(0.0f), corner)) *
                    (vp.feature == kVoronoiF2 ? 2.0f : 1.0f);
  VoronoiResult r = voronoi_fractal(vp, coord);
  distance = r.distance;
  color = r.color;
  position = make3(r.position.v[0], r.position.v[1], r.position.v[2]);
  w_out = r.position.v[3];
}

}  // namespace optica
