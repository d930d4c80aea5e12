// The hash functions Blender's procedural textures are built on, bit for bit: Bob Jenkins'
// lookup3 (hashes of integers and of float bit patterns, used by Perlin noise, White Noise and
// 1D Voronoi) and the signed-integer PCG hashes (Jarzynski & Olano 2020) that 2D–4D Voronoi
// uses. A texture looks like Cycles' only if these give the very same bits.
#pragma once
#include <cstring>
#include "../defs.h"

namespace optica {

OPTICA_HD uint32_t hash_rot(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

// lookup3's final() mixing of (a, b, c); the hash is c.
OPTICA_HD uint32_t hash_final(uint32_t a, uint32_t b, uint32_t c) {
  c ^= b; c -= hash_rot(b, 14);
  a ^= c; a -= hash_rot(c, 11);
  b ^= a; b -= hash_rot(a, 25);
  c ^= b; c -= hash_rot(b, 16);
  a ^= c; a -= hash_rot(c, 4);
  b ^= a; b -= hash_rot(a, 14);
  c ^= b; c -= hash_rot(b, 24);
  return c;
}

// lookup3's mix() of (a, b, c), in place (only the four-word hash needs it).
OPTICA_HD void hash_mix(uint32_t &a, uint32_t &b, uint32_t &c) {
  a -= c; a ^= hash_rot(c, 4); c += b;
  b -= a; b ^= hash_rot(a, 6); a += c;
  c -= b; c ^= hash_rot(b, 8); b += a;
  a -= c; a ^= hash_rot(c, 16); c += b;
  b -= a; b ^= hash_rot(a, 19); a += c;
  c -= b; c ^= hash_rot(b, 4); b += a;
}

// Jenkins' initial value for a key of n 32-bit words.
OPTICA_HD uint32_t hash_seed(uint32_t words) { return 0xdeadbeefu + (words << 2) + 13u; }

OPTICA_HD uint32_t hash_u1(uint32_t x) {
  uint32_t s = hash_seed(1);
  return hash_final(s + x, s, s);
}
OPTICA_HD uint32_t hash_u2(uint32_t x, uint32_t y) {
  uint32_t s = hash_seed(2);
  return hash_final(s + x, s + y, s);
}
OPTICA_HD uint32_t hash_u3(uint32_t x, uint32_t y, uint32_t z) {
  uint32_t s = hash_seed(3);
  return hash_final(s + x, s + y, s + z);
}
OPTICA_HD uint32_t hash_u4(uint32_t x, uint32_t y, uint32_t z, uint32_t w) {
  uint32_t a = hash_seed(4) + x, b = hash_seed(4) + y, c = hash_seed(4) + z;
  hash_mix(a, b, c);
  return hash_final(a + w, b, c);
}

OPTICA_HD uint32_t hash_key_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
// [0, 2^32 - 1] → [0, 1], as Cycles' uint_to_float_incl.
OPTICA_HD float unit_from_hash(uint32_t h) { return float(h) * (1.0f / 4294967296.0f); }

// Hashes of floats (by their bits) to [0, 1].
OPTICA_HD float hash_f1(float x) { return unit_from_hash(hash_u1(hash_key_bits(x))); }
OPTICA_HD float hash_f2(float x, float y) { return unit_from_hash(hash_u2(hash_key_bits(x), hash_key_bits(y))); }
OPTICA_HD float hash_f3(float x, float y, float z) {
  return unit_from_hash(hash_u3(hash_key_bits(x), hash_key_bits(y), hash_key_bits(z)));
}
OPTICA_HD float hash_f4(float x, float y, float z, float w) {
  return unit_from_hash(hash_u4(hash_key_bits(x), hash_key_bits(y), hash_key_bits(z), hash_key_bits(w)));
}

// Three independent [0, 1] values from 1–4 floats (White Noise's colour, Voronoi 1D's colour),
// with Cycles' choice of extra keys and permutations.
OPTICA_HD float3 hash_f1_to_3(float k) { return make3(hash_f1(k), hash_f2(k, 1.0f), hash_f2(k, 2.0f)); }
OPTICA_HD float3 hash_f2_to_3(float x, float y) {
  return make3(hash_f2(x, y), hash_f3(x, y, 1.0f), hash_f3(x, y, 2.0f));
}
OPTICA_HD float3 hash_f3_to_3(float x, float y, float z) {
  return make3(hash_f3(x, y, z), hash_f4(x, y, z, 1.0f), hash_f4(x, y, z, 2.0f));
}
OPTICA_HD float3 hash_f4_to_3(float x, float y, float z, float w) {
  return make3(hash_f4(x, y, z, w), hash_f4(z, x, w, y), hash_f4(w, z, y, x));
}

// ---- PCG hashes on signed integers (wrapping arithmetic, arithmetic right shift), as
// Cycles writes them so that OSL can run them too.

OPTICA_HD int32_t pcg_wrap(uint32_t u) { return int32_t(u); }
OPTICA_HD int32_t pcg_mad(int32_t a, int32_t b, int32_t c) { return pcg_wrap(uint32_t(a) * uint32_t(b) + uint32_t(c)); }
OPTICA_HD int32_t pcg_xorshift(int32_t v) { return v ^ (v >> 16); }

// Hashes of 2–4 ints, each component to [0, 1] (`n` components of v are read and written).
OPTICA_HD void hash_pcg_to_unit(int n, const int32_t *in, float *out) {
  int32_t v[4] = {0, 0, 0, 0};
  for (int i = 0; i < n; ++i) v[i] = pcg_mad(in[i], 1664525, 1013904223);
  for (int round = 0; round < 2; ++round) {
    if (n == 2) {
      v[0] = pcg_mad(v[1], 1664525, v[0]);
      v[1] = pcg_mad(v[0], 1664525, v[1]);
    } else if (n == 3) {
      v[0] = pcg_mad(v[1], v[2], v[0]);
      v[1] = pcg_mad(v[2], v[0], v[1]);
      v[2] = pcg_mad(v[0], v[1], v[2]);
    } else {
      v[0] = pcg_mad(v[1], v[3], v[0]);
      v[1] = pcg_mad(v[2], v[0], v[1]);
      v[2] = pcg_mad(v[0], v[1], v[2]);
      v[3] = pcg_mad(v[1], v[2], v[3]);
    }
    if (round == 0)
      for (int i = 0; i < n; ++i) v[i] = pcg_xorshift(v[i]);
  }
  for (int i = 0; i < n; ++i) out[i] = float(v[i] & 0x7FFFFFFF) * (1.0f / 2147483648.0f);
}

}  // namespace optica
