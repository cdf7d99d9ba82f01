// Loop wake-up latency (another thread post()s, measured until the callback
// runs on the loop thread) and timer jitter (how late a realtime timer
// fires after its deadline), for the epoll and io_uring backends.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "io/loop.h"

using namespace cr16;
using namespace cr16::io;

namespace {

struct Summary {
  double median_us, p99_us, max_us;
};

Summary summarize(std::vector<int64_t>& samples_ns) {
  std::sort(samples_ns.begin(), samples_ns.end());
  auto at = [&](double q) {
    return samples_ns[std::min(samples_ns.size() - 1, static_cast<size_t>(q * samples_ns.size()))] /
           1000.0;
  };
  return {at(0.5), at(0.99), samples_ns.back() / 1000.0};
}

Summary wakeup_latency(Loop& loop, int rounds) {
  std::vector<int64_t> samples;
  samples.reserve(rounds);
  std::atomic<int> handled{0};
  std::atomic<bool> stop{false};
  std::thread poster([&] {
    for (int i = 0; i < rounds; ++i) {
      while (handled.load() != i) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::microseconds(50));  // let the loop block
      int64_t posted = loop.now(ClockType::kRealtime);
      loop.post([&, posted] {
        samples.push_back(loop.now(ClockType::kRealtime) - posted);
        handled.fetch_add(1);
      });
    }
    stop = true;
    loop.wakeup();
  });
  while (!stop || handled.load() < rounds) loop.run_once(-1);
  poster.join();
  return summarize(samples);
}

Summary timer_jitter(Loop& loop, int rounds, int64_t period_ns) {
  std::vector<int64_t> samples;
  samples.reserve(rounds);
  for (int i = 0; i < rounds; ++i) {
    int64_t deadline = loop.now(ClockType::kRealtime) + period_ns;
    bool fired = false;
    loop.add_timer(ClockType::kRealtime, deadline, [&] {
      samples.push_back(loop.now(ClockType::kRealtime) - deadline);
      fired = true;
    });
    while (!fired) loop.run_once(-1);
  }
  return summarize(samples);
}

}  // namespace

int main() {
  std::printf("bench-io-loop: wake-up latency (post from another thread) and timer lateness\n");
  std::printf("%-9s %-22s %10s %10s %10s\n", "backend", "measure", "median us", "p99 us", "max us");
  for (LoopBackend backend : {LoopBackend::kEpoll, LoopBackend::kIoUring}) {
    auto loop = Loop::create(backend).value();
    Summary wake = wakeup_latency(*loop, 5000);
    Summary timer = timer_jitter(*loop, 2000, 200000);
    std::printf("%-9s %-22s %10.1f %10.1f %10.1f\n", loop_backend_name(backend), "wake-up latency",
                wake.median_us, wake.p99_us, wake.max_us);
    std::printf("%-9s %-22s %10.1f %10.1f %10.1f\n", loop_backend_name(backend),
                "timer late (200 us)", timer.median_us, timer.p99_us, timer.max_us);
  }
  return 0;
}
