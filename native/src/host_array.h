// Read-only host arrays of the scene that the core either owns or borrows: one type for a copy
// the core made and for the memory of a caller's array kept alive by its owner, so a mesh's
// positions or UVs need not exist twice in memory (the scene dict's arrays live on anyway: the
// geometry cache and the exporter keep them to recognise unchanged geometry).
#pragma once
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace optica {

template <class T>
class HostArray {
 public:
  HostArray() = default;
  // Owns `v` (copies of a HostArray share it).
  HostArray(std::vector<T> v) {  // NOLINT: implicit, so a vector can be assigned
    auto owned = std::make_shared<const std::vector<T>>(std::move(v));
    data_ = owned->data();
    size_ = owned->size();
    keep_ = std::move(owned);
  }
  // Borrows `n` elements at `data`, valid for as long as `keep` lives.
  HostArray(const T *data, size_t n, std::shared_ptr<const void> keep)
      : keep_(std::move(keep)), data_(n ? data : nullptr), size_(n), borrowed_(true) {}

  const T *data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T &operator[](size_t i) const { return data_[i]; }
  const T *begin() const { return data_; }
  const T *end() const { return data_ + size_; }
  // Whether the memory is a caller's (not a copy the core made).
  bool borrowed() const { return borrowed_; }

 private:
  std::shared_ptr<const void> keep_;
  const T *data_ = nullptr;
  size_t size_ = 0;
  bool borrowed_ = false;
};

}  // namespace optica
