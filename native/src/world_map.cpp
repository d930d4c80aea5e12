#include "world_map.h"

#include <algorithm>

#include "kernel/world_sampling.h"
#include "thread_pool.h"

namespace optica {

void world_map_resolution(const std::vector<int32_t> &program_textures, const TextureView *textures, int &res_x,
                          int &res_y) {
  res_x = res_y = 0;
  for (int32_t t : program_textures) {
    if (t < 0) continue;
    res_x = std::max(res_x, int(textures[t].width));
    res_y = std::max(res_y, int(textures[t].height));
  }
  if (res_x < 2 || res_y < 1) {
    res_x = 1024;
    res_y = 512;
  }
}

void WorldMap::build(const KernelScene &k, int res_x, int res_y, ThreadPool &pool) {
  marginal_.clear();
  conditional_.clear();
  res_x_ = res_y_ = 0;
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
}

WorldMapView WorldMap::view() const {
  WorldMapView v{};
  v.marginal = marginal_.empty() ? nullptr : marginal_.data();
  v.conditional = conditional_.empty() ? nullptr : conditional_.data();
  v.res_x = res_x_;
  v.res_y = res_y_;
  return v;
}

}  // namespace optica
