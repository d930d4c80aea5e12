// The CUDA driver API, loaded at run time from the driver's libcuda.so.1 (as Cycles' CUEW does):
// the module links against neither libcuda nor libnvoptix, so it imports on any machine.
#pragma once
#include <cuda.h>

#include <string>

namespace optica {

struct CudaDriver {
#define OPTICA_CUDA_FUNCTIONS(X)                                                                          \
  X(cuInit) X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName) X(cuDevicePrimaryCtxRetain)            \
  X(cuDevicePrimaryCtxRelease_v2) X(cuCtxSetCurrent) X(cuStreamCreate) X(cuStreamDestroy_v2)              \
  X(cuStreamSynchronize) X(cuMemAlloc_v2) X(cuMemFree_v2) X(cuMemcpyHtoD_v2) X(cuMemcpyDtoH_v2)           \
  X(cuMemsetD8_v2) X(cuGetErrorName)
#define OPTICA_CUDA_POINTER(name) decltype(&::name) name = nullptr;
  OPTICA_CUDA_FUNCTIONS(OPTICA_CUDA_POINTER)
#undef OPTICA_CUDA_POINTER
  void *library = nullptr;
};

// The process-wide driver table; loads it on first use. Returns null and sets `why` (what is
// missing, in words a user can act on) when the driver library or one of its entry points is
// absent, or cuInit fails.
const CudaDriver *cuda_driver(std::string &why);

// Throws std::runtime_error("<what>: <CUDA error name>") unless `result` is CUDA_SUCCESS.
void cuda_check(const CudaDriver &cu, CUresult result, const char *what);

}  // namespace optica
