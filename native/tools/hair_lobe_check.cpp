// The hair closures on their own, through the kernel's closure code (closure_sample /
// closure_eval, as the integrator calls them): for Principled Hair › Chiang at several view
// angles and crossing offsets h, and for the Hair BSDF's two components, the mean sample weight
// (what a path picks up) against the integral of eval over the sphere (4 uniform directions per
// sample; eval is f·cos), and the share of samples whose reported pdf differs from the pdf eval
// gives the same direction by more than 0.1 %. One line per case:
//
//   case  sin(theta_o)  h  E[weight]  integral  share(|pdf_eval/pdf_sample - 1| > 1e-3)  rejected
//
//   g++ -O2 -std=c++17 -Inative/src native/tools/hair_lobe_check.cpp -o /tmp/hair_lobe_check
//   /tmp/hair_lobe_check [samples=400000]
#include <cstdio>
#include <cstdlib>
#include <random>

#include "kernel/closure/bsdf.h"

using namespace optica;

namespace {

// The fibre along +x; wi in the x-z plane at sin(theta) = s (so h is the only azimuthal freedom).
Closure chiang(float3 wi, float h, float roughness, float radial, float coat, float tilt, float3 sigma) {
  ClosureList cl;
  closures_clear(cl);
  Closure *c = closure_alloc(cl, kClosureHairChiang, make3(1.0f));
  hair_chiang_setup(*c, make3(1.0f, 0.0f, 0.0f), wi, h, roughness, radial, coat, tilt, 1.55f, sigma);
  c->lobes = 1;
  return *c;
}

Closure kajiya(int type, float r1, float r2, float offset) {
  ClosureList cl;
  closures_clear(cl);
  Closure *c = closure_alloc(cl, type, make3(1.0f));
  hair_kajiya_setup(*c, make3(0.0f, 0.0f, 1.0f), make3(1.0f, 0.0f, 0.0f), r1, r2, offset);
  c->lobes = 1;
  return *c;
}

void check(const char *name, const Closure &c, float3 wi, float h, int n, std::mt19937 &rng) {
  std::uniform_real_distribution<float> U(0.0f, 1.0f);
  ShadingFrame f{make3(0.0f, 0.0f, 1.0f), make3(0.0f, 0.0f, 1.0f), wi};
  double weight = 0.0, integral = 0.0;
  int mismatched = 0;
  int rejected = 0;
  for (int i = 0; i < n; ++i) {
    BsdfSample s;
    if (!closure_sample(f, c, U(rng), U(rng), U(rng), s)) {
      ++rejected;
    } else {
      weight += average(s.eval * c.weight / s.pdf);
      float p;
      closure_eval(f, c, s.wo, p);
      if (!(fabsf(p / s.pdf - 1.0f) <= 1e-3f)) ++mismatched;
    }
    for (int k = 0; k < 4; ++k) {  // uniform directions on the sphere
      float z = 1.0f - 2.0f * U(rng), phi = 2.0f * kPi * U(rng), r = safe_sqrt(1.0f - z * z);
      float p;
      float3 v = closure_eval(f, c, make3(r * cosf(phi), r * sinf(phi), z), p);
      integral += average(v * c.weight) * kPi;
    }
  }
  printf("%-28s %6.3f %6.3f %9.5f %9.5f %9.6f %8d\n", name, wi.x, h, weight / n, integral / n,
         double(mismatched) / n, rejected);
}

}  // namespace

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 400000;
  std::mt19937 rng(7);
  for (float s : {0.0f, 0.4f, -0.7f}) {
    float3 wi = make3(s, 0.0f, sqrtf(1.0f - s * s));
    for (float h : {0.0f, 0.5f, -0.9f}) {
      check("chiang_brown", chiang(wi, h, 0.3f, 0.3f, 0.0f, 0.0349f, make3(0.42f, 0.78f, 1.6f)), wi, h, n, rng);
      check("chiang_white_smooth", chiang(wi, h, 0.15f, 0.2f, 0.0f, 0.0f, make3(0.0f)), wi, h, n, rng);
      check("chiang_rough", chiang(wi, h, 0.7f, 0.8f, 0.0f, 0.05f, make3(0.2f, 0.3f, 0.5f)), wi, h, n, rng);
      check("chiang_coat", chiang(wi, h, 0.3f, 0.3f, 0.5f, 0.0349f, make3(0.2f, 0.3f, 0.5f)), wi, h, n, rng);
    }
    check("kajiya_transmission", kajiya(kClosureHairTransmission, 0.1f, 1.0f, 0.0f), wi, 0.0f, n, rng);
    check("kajiya_transmission_narrow", kajiya(kClosureHairTransmission, 0.2f, 0.3f, 0.05f), wi, 0.0f, n, rng);
    check("kajiya_reflection", kajiya(kClosureHairReflection, 0.1f, 1.0f, 0.0f), wi, 0.0f, n, rng);
    check("kajiya_reflection_narrow", kajiya(kClosureHairReflection, 0.2f, 0.3f, 0.05f), wi, 0.0f, n, rng);
  }
  return 0;
}
