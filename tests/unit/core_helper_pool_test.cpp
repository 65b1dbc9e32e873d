// core_helper_pool_test.cpp - HelperPool: every index runs once, helpers really run beside the
// caller, exceptions come back to the caller, and many callers share the helpers safely.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/helper_pool.h"

namespace {

using avsink::HelperPool;

TEST(HelperPool, EveryIndexRunsExactlyOnce) {
  for (unsigned helpers : {0u, 1u, 3u}) {
    HelperPool pool(helpers);
    EXPECT_EQ(pool.helpers(), helpers);
    for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{57}}) {
      std::vector<std::atomic<int>> hits(count);
      pool.run(count, [&](size_t i) { hits[i].fetch_add(1); });
      for (size_t i = 0; i < count; ++i)
        EXPECT_EQ(hits[i].load(), 1) << "helpers " << helpers << " count " << count << " i " << i;
    }
  }
}

// Two tasks that each wait (bounded) for the other to start: both finish only if a helper runs
// one while the caller runs the other.
TEST(HelperPool, AHelperRunsBesideTheCaller) {
  HelperPool pool(1);
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  std::atomic<int> met{0};
  std::thread::id ids[2];
  pool.run(2, [&](size_t i) {
    ids[i] = std::this_thread::get_id();
    std::unique_lock<std::mutex> lock(mu);
    ++started;
    cv.notify_all();
    if (cv.wait_for(lock, std::chrono::seconds(10), [&] { return started == 2; })) met++;
  });
  EXPECT_EQ(met.load(), 2);
  EXPECT_NE(ids[0], ids[1]);
}

TEST(HelperPool, NoHelpersRunsOnTheCallerInOrder) {
  HelperPool pool(0);
  std::vector<size_t> order;
  const auto me = std::this_thread::get_id();
  bool elsewhere = false;
  pool.run(5, [&](size_t i) {
    order.push_back(i);
    elsewhere |= std::this_thread::get_id() != me;
  });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(elsewhere);
}

TEST(HelperPool, AThrowingTaskLetsTheOthersRunAndIsRethrown) {
  for (unsigned helpers : {0u, 2u}) {
    HelperPool pool(helpers);
    std::atomic<int> ran{0};
    EXPECT_THROW(pool.run(20,
                          [&](size_t i) {
                            ran++;
                            if (i == 3) throw std::runtime_error("task 3");
                          }),
                 std::runtime_error);
    EXPECT_EQ(ran.load(), 20);
    // The pool still works afterwards.
    std::atomic<int> again{0};
    pool.run(10, [&](size_t) { again++; });
    EXPECT_EQ(again.load(), 10);
  }
}

// With more callers in run() than helpers, each caller runs its own tasks, in order.
TEST(HelperPool, BusyPoolLeavesEachCallerItsOwnTasks) {
  HelperPool pool(1);
  std::mutex mu;
  std::condition_variable cv;
  bool inside = false, release = false;
  std::thread first([&] {
    pool.run(1, [&](size_t) {  // one task: never offered, but the call is in progress
      std::unique_lock<std::mutex> lock(mu);
      inside = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
    });
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return inside; }));
  }
  std::vector<size_t> order;
  const auto me = std::this_thread::get_id();
  bool elsewhere = false;
  pool.run(6, [&](size_t i) {
    // Long enough that an offered task would be taken by the idle helper.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(i);
    elsewhere |= std::this_thread::get_id() != me;
  });
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_FALSE(elsewhere);
}

TEST(HelperPool, ManyCallersAtOnce) {
  HelperPool pool(2);
  constexpr int kCallers = 6, kRounds = 50, kTasks = 9;
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        std::vector<int> out(kTasks, 0);  // on the caller's stack: valid until run() returns
        pool.run(kTasks, [&](size_t i) { out[i] = static_cast<int>(i) * 2; });
        for (int i = 0; i < kTasks; ++i)
          if (out[i] != i * 2) wrong++;
      }
    });
  }
  for (auto &t : callers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
