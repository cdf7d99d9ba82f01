#include "migration/page_sender.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "io/channel_tls.h"
#include "io/task.h"
#include "migration/stream_records.h"

namespace cr16::migration {
namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

/// Pages per chunk a multifd worker takes at a time (one page record).
constexpr size_t kChunkPages = kMaxPagesPerRecord;

/// True when every byte of the page is `*value` (its first byte); stops at
/// the first 64 bytes that differ (the common case for a page in use), so
/// a busy page costs a cache line or two.
bool page_is_uniform(const uint8_t* page, uint8_t* value) {
  // Guest memory is read while the guest runs: a torn view only decides
  // how this copy goes; the dirty log resends the page.
  *value = page[0];
  const uint64_t pattern = uint64_t{*value} * 0x0101010101010101ull;
  for (size_t at = 0; at < kPageSize; at += 64) {
    uint64_t words[8];
    std::memcpy(words, page + at, sizeof words);
    uint64_t differ = 0;
    for (uint64_t word : words) differ |= word ^ pattern;
    if (differ != 0) return false;
  }
  return true;
}

Error cancelled_error() {
  return Error("migration cancelled", ECANCELED);
}

}  // namespace

struct PageSender::Worker {
  unsigned index = 0;
  SenderChannel channel;
  std::unique_ptr<ChannelWriter> writer;
  std::vector<uint8_t> prologue;
  std::thread thread;
  uint32_t synced_pass = 0;  // guarded by mutex_
  bool finished = false;     // final sync done (guarded by mutex_)
  // Zero-copy counters of this channel, copied after each flush.
  std::atomic<uint64_t> zc_sends{0}, zc_completed{0}, zc_copied{0}, zc_enobufs{0}, zc_recovered{0};
};

PageSender::PageSender(io::Loop& loop, std::vector<RamBlock> blocks, SenderChannel main,
                       std::vector<SenderChannel> multifd, Options options)
    : loop_(loop),
      blocks_(std::move(blocks)),
      main_(std::move(main)),
      options_(options),
      max_bandwidth_(options.max_bandwidth) {
  for (size_t i = 0; i < multifd.size(); ++i) {
    auto worker = std::make_unique<Worker>();
    worker->index = static_cast<unsigned>(i);
    worker->channel = std::move(multifd[i]);
    worker->writer = std::make_unique<ChannelWriter>(*worker->channel.channel, &multifd_bytes_);
    workers_.push_back(std::move(worker));
  }
}

PageSender::~PageSender() {
  cancel();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  progress_.notify_all();
  if (coordinator_.joinable()) coordinator_.join();
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  *alive_ = false;
  for (auto& worker : workers_) (void)worker->channel.channel->close();
  if (main_.channel) (void)main_.channel->close();
}

void PageSender::start(std::vector<uint8_t> main_prologue,
                       std::vector<std::vector<uint8_t>> multifd_prologues) {
  main_prologue_ = std::move(main_prologue);
  for (size_t i = 0; i < workers_.size() && i < multifd_prologues.size(); ++i) {
    workers_[i]->prologue = std::move(multifd_prologues[i]);
  }
  coordinator_ = std::thread([this] { coordinator_main(); });
  for (auto& worker : workers_) {
    Worker* raw = worker.get();
    worker->thread = std::thread([this, raw] { worker_main(*raw); });
  }
}

void PageSender::send(PassJob job, std::function<void(PassResult)> done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = std::make_unique<PassJob>(std::move(job));
    done_ = std::move(done);
    pass_pages_done_ = 0;
  }
  wake_.notify_all();
}

void PageSender::shutdown_channels() {
  // shutdown() is thread-safe and never blocks: blocked writes return.
  if (main_.channel && main_.channel->has_feature(io::kFeatureShutdown)) {
    (void)main_.channel->shutdown(io::ShutdownDirection::kBoth);
  }
  for (auto& worker : workers_) {
    io::Channel& channel = *worker->channel.channel;
    if (channel.has_feature(io::kFeatureShutdown)) {
      (void)channel.shutdown(io::ShutdownDirection::kBoth);
    }
  }
}

void PageSender::cancel() {
  if (cancelled_.exchange(true)) return;
  shutdown_channels();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (first_error_.ok()) first_error_ = cancelled_error();
  }
  wake_.notify_all();
  progress_.notify_all();
}

void PageSender::set_max_bandwidth(uint64_t bytes_per_second) {
  max_bandwidth_ = bytes_per_second;
}

SendProgress PageSender::progress() const {
  SendProgress progress;
  progress.bytes = bytes_ + multifd_bytes_;
  progress.multifd_bytes = multifd_bytes_;
  progress.normal_pages = normal_pages_;
  progress.zero_pages = zero_pages_;
  progress.pass_pages_done = pass_pages_done_;
  return progress;
}

ZeroCopyCounters PageSender::zero_copy() const {
  ZeroCopyCounters counters;
  for (const auto& worker : workers_) {
    counters.sends += worker->zc_sends;
    counters.completed += worker->zc_completed;
    counters.copied_syncs += worker->zc_copied;
    counters.enobufs += worker->zc_enobufs;
    counters.enobufs_recovered += worker->zc_recovered;
  }
  return counters;
}

void PageSender::fail(const Error& error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (first_error_.ok()) first_error_ = error;
  }
  // Unblock everybody: the migration cannot go on.
  cancelled_ = true;
  shutdown_channels();
  wake_.notify_all();
  progress_.notify_all();
}

void PageSender::throttle(uint64_t bytes, int64_t* transfer_ns) {
  const uint64_t limit = max_bandwidth_;
  if (limit == 0) return;
  std::unique_lock<std::mutex> lock(rate_mutex_);
  const int64_t now = now_ns();
  // A window of 100 ms: the bytes sent in it may not run ahead of the rate.
  if (rate_window_start_ns_ == 0 || now - rate_window_start_ns_ > 100'000'000) {
    rate_window_start_ns_ = now;
    rate_window_bytes_ = 0;
  }
  rate_window_bytes_ += bytes;
  const int64_t due =
      rate_window_start_ns_ + static_cast<int64_t>(static_cast<double>(rate_window_bytes_) * 1e9 /
                                                   static_cast<double>(limit));
  if (due <= now) return;
  lock.unlock();
  // Sleep in small steps so that cancel() is noticed quickly.
  const int64_t start = now;
  while (!cancelled_) {
    const int64_t left = due - now_ns();
    if (left <= 0) break;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(left, 10'000'000)));
  }
  if (transfer_ns) *transfer_ns += now_ns() - start;
}

Error PageSender::send_pages(ChannelWriter& writer, const PageRef* begin, const PageRef* end,
                             bool zero_copy, int64_t* transfer_ns) {
  std::vector<uint32_t> normal;
  std::vector<uint32_t> zero;  // uniform pages of the byte `fill` (0: zero pages)
  uint8_t fill = 0;
  std::vector<iovec> data;
  normal.reserve(kMaxPagesPerRecord);
  data.reserve(kMaxPagesPerRecord);
  uint8_t block_index = begin != end ? begin->block : 0;

  auto emit_zero = [&]() {
    if (zero.empty()) return;
    if (fill == 0) {
      write_zero_pages_record(block_index, zero, writer.records());
    } else {
      write_fill_pages_record(block_index, fill, zero, writer.records());
    }
    zero_pages_ += zero.size();
    zero.clear();
  };
  auto emit_normal = [&]() -> Error {
    if (normal.empty()) return Error();
    write_pages_header(block_index, normal, writer.records());
    const int64_t start = now_ns();
    Error error = writer.write_with_data(data, zero_copy);
    const uint64_t bytes = pages_header_bytes(normal.size()) + normal.size() * kPageSize;
    if (transfer_ns) *transfer_ns += now_ns() - start;
    normal_pages_ += normal.size();
    normal.clear();
    data.clear();
    if (!error.ok()) return error;
    throttle(bytes, transfer_ns);
    return Error();
  };

  for (const PageRef* ref = begin; ref != end; ++ref) {
    if (cancelled_) return cancelled_error();
    if (ref->block != block_index) {
      emit_zero();
      if (Error error = emit_normal(); !error.ok()) return error;
      block_index = ref->block;
    }
    const RamBlock& block = blocks_[ref->block];
    uint8_t* page = block.page(ref->page);
    uint8_t value = 0;
    if (page_is_uniform(page, &value)) {
      // One byte over the whole page (zeros, erased flash): a few bytes.
      if (value != fill) emit_zero();
      fill = value;
      zero.push_back(ref->page);
      if (zero.size() == kMaxZeroPagesPerRecord) emit_zero();
    } else {
      // Neighbouring pages of a block are neighbours in host memory: one iovec.
      if (!data.empty() &&
          static_cast<uint8_t*>(data.back().iov_base) + data.back().iov_len == page) {
        data.back().iov_len += kPageSize;
      } else {
        data.push_back({page, kPageSize});
      }
      normal.push_back(ref->page);
      if (normal.size() == kMaxPagesPerRecord) {
        if (Error error = emit_normal(); !error.ok()) return error;
      }
    }
    ++pass_pages_done_;
  }
  emit_zero();
  if (Error error = emit_normal(); !error.ok()) return error;
  const int64_t start = now_ns();
  Error error = writer.flush();  // trailing zero page records
  if (transfer_ns) *transfer_ns += now_ns() - start;
  return error;
}

Error PageSender::finish_channel(ChannelWriter& writer, SenderChannel& channel) {
  if (Error error = writer.flush(); !error.ok()) return error;
  if (channel.finish) return channel.finish(*channel.channel);
  return Error();
}

Error PageSender::read_acknowledgement(uint8_t expected, uint32_t pass) {
  uint8_t answer = 0;
  iovec entry{&answer, 1};
  Expected<bool> got = io::read_all_or_eof(*main_.channel, {&entry, 1});
  if (!got || !*got) {
    const std::string why = got ? "it closed the connection" : got.error().message();
    return Error("the destination did not confirm " +
                 (expected == kStreamAcknowledgement ? std::string("the stream")
                                                     : "pass " + std::to_string(pass)) +
                 " (" + why + "); its own error says why");
  }
  if (answer != expected) {
    return Error("the destination answered " + std::to_string(answer) + " instead of " +
                 std::to_string(expected) + " after pass " + std::to_string(pass));
  }
  return Error();
}

void PageSender::read_zero_copy_stats(Worker& worker) {
  auto* socket = dynamic_cast<io::SocketChannel*>(worker.channel.channel.get());
  if (socket == nullptr) return;
  const io::ZeroCopyStats& stats = socket->zero_copy_stats();
  worker.zc_sends = stats.queued;
  worker.zc_completed = stats.completed;
  worker.zc_copied = stats.copied_flushes;
  worker.zc_enobufs = stats.enobufs_events;
  worker.zc_recovered = stats.enobufs_recovered;
}

void PageSender::worker_main(Worker& worker) {
  ChannelWriter& writer = *worker.writer;
  if (Error error = writer.write_bytes(worker.prologue); !error.ok()) {
    fail(error.with_context("multifd channel " + std::to_string(worker.index)));
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    progress_.wait(lock, [&] {
      return stopping_ || !first_error_.ok() || !chunks_.empty() || sync_pass_ > worker.synced_pass;
    });
    if (stopping_ || !first_error_.ok()) return;
    if (!chunks_.empty()) {
      Chunk chunk = chunks_.front();
      chunks_.pop_front();
      ++chunks_in_flight_;
      lock.unlock();
      Error error = send_pages(writer, chunk.begin, chunk.end, options_.zero_copy, nullptr);
      lock.lock();
      --chunks_in_flight_;
      if (!error.ok()) {
        progress_.notify_all();
        lock.unlock();
        fail(error.with_context("multifd channel " + std::to_string(worker.index)));
        return;
      }
      --chunks_outstanding_;
      progress_.notify_all();
      continue;
    }
    // Every chunk of the pass is out: the end of pass on this channel, the
    // zero-copy flush (nothing of this pass stays queued in the kernel),
    // and after the last pass the end record.
    const uint32_t pass = sync_pass_;
    const bool final = sync_final_;
    lock.unlock();
    write_end_of_pass_record(pass, writer.records());
    if (final) write_end_record(writer.records());
    Error error = writer.flush();
    if (error.ok()) {
      Expected<io::FlushResult> flushed = worker.channel.channel->flush();
      if (!flushed) error = flushed.error();
    }
    read_zero_copy_stats(worker);
    if (error.ok() && final) error = finish_channel(writer, worker.channel);
    lock.lock();
    if (!error.ok()) {
      lock.unlock();
      fail(error.with_context("multifd channel " + std::to_string(worker.index)));
      return;
    }
    worker.synced_pass = pass;
    worker.finished = final;
    progress_.notify_all();
    if (final) return;
  }
}

void PageSender::coordinator_main() {
  ChannelWriter writer(*main_.channel, &bytes_);
  Error error = writer.write_bytes(main_prologue_);
  if (!error.ok()) fail(error.with_context("main channel"));
  while (true) {
    std::unique_ptr<PassJob> job;
    std::function<void(PassResult)> done;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || job_ != nullptr; });
      if (job_ == nullptr) return;  // stopping
      job = std::move(job_);
      done = std::move(done_);
    }
    PassResult result;
    result.pass = job->pass;
    const int64_t start = now_ns();
    const uint64_t bytes_before = bytes_ + multifd_bytes_;
    const uint64_t normal_before = normal_pages_;
    const uint64_t zero_before = zero_pages_;
    if (job->final) max_bandwidth_ = 0;  // the VM is stopped: no rate limit (downtime)
    {
      // A pass gets no credit from idle time before it: its rate is its own.
      std::lock_guard<std::mutex> lock(rate_mutex_);
      rate_window_start_ns_ = 0;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      error = first_error_;
    }
    if (error.ok() && workers_.empty()) {
      error = send_pages(writer, job->pages.data(), job->pages.data() + job->pages.size(), false,
                         &result.transfer_ns);
      if (!error.ok()) error = error.with_context("main channel");
    } else if (error.ok()) {
      // Hand the pass to the workers in chunks, then ask each for its sync.
      std::unique_lock<std::mutex> lock(mutex_);
      const PageRef* at = job->pages.data();
      const PageRef* end = at + job->pages.size();
      while (at != end) {
        const PageRef* stop = at + std::min<size_t>(kChunkPages, end - at);
        chunks_.push_back({at, stop});
        ++chunks_outstanding_;
        at = stop;
      }
      progress_.notify_all();
      progress_.wait(lock,
                     [&] { return stopping_ || !first_error_.ok() || chunks_outstanding_ == 0; });
      if (first_error_.ok() && !stopping_) {
        sync_pass_ = job->pass;
        sync_final_ = job->final;
        progress_.notify_all();
        progress_.wait(lock, [&] {
          if (stopping_ || !first_error_.ok()) return true;
          for (const auto& worker : workers_) {
            if (worker->synced_pass < job->pass) return false;
          }
          return true;
        });
      }
      error = stopping_ && first_error_.ok() ? cancelled_error() : first_error_;
      // The chunks point into the job: none may still be read when it goes.
      chunks_.clear();
      chunks_outstanding_ = 0;
      progress_.wait(lock, [&] { return chunks_in_flight_ == 0; });
      // Writing and flushing time of the workers is the transfer time.
      result.transfer_ns = now_ns() - start;
    }
    if (error.ok()) {
      const int64_t write_start = now_ns();
      write_end_of_pass_record(job->pass, writer.records());
      if (job->final) {
        error = writer.write_bytes(job->epilogue);  // the state sections and the end record
      } else {
        error = writer.flush();
      }
      if (error.ok() && options_.acknowledged) {
        error = read_acknowledgement(kPassAcknowledgement, job->pass);
        if (error.ok() && job->final) error = read_acknowledgement(kStreamAcknowledgement, 0);
      }
      if (error.ok() && job->final) error = finish_channel(writer, main_);
      if (workers_.empty()) result.transfer_ns += now_ns() - write_start;
      if (!error.ok()) error = error.with_context("main channel");
    }
    if (!error.ok()) fail(error);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!first_error_.ok()) error = first_error_;
    }
    result.error = error;
    result.duration_ns = now_ns() - start;
    result.bytes = bytes_ + multifd_bytes_ - bytes_before;
    result.normal_pages = normal_pages_ - normal_before;
    result.zero_pages = zero_pages_ - zero_before;
    std::weak_ptr<bool> alive = alive_;
    loop_.post([alive, done = std::move(done), result = std::move(result)]() mutable {
      if (auto held = alive.lock(); held && *held) done(std::move(result));
    });
    if (!error.ok() || job->final) return;
  }
}

}  // namespace cr16::migration
