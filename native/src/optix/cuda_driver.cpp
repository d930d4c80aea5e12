// Loads the CUDA driver's entry points with dlopen/dlsym, once per process.
#include "optix/cuda_driver.h"

#include <dlfcn.h>

#include <mutex>
#include <stdexcept>

namespace optica {

namespace {

struct DriverState {
  CudaDriver table;
  std::string why;  // empty: loaded and initialised
};

DriverState load_driver() {
  DriverState s;
  CudaDriver &cu = s.table;
  cu.library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!cu.library) {
    s.why = "NVIDIA driver library libcuda.so.1 not found";
    return s;
  }
#define OPTICA_CUDA_LOAD(name)                                                        \
  cu.name = reinterpret_cast<decltype(cu.name)>(dlsym(cu.library, #name));            \
  if (!cu.name) {                                                                     \
    s.why = "libcuda.so.1 lacks " #name " (the NVIDIA driver is too old)";            \
    return s;                                                                         \
  }
  OPTICA_CUDA_FUNCTIONS(OPTICA_CUDA_LOAD)
#undef OPTICA_CUDA_LOAD
  CUresult r = cu.cuInit(0);
  if (r != CUDA_SUCCESS) {
    const char *name = nullptr;
    cu.cuGetErrorName(r, &name);
    s.why = std::string("cuInit failed: ") + (name ? name : "unknown CUDA error");
  }
  return s;
}

}  // namespace

const CudaDriver *cuda_driver(std::string &why) {
  static std::once_flag once;
  static DriverState state;
  std::call_once(once, [] { state = load_driver(); });
  why = state.why;
  return why.empty() ? &state.table : nullptr;
}

void cuda_check(const CudaDriver &cu, CUresult result, const char *what) {
  if (result == CUDA_SUCCESS) return;
  const char *name = nullptr;
  cu.cuGetErrorName(result, &name);
  throw std::runtime_error(std::string(what) + ": " + (name ? name : "unknown CUDA error"));
}

}  // namespace optica
