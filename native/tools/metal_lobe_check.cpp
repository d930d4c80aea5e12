// The Principled BSDF's metal lobe (metallic 1: F82-tint Fresnel, GGX, optional multiscatter
// compensation) on its own, through the kernel's closure code: at several view angles, the mean
// sample weight (what a path picks up) against the integral of eval · cos over the hemisphere
// (uniform directions), and the largest relative gap between the pdf a sample reports and the
// pdf eval gives the same direction. Both must agree for the lobe to be unbiased under MIS.
//
//   g++ -O2 -std=c++17 -Inative/src native/tools/metal_lobe_check.cpp native/src/bsdf_tables.cpp -o /tmp/metal_lobe_check
//   /tmp/metal_lobe_check [roughness=0.4] [base r g b = 0.9 0.85 0.8]
#include <cstdio>
#include <cstdlib>
#include <random>

#include "bsdf_tables.h"
#include "kernel/closure/bsdf.h"

using namespace optica;

namespace {

// As principled_bsdf builds it on a flat surface (N = Ng), specular tint 1 (b = 0).
Closure metal(const BsdfTables &t, float3 wi, float3 f0, float roughness, bool multiscatter) {
  ClosureList cl;
  closures_clear(cl);
  Closure *c = closure_alloc(cl, kClosureMicrofacet, make3(1.0f));
  c->N = make3(0.0f, 0.0f, 1.0f);
  c->lobes = kLobeReflect;
  c->alpha_x = c->alpha_y = roughness * roughness;
  c->fresnel = kFresnelF82Tint;
  c->f0 = f0;
  c->f90 = make3(0.0f);
  microfacet_finish_setup(t, *c, wi);
  if (multiscatter) microfacet_preserve_energy(t, *c, wi, fresnel_f82_average(c->f0, c->f90));
  return *c;
}

}  // namespace

int main(int argc, char **argv) {
  float roughness = argc > 1 ? float(atof(argv[1])) : 0.4f;
  float3 f0 = argc > 4 ? make3(float(atof(argv[2])), float(atof(argv[3])), float(atof(argv[4]))) : make3(0.9f, 0.85f, 0.8f);
  BsdfTables t = bsdf_tables();
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> U(0.0f, 1.0f);
  const int n = 4000000;
  printf("multiscatter  cos(N,wi)  E[sample weight]  int eval cos  ratio    max |pdf_eval/pdf_sample - 1|  rejected\n");
  for (int ms = 0; ms < 2; ++ms)
    for (float ci : {1.0f, 0.7f, 0.3f, 0.15f, 0.05f, 0.02f}) {
      float3 wi = make3(sqrtf(1.0f - ci * ci), 0.0f, ci);
      Closure c = metal(t, wi, f0, roughness, ms != 0);
      ShadingFrame f{c.N, c.N, wi};
      double weight = 0.0, integral = 0.0, pdf_gap = 0.0;
      int rejected = 0;
      for (int i = 0; i < n; ++i) {
        BsdfSample s;
        if (!closure_sample(f, c, U(rng), U(rng), U(rng), s)) { ++rejected; continue; }
        weight += average(s.eval * c.weight / s.pdf);
        float p;
        closure_eval(f, c, s.wo, p);
        pdf_gap = std::max(pdf_gap, double(fabsf(p / s.pdf - 1.0f)));
      }
      for (int i = 0; i < n; ++i) {
        float z = U(rng), phi = 2.0f * kPi * U(rng), r = sqrtf(1.0f - z * z);
        float p;
        integral += average(closure_eval(f, c, make3(r * cosf(phi), r * sinf(phi), z), p) * c.weight) * 2.0f * kPi;
      }
      printf("%12d  %9.2f  %16.5f  %12.5f  %.5f  %30.1e  %8.4f\n", ms, ci, weight / n, integral / n,
             weight / integral, pdf_gap, rejected / double(n));
    }
  return 0;
}
