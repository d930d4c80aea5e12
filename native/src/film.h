// The film: running means of radiance and AOVs per pixel, plus per-tile sample counts.
// Buffers live behind a shared_ptr so numpy views handed out earlier stay valid (they
// keep their buffers alive) even after a new scene changes the image size.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace optica {

struct FilmBuffers {
  int width = 0, height = 0;
  std::vector<float> color;      // RGBA
  std::vector<float> half;       // RGB mean of the even-numbered samples (noise estimate)
  std::vector<float> albedo;     // RGB
  std::vector<float> normal;     // XYZ
  std::vector<float> depth;
  std::vector<int32_t> object_id;

  FilmBuffers(int w, int h)
      : width(w), height(h), color(size_t(w) * h * 4), half(size_t(w) * h * 3), albedo(size_t(w) * h * 3), normal(size_t(w) * h * 3),
        depth(size_t(w) * h), object_id(size_t(w) * h) {
    clear();
  }
  void clear();
};

constexpr int kTileSize = 16;

struct Tile {
  int x0, y0, x1, y1;
  uint32_t samples;  // every pixel of a tile has the same count
  bool converged;    // adaptive sampling: every pixel's noise is below the threshold
};

// Cycles' per-pixel noise estimate: the difference between the mean of all samples and the
// mean of the even-numbered ones, relative to the square root of the intensity.
float pixel_error(const FilmBuffers &fb, size_t p);

class Film {
 public:
  void resize(int width, int height);
  void clear();
  std::shared_ptr<FilmBuffers> buffers() const { return buffers_; }
  std::vector<Tile> &tiles() { return tiles_; }
  const std::vector<Tile> &tiles() const { return tiles_; }
  // Fewest samples of any tile still sampling (of any tile, once all have converged).
  uint32_t min_samples() const;
  // Fraction of pixels whose noise estimate is below `threshold`.
  double converged_fraction(float threshold) const;

 private:
  std::shared_ptr<FilmBuffers> buffers_;
  std::vector<Tile> tiles_;
};

}  // namespace optica
