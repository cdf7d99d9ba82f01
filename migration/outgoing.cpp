#include "migration/outgoing.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "migration/state_sections.h"
#include "migration/stream_records.h"
#include "util/log.h"

namespace cr16::migration {
namespace {

SessionId random_session() {
  SessionId session{};
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t got = ::read(fd, session.data(), session.size());
    ::close(fd);
    if (got == static_cast<ssize_t>(session.size())) return session;
  }
  std::random_device device;
  for (uint8_t& byte : session) byte = static_cast<uint8_t>(device());
  return session;
}

PrecopyLimits limits_of(const MigrationParameters& parameters,
                        const MigrationCapabilities& capabilities) {
  PrecopyLimits limits;
  limits.max_bandwidth = parameters.max_bandwidth;
  limits.downtime_limit_ms = parameters.downtime_limit_ms;
  limits.auto_converge = capabilities.auto_converge;
  limits.throttle_initial = parameters.throttle_initial;
  limits.throttle_increment = parameters.throttle_increment;
  limits.throttle_max = parameters.max_cpu_throttle;
  return limits;
}

}  // namespace

OutgoingMigration::OutgoingMigration(MigrationHost& host, MigrationUri uri,
                                     MigrationParameters parameters,
                                     MigrationCapabilities capabilities, TlsSettings tls,
                                     FdLookup fd_lookup, Listeners listeners)
    : host_(host),
      uri_(std::move(uri)),
      parameters_(std::move(parameters)),
      capabilities_(capabilities),
      tls_(std::move(tls)),
      fd_lookup_(std::move(fd_lookup)),
      listeners_(std::move(listeners)),
      policy_(limits_of(parameters_, capabilities_)) {}

OutgoingMigration::~OutgoingMigration() {
  listeners_ = {};  // nobody hears about the end of a migration torn down with its owner
  if (migration_status_is_active(status_)) {
    cancel_requested_ = true;
    clean_up();
  }
}

int64_t OutgoingMigration::now_us() const {
  return host_.loop().now() / 1000;
}

void OutgoingMigration::set_status(MigrationStatus status) {
  if (status_ == status) return;
  status_ = status;
  if (listeners_.status) listeners_.status(status);
}

void OutgoingMigration::set_parameters(const MigrationParameters& parameters) {
  parameters_.max_bandwidth = parameters.max_bandwidth;
  parameters_.downtime_limit_ms = parameters.downtime_limit_ms;
  parameters_.throttle_initial = parameters.throttle_initial;
  parameters_.throttle_increment = parameters.throttle_increment;
  parameters_.max_cpu_throttle = parameters.max_cpu_throttle;
  policy_.set_limits(limits_of(parameters_, capabilities_));
  if (sender_ && status_ == MigrationStatus::kActive) {
    sender_->set_max_bandwidth(parameters_.max_bandwidth);
  }
}

void OutgoingMigration::start() {
  start_us_ = now_us();
  set_status(MigrationStatus::kSetup);
  const unsigned multifd = capabilities_.multifd ? parameters_.multifd_channels : 0;
  connector_ = std::make_unique<OutgoingConnector>(host_.loop(), uri_, tls_, multifd,
                                                   capabilities_.zero_copy_send, fd_lookup_);
  connector_->start([this](Expected<std::vector<SenderChannel>> channels) {
    channels_ready(std::move(channels));
  });
}

void OutgoingMigration::channels_ready(Expected<std::vector<SenderChannel>> channels) {
  if (!channels) return end_with(channels.error());
  // The connector is done; drop it from a later loop turn (we are in its callback).
  host_.loop().schedule([holder = std::shared_ptr<OutgoingConnector>(std::move(connector_))] {});
  std::vector<SenderChannel> all = std::move(*channels);
  SenderChannel main = std::move(all.front());
  // Over a socket the destination confirms the whole stream: the source
  // completes (and its VM stays stopped) only then.
  const bool acknowledge = is_socket_channel(*main.channel);
  std::vector<SenderChannel> multifd(std::make_move_iterator(all.begin() + 1),
                                     std::make_move_iterator(all.end()));

  blocks_ = ram_blocks(host_.memory());
  StreamConfig config;
  config.board = host_.board_name();
  config.cpu = host_.cpu_name();
  config.multifd_channels = static_cast<uint32_t>(multifd.size());
  config.flags = acknowledge ? kConfigFlagAcknowledge : 0;
  config.session = random_session();
  StreamWriter prologue;
  write_stream_header(prologue);
  write_config_record(config, prologue);
  write_blocks_record(describe_blocks(blocks_), prologue);
  std::vector<std::vector<uint8_t>> channel_prologues;
  for (size_t i = 0; i < multifd.size(); ++i) {
    StreamWriter hello;
    write_stream_header(hello);
    write_channel_hello_record(static_cast<uint32_t>(i), config.multifd_channels, config.session,
                               hello);
    channel_prologues.push_back(hello.take());
  }
  if (!prologue.ok()) return end_with(prologue.error());

  // From here every guest write to memory is logged; pass 1 sends it all.
  host_.memory().start_dirty_log(DirtyLogClient::kMigration);
  dirty_log_started_ = true;
  PageSender::Options options;
  options.zero_copy = capabilities_.zero_copy_send && !multifd.empty();
  options.max_bandwidth = parameters_.max_bandwidth;
  options.acknowledged = acknowledge;
  sender_ = std::make_unique<PageSender>(host_.loop(), blocks_, std::move(main), std::move(multifd),
                                         options);
  sender_->start(prologue.take(), std::move(channel_prologues));
  setup_us_ = now_us() - start_us_;
  log_printf(LogCategory::kMigration, "migration: to %s, %u multifd channels, setup %.3f ms",
             uri_.text.c_str(), config.multifd_channels, static_cast<double>(setup_us_) / 1e3);
  set_status(MigrationStatus::kActive);
  start_pass(all_pages(), false, {});
}

std::vector<PageRef> OutgoingMigration::all_pages() const {
  std::vector<PageRef> pages;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    for (uint32_t p = 0; p < blocks_[b].page_count(); ++p) {
      pages.push_back({static_cast<uint8_t>(b), p});
    }
  }
  return pages;
}

std::vector<PageRef> OutgoingMigration::dirty_pages() {
  std::vector<uint64_t> bitmap = host_.memory().sync_dirty_log(DirtyLogClient::kMigration);
  std::vector<PageRef> pages;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const uint32_t first = blocks_[b].base / kPageSize;
    for (uint32_t p = 0; p < blocks_[b].page_count(); ++p) {
      const uint32_t page = first + p;
      if (page / 64 < bitmap.size() && (bitmap[page / 64] >> (page % 64)) & 1) {
        pages.push_back({static_cast<uint8_t>(b), p});
      }
    }
  }
  return pages;
}

void OutgoingMigration::start_pass(std::vector<PageRef> pages, bool final,
                                   std::vector<uint8_t> epilogue) {
  ++pass_;
  pass_pages_ = pages.size();
  if (listeners_.pass) listeners_.pass(pass_);
  PassJob job;
  job.pass = pass_;
  job.pages = std::move(pages);
  job.final = final;
  job.epilogue = std::move(epilogue);
  sender_->send(std::move(job), [this](PassResult result) { pass_done(std::move(result)); });
}

void OutgoingMigration::pass_done(PassResult result) {
  if (!result.error.ok()) {
    return end_with(cancel_requested_ ? Error("migration cancelled", ECANCELED) : result.error);
  }
  if (result.duration_ns > 0) {
    mbps_ =
        static_cast<double>(result.bytes) * 8.0 / (static_cast<double>(result.duration_ns) / 1e3);
  }
  log_printf(LogCategory::kMigration,
             "migration: pass %u%s: %llu pages, %llu zero, %llu bytes in %.3f ms (%.3f ms writing)",
             result.pass, vm_stopped_ ? " (VM stopped)" : "",
             static_cast<unsigned long long>(result.normal_pages),
             static_cast<unsigned long long>(result.zero_pages),
             static_cast<unsigned long long>(result.bytes),
             static_cast<double>(result.duration_ns) / 1e6,
             static_cast<double>(result.transfer_ns) / 1e6);
  if (vm_stopped_) return complete();
  if (cancel_requested_) return end_with(Error("migration cancelled", ECANCELED));

  std::vector<PageRef> dirty = dirty_pages();
  PassMeasurement measurement;
  measurement.bytes_sent = result.bytes;
  measurement.transfer_ns = result.transfer_ns;
  measurement.duration_ns = result.duration_ns;
  measurement.dirty_bytes = uint64_t{dirty.size()} * kPageSize;
  PrecopyDecision decision = policy_.after_pass(measurement);
  last_remaining_ = measurement.dirty_bytes;
  expected_downtime_us_ = static_cast<int64_t>(decision.expected_downtime_ms * 1000.0);
  dirty_pages_rate_ = static_cast<uint64_t>(decision.dirty_bytes_per_second / kPageSize);
  if (decision.throttle_percent != throttle_) {
    throttle_ = decision.throttle_percent;
    host_.set_cpu_throttle(throttle_);
  }
  log_printf(LogCategory::kMigration,
             "migration: %zu pages dirty, %.0f bytes/ms: %.3f ms to send; %s (throttle %u%%)",
             dirty.size(), decision.bandwidth_bytes_per_ms, decision.expected_downtime_ms,
             decision.complete ? "stopping the VM" : "another pass", decision.throttle_percent);
  if (decision.complete) return begin_completion(std::move(dirty));
  start_pass(std::move(dirty), false, {});
}

void OutgoingMigration::begin_completion(std::vector<PageRef> pending) {
  bytes_before_stop_ = sender_->progress().bytes;
  stop_us_ = now_us();
  if (Error error = host_.stop_vm(); !error.ok()) return end_with(error);
  vm_stopped_ = true;
  set_status(MigrationStatus::kDevice);  // after the STOP event, as in QEMU
  if (throttle_ != 0) {
    throttle_ = 0;
    host_.set_cpu_throttle(0);
  }
  // What the guest wrote since the last sync goes too.
  std::vector<PageRef> late = dirty_pages();
  std::vector<PageRef> pages;
  pages.reserve(pending.size() + late.size());
  std::merge(pending.begin(), pending.end(), late.begin(), late.end(), std::back_inserter(pages),
             [](const PageRef& a, const PageRef& b) {
               return a.block != b.block ? a.block < b.block : a.page < b.page;
             });
  pages.erase(std::unique(pages.begin(), pages.end(),
                          [](const PageRef& a, const PageRef& b) {
                            return a.block == b.block && a.page == b.page;
                          }),
              pages.end());
  log_printf(LogCategory::kMigration, "migration: VM stopped; %zu pages left", pages.size());
  // The clock first, then the CPU and every device; then the end.
  StreamWriter epilogue;
  std::vector<StateSection> sections = host_.state_sections();
  for (const StateSection& section : sections) {
    if (section.object == nullptr) {
      return end_with(Error("section " + section.label() + " has no state description"));
    }
  }
  if (Error error = save_state_sections(sections, epilogue); !error.ok()) {
    return end_with(error.with_context("saving the device state"));
  }
  start_pass(std::move(pages), true, epilogue.take());
}

void OutgoingMigration::complete() {
  end_us_ = now_us();
  downtime_us_ = end_us_ - stop_us_;
  final_progress_ = sender_->progress();
  final_zero_copy_ = sender_->zero_copy();
  last_remaining_ = 0;
  if (dirty_log_started_) {
    host_.memory().stop_dirty_log(DirtyLogClient::kMigration);
    dirty_log_started_ = false;
  }
  // The sender's threads have ended; its channels close with it.
  sender_.reset();
  host_.vm_migrated();
  vm_stopped_ = false;
  log_printf(LogCategory::kMigration, "migration: completed in %.3f ms, downtime %.3f ms",
             static_cast<double>(end_us_ - start_us_) / 1e3,
             static_cast<double>(downtime_us_) / 1e3);
  set_status(MigrationStatus::kCompleted);
}

void OutgoingMigration::end_with(Error error) {
  if (!migration_status_is_active(status_)) return;
  const bool cancelled = cancel_requested_;
  if (!cancelled) error_ = error.message();
  clean_up();
  set_status(cancelled ? MigrationStatus::kCancelled : MigrationStatus::kFailed);
}

void OutgoingMigration::clean_up() {
  end_us_ = now_us();
  connector_.reset();
  if (sender_) {
    sender_->cancel();
    final_progress_ = sender_->progress();
    final_zero_copy_ = sender_->zero_copy();
    sender_.reset();  // joins the threads
  }
  if (dirty_log_started_) {
    host_.memory().stop_dirty_log(DirtyLogClient::kMigration);
    dirty_log_started_ = false;
  }
  if (throttle_ != 0) {
    throttle_ = 0;
    host_.set_cpu_throttle(0);
  }
  if (vm_stopped_) {
    vm_stopped_ = false;
    host_.resume_vm();
  }
}

void OutgoingMigration::cancel() {
  if (!migration_status_is_active(status_) || status_ == MigrationStatus::kCancelling) return;
  cancel_requested_ = true;
  const bool in_setup = status_ == MigrationStatus::kSetup;
  set_status(MigrationStatus::kCancelling);
  if (in_setup || !sender_) {
    end_with(Error("migration cancelled", ECANCELED));
    return;
  }
  // The sender's pending pass ends with an error; pass_done finishes the cancel.
  sender_->cancel();
}

MigrationStats OutgoingMigration::stats() const {
  MigrationStats stats;
  stats.status = status_;
  stats.error = error_;
  for (const RamBlock& block : blocks_) stats.ram_total += block.size;
  if (blocks_.empty()) {
    for (const RamBlock& block : ram_blocks(host_.memory())) stats.ram_total += block.size;
  }
  const bool running = sender_ != nullptr;
  const SendProgress progress = running ? sender_->progress() : final_progress_;
  const ZeroCopyCounters zero_copy = running ? sender_->zero_copy() : final_zero_copy_;
  stats.setup_us = setup_us_;
  stats.total_us = (migration_status_is_active(status_) ? now_us() : end_us_) - start_us_;
  if (status_ == MigrationStatus::kNone) stats.total_us = 0;
  stats.downtime_us = downtime_us_;
  stats.expected_downtime_us = expected_downtime_us_;
  stats.ram_transferred = progress.bytes;
  stats.multifd_bytes = progress.multifd_bytes;
  stats.normal_pages = progress.normal_pages;
  stats.zero_pages = progress.zero_pages;
  if (running && pass_pages_ >= progress.pass_pages_done) {
    stats.ram_remaining = uint64_t{pass_pages_ - progress.pass_pages_done} * kPageSize;
  } else {
    stats.ram_remaining = status_ == MigrationStatus::kCompleted ? 0 : last_remaining_;
  }
  stats.passes = pass_;
  stats.mbps = mbps_;
  stats.dirty_pages_rate = dirty_pages_rate_;
  if (status_ == MigrationStatus::kCompleted || vm_stopped_) {
    stats.downtime_bytes = progress.bytes - bytes_before_stop_;
  }
  stats.cpu_throttle_percent = throttle_;
  stats.zero_copy_sends = zero_copy.sends;
  stats.zero_copy_completed = zero_copy.completed;
  stats.zero_copy_copied_syncs = zero_copy.copied_syncs;
  stats.zero_copy_enobufs = zero_copy.enobufs;
  stats.zero_copy_enobufs_recovered = zero_copy.enobufs_recovered;
  return stats;
}

}  // namespace cr16::migration
