// Low-discrepancy sampling: Owen-scrambled, shuffled Sobol' points in padded 4-D sets
// (Burley 2020, "Practical Hash-based Owen Scrambling"; Cycles' Sobol-Burley does the same).
// A sample depends only on (seed, pixel, sample index, dimension set), so an image is
// bit-identical whatever the number of threads or the order tiles run in.
#pragma once
#include "defs.h"

namespace optica {

// Sobol' direction numbers for the first four dimensions (Joe & Kuo), 32 bits each, and
// the same folded into per-byte XOR tables so a point costs four lookups, not 32 steps.
struct SobolTable {
  uint32_t v[4][32];
  uint32_t bytes[4][4][256];
};

inline SobolTable make_sobol_table() {
  SobolTable t{};
  // Dimension 0 is van der Corput.
  for (int k = 0; k < 32; ++k) t.v[0][k] = 1u << (31 - k);
  // Dimensions 1..3: s, a, m_i from new-joe-kuo-6.21201 (d = 2, 3, 4).
  const uint32_t s[3] = {1, 2, 3};
  const uint32_t a[3] = {0, 1, 1};
  const uint32_t m[3][3] = {{1, 0, 0}, {1, 3, 0}, {1, 3, 1}};
  for (int d = 0; d < 3; ++d) {
    uint32_t *V = t.v[d + 1];
    for (uint32_t k = 0; k < s[d]; ++k) V[k] = m[d][k] << (31 - k);
    for (uint32_t k = s[d]; k < 32; ++k) {
      V[k] = V[k - s[d]] ^ (V[k - s[d]] >> s[d]);
      for (uint32_t j = 1; j < s[d]; ++j) V[k] ^= ((a[d] >> (s[d] - 1 - j)) & 1u) * V[k - j];
    }
  }
  for (int d = 0; d < 4; ++d)
    for (int k = 0; k < 4; ++k)
      for (int b = 0; b < 256; ++b) {
        uint32_t x = 0;
        for (int j = 0; j < 8; ++j)
          if (b & (1 << j)) x ^= t.v[d][8 * k + j];
        t.bytes[d][k][b] = x;
      }
  return t;
}

OPTICA_HD uint32_t hash_u32(uint32_t x) {
  // lowbias32 (Chris Wellons): a well-mixed 32-bit integer hash.
  x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
  return x;
}
OPTICA_HD uint32_t hash_combine(uint32_t seed, uint32_t v) { return hash_u32(seed ^ (v + 0x9e3779b9U + (seed << 6) + (seed >> 2))); }

OPTICA_HD uint32_t reverse_bits(uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __brev(x);
#else
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
  return (x >> 16) | (x << 16);
#endif
}

OPTICA_HD uint32_t laine_karras_permutation(uint32_t x, uint32_t seed) {
  x += seed;
  x ^= x * 0x6c50b47cu;
  x ^= x * 0xb82f1e52u;
  x ^= x * 0xc7afe638u;
  x ^= x * 0x8d22f6e6u;
  return x;
}
OPTICA_HD uint32_t nested_uniform_scramble(uint32_t x, uint32_t seed) {
  return reverse_bits(laine_karras_permutation(reverse_bits(x), seed));
}
OPTICA_HD float u32_to_unit(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }

struct Sample4 { float v[4]; };

// Per-path sampler: dimension sets are consumed in order; each set is an independently
// shuffled and scrambled 4-D Sobol' sequence indexed by the pixel's sample number.
struct Sampler {
  const SobolTable *table;
  uint32_t pixel_seed;
  uint32_t sample_index;
  uint32_t set;

  OPTICA_HD Sample4 next4() { return at(set++); }

  // Dimension set `which`, out of the running order (motion blur's time: a scene with motion
  // section draws every other dimension exactly as a scene without one).
  OPTICA_HD Sample4 at(uint32_t which) const {
    uint32_t seed = hash_combine(pixel_seed, which);
    uint32_t index = nested_uniform_scramble(sample_index, seed);
    Sample4 s;
    for (int d = 0; d < 4; ++d) {
      const uint32_t(*b)[256] = table->bytes[d];
      uint32_t x = b[0][index & 255u] ^ b[1][(index >> 8) & 255u] ^ b[2][(index >> 16) & 255u] ^ b[3][index >> 24];
      s.v[d] = u32_to_unit(nested_uniform_scramble(x, hash_combine(seed, d + 1)));
    }
    return s;
  }
};

}  // namespace optica
