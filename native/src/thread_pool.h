// A fixed pool of worker threads running parallel loops. The calling thread takes part,
// so a pool of N threads has N-1 workers. No Python is touched from the workers. Every job
// runs in the kernel's floating-point mode (fp_mode.h), on the caller's thread too.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace optica {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // 0 = all hardware threads
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return int(workers_.size()) + 1; }
  // Calls fn(i, thread_index) for i in [0, count), handing out indices dynamically.
  // The first exception thrown by fn is rethrown here after every thread has stopped.
  void parallel_for(int64_t count, const std::function<void(int64_t, int)> &fn);

 private:
  void worker_loop(int index);
  void run_job(int thread_index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  int busy_ = 0;
  const std::function<void(int64_t, int)> *job_ = nullptr;
  int64_t job_count_ = 0;
  std::atomic<int64_t> next_{0};
  std::exception_ptr error_;
  std::mutex run_mutex_;  // one parallel_for at a time per pool
};

}  // namespace optica
