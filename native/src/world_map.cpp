#include "world_map.h"

#include <algorithm>
#include <cmath>

#include "kernel/world_sampling.h"
#include "thread_pool.h"

namespace optica {

void world_map_resolution(const std::vector<int32_t> &program_textures, const TextureView *textures,
                          bool sun_guided, int &res_x, int &res_y) {
  res_x = sun_guided ? 512 : 4096;
  res_y = res_x / 2;
  for (int32_t t : program_textures) {
    if (t < 0) continue;
    res_x = std::max(res_x, int(textures[t].width));
    res_y = std::max(res_y, int(textures[t].height));
  }
}

void WorldMap::build(const KernelScene &k, int res_x, int res_y, ThreadPool &pool, float3 sun_dir,
                     float sun_half_angle) {
  marginal_.clear();
  conditional_.clear();
  res_x_ = res_y_ = 0;
  sun_prob_ = 0.0f;
  if (k.world_is_constant || k.world.code_size == 0) return;
  const int w = res_x + 1;
  std::vector<float2> cond(size_t(w) * size_t(res_y));
  // Per row: function values and a running integral over u (each pixel is 1/res_x wide),
  // normalised to a CDF; the row's integral stays in its last entry.
  pool.parallel_for(res_y, [&](int64_t y, int) {
    float2 *row = &cond[size_t(y) * size_t(w)];
    double sum = 0.0;
    for (int x = 0; x < res_x; ++x) {
      float f = world_map_weight(k, x, int(y), res_x, res_y);
      row[x].x = f;
      row[x].y = float(sum);
      sum += double(f) / res_x;
    }
    row[res_x].x = float(sum);
    row[res_x].y = 1.0f;
    if (sum > 0.0)
      for (int x = 1; x < res_x; ++x) row[x].y = float(row[x].y / sum);
  });
  std::vector<float2> marg(size_t(res_y) + 1);
  double sum = 0.0;
  for (int y = 0; y < res_y; ++y) {
    marg[y].x = cond[size_t(y) * size_t(w) + res_x].x;
    marg[y].y = float(sum);
    sum += double(marg[y].x) / res_y;
  }
  marg[res_y].x = float(sum);
  marg[res_y].y = 1.0f;
  if (!(sum > 0.0)) return;  // a black world: nothing to sample
  for (int y = 1; y < res_y; ++y) marg[y].y = float(marg[y].y / sum);
  marginal_ = std::move(marg);
  conditional_ = std::move(cond);
  res_x_ = res_x;
  res_y_ = res_y;
  if (sun_half_angle > 0.0f) {
    // The map's integral of f = average radiance × sin θ over [0, 1]² is the world's power over
    // 2π² (dω = 2π² sin θ du dv); the disc's is its centre's radiance times its solid angle.
    float3 c = world_emission(k, sun_dir);
    double cone = 2.0 * kPi * (1.0 - std::cos(double(sun_half_angle)));
    double disc = double(fabsf(c.x) + fabsf(c.y) + fabsf(c.z)) / 3.0 * cone;
    double map = 2.0 * kPi * kPi * sum;
    if (disc > 0.0) {
      sun_dir_ = sun_dir;
      sun_cos_ = float(std::cos(double(sun_half_angle)));
      sun_prob_ = float(std::min(disc / (disc + map), 0.9));
    }
  }
}

WorldMapView WorldMap::view() const {
  WorldMapView v{};
  v.marginal = marginal_.empty() ? nullptr : marginal_.data();
  v.conditional = conditional_.empty() ? nullptr : conditional_.data();
  v.res_x = res_x_;
  v.res_y = res_y_;
  v.sun_dir = sun_dir_;
  v.sun_cos = sun_cos_;
  v.sun_prob = sun_prob_;
  return v;
}

}  // namespace optica
