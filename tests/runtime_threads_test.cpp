// The runtime's threads: the work team runs every chunk exactly once whoever takes it, passes a
// chunk's exception to the caller, and a multi-threaded run on a busy machine degrades to about
// one thread's pace instead of collapsing (the guard against OpenMP's barrier waits, where two
// threads took 50x one thread's time while a neighbour kept the cores busy).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pipecut/model.h"
#include "pipecut/runtime.h"
#include "runtime/dnnl_conv_common.h"
#include "runtime/work_team.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

using runtime::ChunkFn;
using runtime::WorkTeam;

TEST(RuntimeThreads, TeamRunsEveryChunkExactlyOnce) {
  for (int threads : {1, 2, 3, 5}) {
    WorkTeam team(threads);
    for (int chunks : {0, 1, 2, 7, 1000}) {
      for (int round = 0; round < 3; ++round) {  // the same team, job after job
        std::vector<std::atomic<int>> hits(static_cast<size_t>(chunks));
        std::atomic<int> bad_slot{0};
        auto fn = [&](int64_t i, int slot) {
          hits[static_cast<size_t>(i)]++;
          if (slot < 0 || slot >= threads) bad_slot++;
        };
        team.run(chunks, ChunkFn(fn));
        for (int i = 0; i < chunks; ++i) {
          EXPECT_EQ(hits[static_cast<size_t>(i)].load(), 1)
              << threads << " threads, chunk " << i << " of " << chunks;
        }
        EXPECT_EQ(bad_slot.load(), 0);
      }
    }
  }
}

// A helper that keeps a claimed chunk far longer than the caller's own share (as a descheduled one
// does) sends the team into its solo stretch: the next 64 jobs run on the caller alone, every
// chunk once, and an exception there still comes after every chunk ran.
TEST(RuntimeThreads, TeamRunsAloneAfterALateHelper) {
  WorkTeam team(2);
  std::atomic<bool> helper_ran{false};
  auto late = [&](int64_t, int slot) {
    if (slot != 0) {
      helper_ran = true;  // far longer than the caller's share, even on a loaded machine
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } else {  // the caller's chunks take a moment, so that a helper gets to claim one
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
      while (std::chrono::steady_clock::now() < until) {
      }
    }
  };
  // Until a helper claims a chunk of one of these jobs (it spins for the next job, so it soon
  // does).
  for (int job = 0; job < 5000 && !helper_ran; ++job) team.run(8, ChunkFn(late));
  ASSERT_TRUE(helper_ran) << "no helper ever claimed a chunk";
  for (int job = 0; job < 64; ++job) {
    std::vector<std::atomic<int>> hits(8);
    std::atomic<int> helper_chunks{0};
    auto fn = [&](int64_t i, int slot) {
      hits[static_cast<size_t>(i)]++;
      if (slot != 0) helper_chunks++;
    };
    if (job == 10) {  // a throwing chunk on the solo path
      auto throwing = [&](int64_t i, int slot) {
        fn(i, slot);
        if (i == 2) throw std::runtime_error("chunk 2");
      };
      EXPECT_THROW(team.run(8, ChunkFn(throwing)), std::runtime_error);
    } else {
      team.run(8, ChunkFn(fn));
    }
    EXPECT_EQ(helper_chunks.load(), 0) << "job " << job << " of the solo stretch";
    for (auto& h : hits) EXPECT_EQ(h.load(), 1) << "job " << job;
  }
}

TEST(RuntimeThreads, TeamRethrowsAChunksExceptionAfterTheOthersEnd) {
  WorkTeam team(3);
  std::atomic<int> ran{0};
  auto fn = [&](int64_t i, int) {
    ran++;
    if (i == 5) throw std::runtime_error("chunk 5 failed");
  };
  EXPECT_THROW(team.run(40, ChunkFn(fn)), std::runtime_error);
  EXPECT_EQ(ran.load(), 40);
  // The team is usable after a failure, and the old exception is not thrown again.
  auto fine = [&](int64_t, int) { ran++; };
  EXPECT_NO_THROW(team.run(10, ChunkFn(fine)));
  EXPECT_EQ(ran.load(), 50);
}

TEST(RuntimeThreads, RowBandsCoverTheRowsInOrder) {
  for (int threads : {1, 2, 4}) {
    for (int64_t rows : {1, 2, 7, 56, 112}) {
      for (int64_t max_rows : {0, 1, 5}) {
        const auto bands = runtime::row_bands(rows, int64_t{1} << 22, threads, max_rows);
        ASSERT_FALSE(bands.empty());
        EXPECT_EQ(bands.front().first, 0);
        EXPECT_EQ(bands.back().second, rows);
        for (size_t b = 0; b < bands.size(); ++b) {
          EXPECT_LT(bands[b].first, bands[b].second);
          if (b > 0) {
            EXPECT_EQ(bands[b].first, bands[b - 1].second);
          }
          if (max_rows > 0) {
            EXPECT_LE(bands[b].second - bands[b].first, max_rows);
          }
        }
        if (threads == 1 && max_rows == 0) {
          EXPECT_EQ(bands.size(), 1u);
        }
      }
    }
  }
  // Little work is never cut: oneDNN's call overhead would cost more than a second thread gains.
  EXPECT_EQ(runtime::row_bands(112, 1000, 2).size(), 1u);
}

TEST(RuntimeThreads, SplitWeightsAddUpAndStayWithin64) {
  std::vector<int8_t> weights;
  for (int w = -128; w <= 127; ++w) weights.push_back(static_cast<int8_t>(w));
  std::vector<int8_t> high, low;
  if (!runtime::split_weights(weights, &high, &low)) {
    GTEST_SKIP() << "this CPU adds 8-bit products without saturating (VNNI); set "
                    "PIPECUT_RUNTIME_SPLIT_INT8_WEIGHTS=1 to split anyway";
  }
  ASSERT_EQ(high.size(), weights.size());
  ASSERT_EQ(low.size(), weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    EXPECT_EQ(high[i] + low[i], weights[i]);
    EXPECT_GE(high[i], -64);
    EXPECT_LE(high[i], 64);
    EXPECT_GE(low[i], -64);
    EXPECT_LE(low[i], 64);
  }
  // Weights that cannot saturate are left whole.
  EXPECT_FALSE(runtime::split_weights({-64, 0, 64}, &high, &low));
}

std::vector<TensorValue> inputs_of(const Executable& exe) {
  std::vector<TensorValue> values;
  for (const TensorSpec& spec : exe.inputs()) {
    TensorValue v{spec.name, spec.type, spec.shape, spec.quant, {}};
    v.data.resize(static_cast<size_t>(spec.byte_size()));
    for (size_t i = 0; i < v.data.size(); ++i) v.data[i] = static_cast<uint8_t>(i * 7 % 251);
    values.push_back(std::move(v));
  }
  return values;
}

double median_ms(Executable& exe, const std::vector<TensorValue>& inputs, int runs) {
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    exe.run(inputs);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// A regression guard, not a benchmark (bench_contention measures): with a busy thread on every
// core, two threads must not take more than a small multiple of one thread's time.
TEST(RuntimeThreads, TwoThreadsDoNotCollapseOnABusyMachine) {
  const auto path = testing::coral_model("tf2_mobilenet_v2_1.0_224_ptq.tflite");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
  const Model model = Model::load(path);
  CpuOptions one, two;
  one.threads = 1;
  two.threads = 2;
  auto single = load_cpu(model, one);
  auto pair = load_cpu(model, two);
  const auto inputs = inputs_of(*single);
  single->run(inputs);
  pair->run(inputs);

  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned c = 0; c < cores; ++c) {
    busy.emplace_back([&stop] {
      volatile unsigned long spin = 0;
      while (!stop.load(std::memory_order_relaxed)) spin = spin + 1;
    });
  }
  // Alternating rounds, so both see the same spells of load.
  double t1 = 0, t2 = 0;
  for (int round = 0; round < 3; ++round) {
    t1 += median_ms(*single, inputs, 7);
    t2 += median_ms(*pair, inputs, 7);
  }
  stop = true;
  for (std::thread& t : busy) t.join();
  EXPECT_LT(t2, 3.0 * t1) << "two threads: " << t2 / 3 << " ms, one thread: " << t1 / 3
                          << " ms (median of 7 runs, mean of 3 rounds, cores all busy)";
}

}  // namespace
}  // namespace pipecut
