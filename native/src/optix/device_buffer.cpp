// DeviceBuffer: cuMemAlloc / cuMemcpy / cuMemFree behind one owner.
#include "optix/device_buffer.h"

namespace optica {

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&o) noexcept {
  if (this != &o) {
    release();
    cu_ = o.cu_;
    ptr_ = o.ptr_;
    size_ = o.size_;
    o.ptr_ = 0;
    o.size_ = 0;
  }
  return *this;
}

void DeviceBuffer::reserve(size_t bytes) {
  if (bytes <= size_) return;
  release();
  cuda_check(*cu_, cu_->cuMemAlloc_v2(&ptr_, bytes), "cuMemAlloc");
  size_ = bytes;
}

void DeviceBuffer::upload(const void *data, size_t bytes) {
  reserve(bytes == 0 ? 1 : bytes);  // a zero-sized array still gets a valid, distinct pointer
  if (bytes) cuda_check(*cu_, cu_->cuMemcpyHtoD_v2(ptr_, data, bytes), "cuMemcpyHtoD");
}

void DeviceBuffer::download(void *out, size_t bytes) const {
  if (bytes) cuda_check(*cu_, cu_->cuMemcpyDtoH_v2(out, ptr_, bytes), "cuMemcpyDtoH");
}

void DeviceBuffer::zero() {
  if (size_) cuda_check(*cu_, cu_->cuMemsetD8_v2(ptr_, 0, size_), "cuMemsetD8");
}

void DeviceBuffer::release() {
  if (ptr_ && cu_) cu_->cuMemFree_v2(ptr_);  // never throws: called from destructors
  ptr_ = 0;
  size_ = 0;
}

}  // namespace optica
