// The sending half of live migration: threads that write guest pages to the
// migration channels while the guest keeps running on the machine thread.
//
// One coordinator thread owns the main channel. Without multifd it sends
// every page itself; with multifd, N worker threads each own one page
// channel and take chunks of the pass from a shared queue, and at the end
// of every pass each worker writes its end-of-pass (the destination's
// barrier) and flushes its zero-copy completions before the coordinator
// writes the main channel's end-of-pass — so a page that may be resent in
// the next pass is never still queued in the kernel.
//
// Guest memory is read while the guest writes it (the dirty log makes the
// machine send such pages again); the last pass runs with the VM stopped.
// Zero pages become zero page records (4 bytes each). Page data leaves
// from guest memory without a copy (writev), with MSG_ZEROCOPY on multifd
// channels when asked.
//
// The owner (machine thread) calls start() once, then send() for each pass
// and waits for its completion, which runs on the owner's loop. cancel()
// may be called from any thread: it shuts the channels down, so every
// blocked write returns and the pending pass completes with an error.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "io/channel.h"
#include "io/channel_socket.h"
#include "io/loop.h"
#include "migration/channel_writer.h"
#include "migration/ram_blocks.h"
#include "util/error.h"

namespace cr16::migration {

/// One page of a pass: block index (into the sender's blocks) and page.
struct PageRef {
  uint8_t block = 0;
  uint32_t page = 0;
};

/// What a pass sends.
struct PassJob {
  uint32_t pass = 0;              // 1 for the first
  std::vector<PageRef> pages;     // each at most once, in block/page order
  bool final = false;             // the VM is stopped: then the epilogue and the end
  std::vector<uint8_t> epilogue;  // final only: the state sections and the end record
};

/// How a pass went.
struct PassResult {
  uint32_t pass = 0;
  uint64_t bytes = 0;  // written on every channel during the pass
  uint64_t normal_pages = 0;
  uint64_t zero_pages = 0;
  int64_t duration_ns = 0;  // from the job's start to its end
  int64_t transfer_ns = 0;  // of that, spent writing (or waiting for the rate limit)
  Error error;              // ok, or why the pass failed (cancelled included)
};

/// Zero-copy counters of every page channel together.
struct ZeroCopyCounters {
  uint64_t sends = 0;              // MSG_ZEROCOPY sendmsg calls
  uint64_t completed = 0;          // completions read back
  uint64_t copied_syncs = 0;       // flushes where the kernel had copied every send
  uint64_t enobufs = 0;            // sendmsg calls that hit ENOBUFS
  uint64_t enobufs_recovered = 0;  // of those, recovered by flushing and retrying once
};

/// Bytes and pages sent so far (all passes), readable any time.
struct SendProgress {
  uint64_t bytes = 0;  // every channel
  uint64_t multifd_bytes = 0;
  uint64_t normal_pages = 0;
  uint64_t zero_pages = 0;
  uint64_t pass_pages_done = 0;  // pages of the current pass already handled
};

/// What happens to a channel once its end record is out: close_notify on
/// TLS, shutdown of the write side, truncation of a file, waiting for an
/// exec command. Runs on the channel's sending thread.
using ChannelFinisher = std::function<Error(io::Channel& channel)>;

/// A channel with how to finish it.
struct SenderChannel {
  std::unique_ptr<io::Channel> channel;
  ChannelFinisher finish;  // may be empty
};

class PageSender {
 public:
  struct Options {
    bool zero_copy = false;      // page data with MSG_ZEROCOPY (multifd channels)
    uint64_t max_bandwidth = 0;  // bytes per second over all channels; 0 = no limit
    /// The destination answers on the main channel (kConfigFlagAcknowledge):
    /// a pass ends when it confirmed the pass, the last one when it
    /// confirmed the whole stream.
    bool acknowledged = false;
  };

  /// `main` carries the records; `multifd` (may be empty) the pages. The
  /// blocks' host memory must stay mapped until the sender is destroyed.
  /// Completions are posted to `loop`.
  PageSender(io::Loop& loop, std::vector<RamBlock> blocks, SenderChannel main,
             std::vector<SenderChannel> multifd, Options options);
  /// Cancels what is running and joins the threads (closing the channels).
  ~PageSender();
  PageSender(const PageSender&) = delete;
  PageSender& operator=(const PageSender&) = delete;

  /// Starts the threads; `main_prologue` (header, configuration, block
  /// list) goes first on the main channel, `multifd_prologues[i]` (header,
  /// hello) on page channel i.
  void start(std::vector<uint8_t> main_prologue,
             std::vector<std::vector<uint8_t>> multifd_prologues);
  /// Sends one pass; `done` runs on the loop once it is out (or failed).
  /// One pass at a time.
  void send(PassJob job, std::function<void(PassResult)> done);
  /// Shuts every channel down so that blocked writes end; the pending pass
  /// fails with "cancelled". Any thread; idempotent.
  void cancel();
  /// Changes the rate limit (bytes per second, 0 = none); any thread.
  void set_max_bandwidth(uint64_t bytes_per_second);

  SendProgress progress() const;
  ZeroCopyCounters zero_copy() const;
  /// True when page data goes over multifd channels.
  bool multifd() const { return !workers_.empty(); }

 private:
  struct Worker;
  struct Chunk {
    const PageRef* begin;
    const PageRef* end;
  };

  void coordinator_main();
  void worker_main(Worker& worker);
  /// Sends `pages` on `writer`: zero page records and page records with
  /// data, in batches. Counts into the progress.
  Error send_pages(ChannelWriter& writer, const PageRef* begin, const PageRef* end, bool zero_copy,
                   int64_t* transfer_ns);
  /// Waits as long as the rate limit asks for after `bytes` more.
  void throttle(uint64_t bytes, int64_t* transfer_ns);
  Error finish_channel(ChannelWriter& writer, SenderChannel& channel);
  /// Reads the destination's answer `expected` from the main channel.
  Error read_acknowledgement(uint8_t expected, uint32_t pass);
  /// Shuts every channel down (blocked writes and reads return).
  void shutdown_channels();
  void fail(const Error& error);
  void read_zero_copy_stats(Worker& worker);

  io::Loop& loop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<RamBlock> blocks_;
  SenderChannel main_;
  Options options_;
  std::atomic<uint64_t> max_bandwidth_;

  // Coordinator job hand-off.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::thread coordinator_;
  std::vector<uint8_t> main_prologue_;
  std::unique_ptr<PassJob> job_;
  std::function<void(PassResult)> done_;
  bool stopping_ = false;
  std::atomic<bool> cancelled_{false};
  Error first_error_;  // guarded by mutex_

  // Multifd.
  std::vector<std::unique_ptr<Worker>> workers_;
  std::deque<Chunk> chunks_;       // guarded by mutex_
  size_t chunks_outstanding_ = 0;  // of the current pass, not finished yet
  size_t chunks_in_flight_ = 0;    // taken by a worker, being sent
  uint32_t sync_pass_ = 0;         // workers write the end of this pass
  bool sync_final_ = false;
  std::condition_variable progress_;  // chunk done, worker synced, error

  // Rate limit over all channels (guarded by rate_mutex_).
  std::mutex rate_mutex_;
  int64_t rate_window_start_ns_ = 0;
  uint64_t rate_window_bytes_ = 0;

  std::atomic<uint64_t> bytes_{0};          // written on the main channel
  std::atomic<uint64_t> multifd_bytes_{0};  // written on the page channels
  std::atomic<uint64_t> normal_pages_{0};
  std::atomic<uint64_t> zero_pages_{0};
  std::atomic<uint64_t> pass_pages_done_{0};
};

}  // namespace cr16::migration
