// The film: running means of radiance and AOVs per pixel, plus per-tile sample counts.
// Buffers live behind a shared_ptr so numpy views handed out earlier stay valid (they
// keep their buffers alive) even after a new scene changes the image size.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace optica {

// The buffers besides colour a film may keep (a final render without passes, denoising or
// adaptive sampling needs none of them: 60 of its 76 bytes per pixel).
enum FilmAov : uint32_t {
  kAovNoise = 1,  // `half`, for adaptive sampling's noise estimate
  kAovAlbedo = 2,
  kAovNormal = 4,
  kAovDepth = 8,
  kAovObjectId = 16,
  kAovAll = 31,
};

struct FilmBuffers {
  int width = 0, height = 0;
  uint32_t aovs = kAovAll;       // which of the buffers below exist (the others are empty)
  std::vector<float> color;      // RGBA
  std::vector<float> half;       // RGB mean of the even-numbered samples (noise estimate)
  std::vector<float> albedo;     // RGB
  std::vector<float> normal;     // XYZ
  std::vector<float> depth;
  std::vector<int32_t> object_id;

  FilmBuffers(int w, int h, uint32_t kept = kAovAll)
      : width(w), height(h), aovs(kept), color(size_t(w) * h * 4), half(kept & kAovNoise ? size_t(w) * h * 3 : 0),
        albedo(kept & kAovAlbedo ? size_t(w) * h * 3 : 0), normal(kept & kAovNormal ? size_t(w) * h * 3 : 0),
        depth(kept & kAovDepth ? size_t(w) * h : 0), object_id(kept & kAovObjectId ? size_t(w) * h : 0) {
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
  // Which AOV buffers (FilmAov bits) the film keeps; a change makes new, cleared buffers.
  void set_aovs(uint32_t aovs);
  uint32_t aovs() const { return aovs_; }
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
  uint32_t aovs_ = kAovAll;
};

}  // namespace optica
