#include "film.h"

#include <algorithm>

#include "kernel/defs.h"

namespace optica {

void FilmBuffers::clear() {
  std::fill(color.begin(), color.end(), 0.0f);
  std::fill(albedo.begin(), albedo.end(), 0.0f);
  std::fill(normal.begin(), normal.end(), 0.0f);
  std::fill(depth.begin(), depth.end(), kMissDepth);
  std::fill(object_id.begin(), object_id.end(), -1);
}

void Film::resize(int width, int height) {
  if (!buffers_ || buffers_->width != width || buffers_->height != height) {
    buffers_ = std::make_shared<FilmBuffers>(width, height);
  }
  tiles_.clear();
  for (int y = 0; y < height; y += kTileSize)
    for (int x = 0; x < width; x += kTileSize)
      tiles_.push_back(Tile{x, y, std::min(x + kTileSize, width), std::min(y + kTileSize, height), 0});
  clear();
}

void Film::clear() {
  if (buffers_) buffers_->clear();
  for (auto &t : tiles_) t.samples = 0;
}

uint32_t Film::min_samples() const {
  if (tiles_.empty()) return 0;
  uint32_t m = tiles_[0].samples;
  for (const auto &t : tiles_) m = std::min(m, t.samples);
  return m;
}

}  // namespace optica
