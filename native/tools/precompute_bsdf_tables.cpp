// Computes the BSDF albedo tables of kernel/closure/tables.h with the kernel's own closure
// code and prints them as src/bsdf_tables.cpp. The definitions are Cycles' (its
// app/cycles_precompute.cpp): the same quantities on the same grids, estimated here with
// Owen-scrambled Sobol' points instead of 2^20..2^26 random samples per cell.
//
//   g++ -O2 -std=c++17 -pthread -I native/src native/tools/precompute_bsdf_tables.cpp -o /tmp/pre
//   /tmp/pre [log2 samples per cell, default 16] > native/src/bsdf_tables.cpp
//
// tests/test_bsdf_tables.py recomputes a few cells at fewer samples and compares.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "kernel/closure/diffuse.h"
#include "kernel/sampler.h"

using namespace optica;

namespace {

const SobolTable kSobol = make_sobol_table();

Closure base_lobe(float rough, int lobes, float ior) {
  Closure c{};
  c.type = kClosureMicrofacet;
  c.distribution = kDistGGX;
  c.lobes = lobes;
  c.fresnel = lobes == kLobeGlass ? kFresnelDielectric : kFresnelNone;
  c.weight = make3(1.0f);
  c.sample_weight = 1.0f;
  c.N = make3(0.0f, 0.0f, 1.0f);
  c.T = make3(1.0f, 0.0f, 0.0f);
  c.alpha_x = c.alpha_y = rough * rough;
  c.ior = ior;
  c.energy_scale = 1.0f;
  c.reflection_tint = c.transmission_tint = make3(1.0f);
  return c;
}

float3 view(float mu) { return make3(sqrtf(1.0f - mu * mu), 0.0f, mu); }

// average(eval) / pdf of one sampled direction, 0 when sampling fails (Cycles' definition).
float albedo_sample(const Closure &c, float mu, const float *u) {
  BsdfSample s;
  if (!microfacet_sample(c, make3(0.0f, 0.0f, 1.0f), view(mu), u[0], u[1], u[2], s) || s.pdf == 0.0f) return 0.0f;
  return average(s.eval) / s.pdf;
}

// The F0→F90 interpolation factor a generalized-Schlick lobe reaches for one sample.
float schlick_factor_sample(float rough, float mu, float ior, float exponent, const float *u) {
  Closure c = base_lobe(rough, kLobeReflect, ior);
  c.fresnel = kFresnelGeneralizedSchlick;
  c.f0 = make3(0.0f, 1.0f, 0.0f);
  c.f90 = make3(1.0f, 1.0f, 0.0f);
  c.exponent = exponent;
  BsdfSample s;
  if (!microfacet_sample(c, make3(0.0f, 0.0f, 1.0f), view(mu), u[0], u[1], u[2], s) || s.pdf == 0.0f) return 0.0f;
  return saturatef(s.eval.x / s.eval.y);
}

float sheen_sample(float rough, float mu, const float *u) {
  float3 n = make3(0.0f, 0.0f, 1.0f);
  float pdf;
  float3 wo = sample_cosine_around(n, u[0], u[1], pdf);
  if (pdf <= 0.0f) return 0.0f;
  return sheen_value(rough, n, view(mu), wo) / pdf;
}

float ior_parametrization(float z) { return ior_from_f0(sqr(sqr(z))); }

struct Term {
  const char *name;
  int nx, ny, nz;
  // value of one sample at grid point (rough, mu, z) with 4 uniform numbers; mu < 0 means
  // "draw mu from u[3]" (the averaged tables).
  std::function<float(float, float, float, const float *)> f;
};

std::vector<float> compute(const Term &t, int log2_samples) {
  const uint32_t samples = 1u << log2_samples;
  std::vector<float> out(size_t(t.nx) * t.ny * t.nz);
  unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      for (size_t cell = w; cell < out.size(); cell += workers) {
        int x = int(cell % t.nx), y = int((cell / t.nx) % t.ny), z = int(cell / (size_t(t.nx) * t.ny));
        float rough = t.nx == 1 ? 0.0f : clampf(float(x) / float(t.nx - 1), 1e-4f, 1.0f);
        float mu = t.ny == 1 ? -1.0f : clampf(float(y) / float(t.ny - 1), 1e-4f, 1.0f);
        float zz = t.nz == 1 ? 0.0f : clampf(float(z) / float(t.nz - 1), 1e-4f, 0.99f);
        Sampler smp{&kSobol, hash_combine(uint32_t(cell), 0x5eedu), 0, 0};
        double sum = 0.0;
        for (uint32_t i = 0; i < samples; ++i) {
          smp.sample_index = i;
          smp.set = 0;
          Sample4 u = smp.next4();
          float v = t.f(rough, mu, zz, u.v);
          if (v == v) sum += v;
        }
        out[cell] = saturatef(float(sum / samples));
      }
    });
  for (auto &th : pool) th.join();
  return out;
}

void print(const Term &t, const std::vector<float> &data) {
  printf("const float kTable_%s[%zu] = {\n", t.name, data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    printf("%s%.6ff,%s", i % t.nx == 0 ? "  " : "", data[i], (i + 1) % t.nx == 0 ? "\n" : " ");
  }
  printf("};\n\n");
}

}  // namespace

int main(int argc, char **argv) {
  int log2_samples = argc > 1 ? atoi(argv[1]) : 16;
  std::string only = argc > 2 ? argv[2] : "";
  const Term terms[] = {
      {"ggx_E", 32, 32, 1,
       [](float r, float mu, float, const float *u) { return albedo_sample(base_lobe(r, kLobeReflect, 1.0f), mu, u); }},
      {"ggx_Eavg", 32, 1, 1,
       [](float r, float, float, const float *u) {
         float mu = maxf(u[3], 1e-4f);
         return 2.0f * mu * albedo_sample(base_lobe(r, kLobeReflect, 1.0f), mu, u);
       }},
      {"ggx_glass_E", 16, 16, 16,
       [](float r, float mu, float z, const float *u) {
         return albedo_sample(base_lobe(r, kLobeGlass, ior_parametrization(z)), mu, u);
       }},
      {"ggx_glass_Eavg", 16, 1, 16,
       [](float r, float, float z, const float *u) {
         float mu = maxf(u[3], 1e-4f);
         return 2.0f * mu * albedo_sample(base_lobe(r, kLobeGlass, ior_parametrization(z)), mu, u);
       }},
      {"ggx_glass_inv_E", 16, 16, 16,
       [](float r, float mu, float z, const float *u) {
         return albedo_sample(base_lobe(r, kLobeGlass, 1.0f / ior_parametrization(z)), mu, u);
       }},
      {"ggx_glass_inv_Eavg", 16, 1, 16,
       [](float r, float, float z, const float *u) {
         float mu = maxf(u[3], 1e-4f);
         return 2.0f * mu * albedo_sample(base_lobe(r, kLobeGlass, 1.0f / ior_parametrization(z)), mu, u);
       }},
      {"ggx_gen_schlick_ior_s", 16, 16, 16,
       [](float r, float mu, float z, const float *u) {
         return schlick_factor_sample(r, mu, ior_parametrization(z), -1.0f, u);
       }},
      {"ggx_gen_schlick_s", 16, 16, 16,
       [](float r, float mu, float z, const float *u) {
         return schlick_factor_sample(r, mu, 1.0f, 5.0f * ((1.0f - z) / z), u);
       }},
      {"sheen_E", 32, 32, 1, [](float r, float mu, float, const float *u) { return sheen_sample(maxf(r, 1e-3f), mu, u); }},
  };
  if (only.empty()) {
    printf("// Generated by native/tools/precompute_bsdf_tables.cpp (2^%d samples per cell): do not edit.\n",
           log2_samples);
    printf("#include \"bsdf_tables.h\"\n\nnamespace optica {\nnamespace {\n\n");
  }
  for (const Term &t : terms) {
    if (!only.empty() && only != t.name) continue;
    print(t, compute(t, log2_samples));
  }
  if (!only.empty()) return 0;
  printf("}  // namespace\n\nBsdfTables bsdf_tables() {\n  BsdfTables t;\n");
  for (const Term &t : terms) printf("  t.%s = kTable_%s;\n", t.name, t.name);
  printf("  return t;\n}\n\n}  // namespace optica\n");
  return 0;
}
