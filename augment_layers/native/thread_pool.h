// One pool of threads per process for the resample kernel.
//
// Every call used to start its own threads (one per core) and join them:
// under tf.data's parallel map, or the tf.data service, several calls at a
// time then ran cores x calls threads on the host's cores, and each call
// paid the thread starts. Here the threads are started once, as many as the
// cores the process may use (sched_getaffinity; AUGMENT_LAYERS_NATIVE_THREADS
// caps it), and concurrent calls share them: a call cuts its rows into
// chunks, queues them and waits; the pool's threads take chunks from the
// oldest call first. At most that many threads compute whatever the number
// of calls. Each output row is computed by one thread whatever the split, so
// the split never changes a value. After a fork the child starts a pool of
// its own on its first call (threads do not survive a fork).
#pragma once

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace augment_layers {

// The cores this process may run on (AUGMENT_LAYERS_NATIVE_THREADS caps it).
inline int AllowedCores() {
  int n = 1;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
  if (const char* cap = std::getenv("AUGMENT_LAYERS_NATIVE_THREADS")) {
    const int c = std::atoi(cap);
    if (c > 0) n = std::min(n, c);
  }
  return std::max(1, n);
}

class Pool {
 public:
  using Work = void (*)(const void* context, int64_t begin, int64_t end);

  // The process's pool (a new one in a forked child).
  static Pool& Get() {
    static std::mutex made;
    static Pool* pool = nullptr;
    std::lock_guard<std::mutex> lock(made);
    if (pool == nullptr || pool->pid_ != getpid()) {
      // A parent's pool is left as it is (its threads are not in this
      // process; its memory is not freed, as its mutexes may be held).
      pool = new Pool(AllowedCores());
    }
    return *pool;
  }

  int threads() const { return threads_; }

  // Runs work(context, begin, end) over [0, total) in chunks of `chunk`
  // rows on the pool's threads; returns when every chunk is done.
  void Run(Work work, const void* context, int64_t total, int64_t chunk) {
    auto task = std::make_shared<Task>();
    task->work = work;
    task->context = context;
    task->total = total;
    task->chunk = std::max<int64_t>(1, chunk);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      StartLocked();
      queue_.push_back(task);
    }
    wake_.notify_all();
    std::unique_lock<std::mutex> lock(task->mutex);
    task->finished.wait(lock, [&] { return task->done == task->total; });
  }

 private:
  struct Task {
    Work work = nullptr;
    const void* context = nullptr;
    int64_t total = 0, chunk = 1;
    std::atomic<int64_t> next{0};
    int64_t done = 0;  // under mutex
    std::mutex mutex;
    std::condition_variable finished;
  };

  explicit Pool(int threads) : threads_(threads), pid_(getpid()) {}

  void StartLocked() {
    if (!workers_.empty()) return;
    for (int t = 0; t < threads_; ++t) {
      workers_.emplace_back([this] { Loop(); });
      workers_.back().detach();
    }
  }

  void Loop() {
    for (;;) {
      std::shared_ptr<Task> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return !queue_.empty(); });
        task = queue_.front();
      }
      const int64_t begin = task->next.fetch_add(task->chunk);
      if (begin >= task->total) {
        // Every chunk of the oldest call is taken: off the queue.
        std::lock_guard<std::mutex> lock(mutex_);
        if (!queue_.empty() && queue_.front() == task) queue_.pop_front();
        continue;
      }
      const int64_t end = std::min(task->total, begin + task->chunk);
      task->work(task->context, begin, end);
      std::lock_guard<std::mutex> lock(task->mutex);
      task->done += end - begin;
      if (task->done == task->total) task->finished.notify_all();
    }
  }

  const int threads_;
  const pid_t pid_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Task>> queue_;
  std::vector<std::thread> workers_;
};

}  // namespace augment_layers
