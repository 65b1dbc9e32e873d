// helper_pool.cpp - the caller-runs thread pool of helper_pool.h: a queue of open calls, each an
// index counter that the caller and any idle helper draw from until every index is taken.
#include "core/helper_pool.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace avsink {

namespace {

// One run() call: indices are claimed with `next`; `done` counts finished ones.
struct Job {
  Job(size_t n, const std::function<void(size_t)> *t) : count(n), task(t) {}
  const size_t count;
  const std::function<void(size_t)> *task;  // valid while some index < count is unfinished
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable finished;
  size_t done = 0;           // guarded by mu
  std::exception_ptr error;  // guarded by mu: the first task's exception

  bool exhausted() const { return next.load(std::memory_order_relaxed) >= count; }

  // Runs indices until none is left to claim.
  void work() {
    for (;;) {
      const size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= count) return;
      std::exception_ptr e;
      try {
        (*task)(i);
      } catch (...) {
        e = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu);
      if (e && !error) error = e;
      if (++done == count) finished.notify_all();
    }
  }
};

}  // namespace

struct HelperPool::Impl {
  std::mutex mu;
  std::condition_variable wake;
  std::deque<std::shared_ptr<Job>> jobs;  // open calls with indices left, oldest first
  bool stop = false;
  std::vector<std::thread> threads;
  std::atomic<size_t> callers{0};  // run() calls in progress

  void helper() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      wake.wait(lock, [this] { return stop || !jobs.empty(); });
      if (stop) return;
      std::shared_ptr<Job> job = jobs.front();
      if (job->exhausted()) {  // every index taken: nothing left for helpers
        jobs.pop_front();
        continue;
      }
      lock.unlock();
      job->work();
      lock.lock();
    }
  }
};

HelperPool::HelperPool(unsigned helpers) : impl_(std::make_unique<Impl>()) {
  impl_->threads.reserve(helpers);
  for (unsigned i = 0; i < helpers; ++i)
    impl_->threads.emplace_back([impl = impl_.get()] { impl->helper(); });
}

HelperPool::~HelperPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  for (auto &t : impl_->threads) t.join();
}

unsigned HelperPool::helpers() const {
  return static_cast<unsigned>(impl_->threads.size());
}

void HelperPool::run(size_t count, const std::function<void(size_t)> &task) {
  const size_t callers = impl_->callers.fetch_add(1) + 1;
  struct Leave {
    std::atomic<size_t> &n;
    ~Leave() { n.fetch_sub(1); }
  } leave{impl_->callers};
  auto job = std::make_shared<Job>(count, &task);
  const bool offered = callers <= impl_->threads.size() && count > 1;
  if (offered) {
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->jobs.push_back(job);
    }
    impl_->wake.notify_all();
  }
  job->work();  // alone, when not offered: every task on this thread, in order
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(job->mu);
    job->finished.wait(lock, [&] { return job->done == job->count; });
    error = job->error;
  }
  if (offered) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto it = impl_->jobs.begin(); it != impl_->jobs.end(); ++it) {
      if (*it == job) {
        impl_->jobs.erase(it);
        break;
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace avsink
