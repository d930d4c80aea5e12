// The floating-point environment every thread runs the core's code in, whatever its caller set.
//
// The control state (x86 MXCSR: rounding, flush-to-zero, denormals-are-zero; AArch64 FPCR) is
// per thread and inherited by the threads a thread creates. A host process may run the core from
// a thread some library switched (a library built with -ffast-math sets FTZ/DAZ when it is
// loaded; renderers set FTZ/DAZ in their own threads), and the pool's workers inherit the mode of
// whichever thread made the Renderer. Pixels were then a function of the process, not of the
// scene: every entry into kernel code sets one mode here, and the caller's own is given back.
#pragma once
#include <cstdint>

#if defined(__SSE__) || defined(_M_X64) || defined(__x86_64__)
#include <xmmintrin.h>
#define OPTICA_FP_MXCSR 1
#elif defined(__aarch64__)
#define OPTICA_FP_FPCR 1
#endif

namespace optica {

#if defined(OPTICA_FP_MXCSR)
// IEEE 754 as C++ assumes it: round to nearest even, subnormals kept (no FTZ, no DAZ), every
// exception masked — the state a fresh process starts in, so figures measured so far hold.
constexpr uint32_t kKernelFpMode = 0x1f80;
inline uint32_t fp_mode_get() { return _mm_getcsr(); }
inline void fp_mode_set(uint32_t mode) { _mm_setcsr(mode); }
#elif defined(OPTICA_FP_FPCR)
// FPCR 0: round to nearest, no flush-to-zero, no default-NaN, traps off.
constexpr uint32_t kKernelFpMode = 0;
inline uint32_t fp_mode_get() {
  uint64_t v;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
  return uint32_t(v);
}
inline void fp_mode_set(uint32_t mode) {
  uint64_t v = mode;
  __asm__ __volatile__("msr fpcr, %0" : : "r"(v));
}
#else
constexpr uint32_t kKernelFpMode = 0;
inline uint32_t fp_mode_get() { return 0; }
inline void fp_mode_set(uint32_t) {}
#endif

// Sets the kernel's mode for its lifetime and gives the thread its own mode back afterwards
// (also when an exception leaves the scope): Blender's threads are never left changed.
class KernelFpScope {
 public:
  KernelFpScope() : saved_(fp_mode_get()) { fp_mode_set(kKernelFpMode); }
  ~KernelFpScope() { fp_mode_set(saved_); }
  KernelFpScope(const KernelFpScope &) = delete;
  KernelFpScope &operator=(const KernelFpScope &) = delete;

 private:
  uint32_t saved_;
};

}  // namespace optica
