#include "film.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernel/defs.h"

namespace optica {

void FilmBuffers::clear() {
  std::fill(color.begin(), color.end(), 0.0f);
  std::fill(half.begin(), half.end(), 0.0f);
  std::fill(albedo.begin(), albedo.end(), 0.0f);
  std::fill(normal.begin(), normal.end(), 0.0f);
  std::fill(depth.begin(), depth.end(), kMissDepth);
  std::fill(object_id.begin(), object_id.end(), -1);
}

void Film::set_aovs(uint32_t aovs) {
  if (aovs == aovs_) return;
  aovs_ = aovs;
  if (buffers_) resize(buffers_->width, buffers_->height);
}

void Film::resize(int width, int height) {
  if (!buffers_ || buffers_->width != width || buffers_->height != height || buffers_->aovs != aovs_) {
    buffers_.reset();  // the previous buffers go first (unless a numpy view still holds them)
    buffers_ = std::make_shared<FilmBuffers>(width, height, aovs_);
  }
  tiles_.clear();
  for (int y = 0; y < height; y += kTileSize)
    for (int x = 0; x < width; x += kTileSize)
      tiles_.push_back(Tile{x, y, std::min(x + kTileSize, width), std::min(y + kTileSize, height), 0, false});
  clear();
}

void Film::clear() {
  if (buffers_) buffers_->clear();
  for (auto &t : tiles_) { t.samples = 0; t.converged = false; }
}

uint32_t Film::min_samples() const {
  uint32_t all = UINT32_MAX, active = UINT32_MAX;
  for (const auto &t : tiles_) {
    all = std::min(all, t.samples);
    if (!t.converged) active = std::min(active, t.samples);
  }
  if (tiles_.empty()) return 0;
  return active != UINT32_MAX ? active : all;
}

float pixel_error(const FilmBuffers &fb, size_t p) {
  const float *i = &fb.color[4 * p], *a = &fb.half[3 * p];
  float diff = std::fabs(i[0] - a[0]) + std::fabs(i[1] - a[1]) + std::fabs(i[2] - a[2]);
  float intensity = std::max(0.0f, i[0] + i[1] + i[2]);
  return diff / (1e-4f + std::sqrt(intensity));
}

double Film::converged_fraction(float threshold) const {
  if (!buffers_ || buffers_->half.empty()) return 0.0;
  size_t n = size_t(buffers_->width) * buffers_->height, ok = 0;
  for (const auto &t : tiles_) {
    if (t.samples < 2) continue;
    for (int y = t.y0; y < t.y1; ++y)
      for (int x = t.x0; x < t.x1; ++x)
        ok += pixel_error(*buffers_, size_t(y) * buffers_->width + x) < threshold ? 1 : 0;
  }
  return n ? double(ok) / double(n) : 0.0;
}

}  // namespace optica
