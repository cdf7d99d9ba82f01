#include "migration/incoming.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <numeric>

#include "hw/flash.h"
#include "io/channel_command.h"
#include "io/channel_file.h"
#include "io/channel_socket.h"
#include "io/channel_tls.h"
#include "util/log.h"

namespace cr16::migration {
namespace {

/// Bytes read from one connection per loop turn at most: the monitor and
/// the other connections get their turn.
constexpr size_t kReadBudget = 8u << 20;
/// Bytes asked for per read.
constexpr size_t kReadChunk = 1u << 20;

}  // namespace

struct IncomingMigration::Connection {
  std::unique_ptr<io::Channel> channel;
  unsigned id = 0;
  io::Loop::WatchId watch = 0;
  bool eof = false;
};

IncomingMigration::IncomingMigration(io::Loop& loop, LoadTarget target, MigrationUri uri,
                                     TlsProvider tls, FdLookup fd_lookup, Listeners listeners)
    : loop_(loop),
      ram_total_(
          std::accumulate(target.blocks.begin(), target.blocks.end(), uint64_t{0},
                          [](uint64_t sum, const RamBlock& block) { return sum + block.size; })),
      loader_(std::make_unique<IncomingLoader>(std::move(target))),
      uri_(std::move(uri)),
      tls_(std::move(tls)),
      fd_lookup_(fd_lookup ? std::move(fd_lookup) : FdLookup(inherited_fd)),
      listeners_(std::move(listeners)) {}

IncomingMigration::~IncomingMigration() {
  *alive_ = false;
  listeners_ = {};
  if (listener_) listener_->disconnect();
  for (auto& connection : connections_) {
    if (connection->watch) loop_.remove_watch(connection->watch);
    (void)connection->channel->close();
  }
  handshaking_.clear();
}

int64_t IncomingMigration::now_us() const {
  return loop_.now() / 1000;
}

void IncomingMigration::set_status(MigrationStatus status) {
  if (status_ == status) return;
  status_ = status;
  if (listeners_.status) listeners_.status(status);
}

std::string IncomingMigration::listen_address() const {
  if (!listener_) return "";
  std::vector<io::SocketAddress> addresses = listener_->addresses();
  return addresses.empty() ? "" : addresses.front().to_string();
}

Error IncomingMigration::start() {
  start_us_ = now_us();
  set_status(MigrationStatus::kSetup);
  // Fault the guest memory in now, while nothing arrives yet, rather than
  // page by page while the stream is loaded (the contents stay as they are).
#ifdef MADV_POPULATE_WRITE
  if (const IncomingLoader* loader = loader_.get()) {
    for (const RamBlock& block : loader->blocks()) {
      (void)madvise(block.host, block.size, MADV_POPULATE_WRITE);
    }
  }
#endif
  switch (uri_.kind) {
    case MigrationUri::Kind::kTcp:
    case MigrationUri::Kind::kUnix: {
      listener_ = std::make_unique<io::NetListener>(loop_);
      if (Error error = listener_->open(uri_.address); !error.ok()) {
        return error.with_context("-incoming " + uri_.text);
      }
      std::weak_ptr<bool> alive = alive_;
      listener_->set_client_callback([this, alive](std::unique_ptr<io::SocketChannel> client) {
        if (auto held = alive.lock(); held && *held) accepted(std::move(client));
      });
      return Error();
    }
    case MigrationUri::Kind::kExec: {
      Expected<std::unique_ptr<io::CommandChannel>> command =
          io::CommandChannel::spawn({"/bin/sh", "-c", uri_.command});
      if (!command) return command.error().with_context("-incoming exec:" + uri_.command);
      accepted(std::move(*command));
      return Error();
    }
    case MigrationUri::Kind::kFile: {
      Expected<std::unique_ptr<io::Channel>> file = open_stream_file(uri_, O_RDONLY);
      if (!file) return file.error().with_context("-incoming");
      accepted(std::move(*file));
      return Error();
    }
    case MigrationUri::Kind::kFd: {
      Expected<int> fd = fd_lookup_(uri_.fd_name);
      if (!fd) return fd.error().with_context("-incoming");
      struct stat info;
      if (fstat(*fd, &info) == 0 && S_ISSOCK(info.st_mode)) {
        Expected<std::unique_ptr<io::SocketChannel>> socket = io::SocketChannel::from_fd(*fd);
        if (!socket) return socket.error().with_context("-incoming fd:" + uri_.fd_name);
        accepted(std::move(*socket));
      } else {
        Expected<std::unique_ptr<io::FileChannel>> file = io::FileChannel::from_fd(*fd);
        if (!file) return file.error().with_context("-incoming fd:" + uri_.fd_name);
        accepted(std::move(*file));
      }
      return Error();
    }
  }
  return Error("-incoming: unsupported transport");
}

void IncomingMigration::accepted(std::unique_ptr<io::Channel> channel) {
  if (done_) return;
  // The main channel and at most kMaxMultifdChannels page channels.
  if (++accepted_ > kMaxMultifdChannels + 1) {
    (void)channel->close();
    return;
  }
  Expected<TlsSettings> settings = tls_ ? tls_() : Expected<TlsSettings>(TlsSettings());
  if (!settings) return fail(settings.error());
  if (!settings->credentials) return add_channel(std::move(channel));
  if (uri_.kind == MigrationUri::Kind::kFile) {
    return fail(Error("TLS is not available for file: migration"));
  }
  Expected<std::unique_ptr<io::TlsChannel>> tls =
      io::TlsChannel::create_server(std::move(channel), settings->credentials);
  if (!tls) return fail(tls.error().with_context("TLS"));
  io::TlsChannel* raw = tls->get();
  handshaking_.push_back(std::move(*tls));
  std::weak_ptr<bool> alive = alive_;
  raw->start_handshake(loop_, [this, alive, raw](Error error) {
    if (auto held = alive.lock(); !held || !*held) return;
    std::unique_ptr<io::Channel> ready;
    for (auto it = handshaking_.begin(); it != handshaking_.end(); ++it) {
      if (it->get() == raw) {
        ready = std::move(*it);
        handshaking_.erase(it);
        break;
      }
    }
    if (!ready || done_) return;
    if (!error.ok()) return fail(error.with_context("TLS handshake with the source"));
    add_channel(std::move(ready));
  });
}

void IncomingMigration::add_channel(std::unique_ptr<io::Channel> channel) {
  if (done_) return;
  if (Error error = channel->set_blocking(false); !error.ok()) return fail(error);
  (void)channel->set_delay(false);  // the answers to the source go at once
  auto connection = std::make_unique<Connection>();
  connection->channel = std::move(channel);
  connection->id = loader_->add_connection();
  connections_.push_back(std::move(connection));
  log_printf(LogCategory::kMigration, "incoming migration: connection %zu (%s)",
             connections_.size(), connections_.back()->channel->name().c_str());
  set_status(MigrationStatus::kActive);
  update_watches();
}

bool IncomingMigration::read_some(Connection& connection) {
  size_t budget = kReadBudget;
  while (budget > 0 && !done_ && loader_->wants_input(connection.id)) {
    std::span<uint8_t> room = loader_->input_space(connection.id, kReadChunk);
    io::IoResult result = connection.channel->read(room.data(), std::min(room.size(), kReadChunk));
    if (result.is_bytes()) {
      budget -= std::min(budget, result.count());
      if (Error error = loader_->commit_input(connection.id, result.count()); !error.ok()) {
        fail(error);
        return false;
      }
      continue;
    }
    if (result.is_would_block()) return true;
    if (result.is_eof()) {
      connection.eof = true;
      if (Error error = loader_->end_of_input(connection.id); !error.ok()) {
        fail(error);
        return false;
      }
      return true;
    }
    Error error = result.error();
    if (io::is_tls_premature_eof(error)) {
      error = Error("the source's TLS stream was cut (the connection ended without close_notify)");
    }
    fail(error.with_context("reading the migration stream"));
    return false;
  }
  return true;
}

void IncomingMigration::update_watches() {
  if (done_) return;
  std::weak_ptr<bool> alive = alive_;
  for (auto& owned : connections_) {
    Connection& connection = *owned;
    const bool want = !connection.eof && loader_->wants_input(connection.id);
    if (want && connection.watch == 0) {
      Connection* raw = &connection;
      connection.watch =
          connection.channel->create_watch(loop_, io::kIn, [this, alive, raw](uint32_t) {
            if (auto held = alive.lock(); !held || !*held) return false;
            if (!read_some(*raw)) return false;  // failed: fail() removed everything
            update_watches();
            check_complete();
            return true;
          });
    } else if (!want && connection.watch != 0) {
      loop_.remove_watch(connection.watch);
      connection.watch = 0;
    }
  }
}

Error IncomingMigration::answer(uint8_t byte) {
  const StreamConfig* config = loader_->config();
  std::optional<unsigned> main = loader_->main_connection();
  if (!config || !(config->flags & kConfigFlagAcknowledge) || !main) return Error();
  for (auto& connection : connections_) {
    if (connection->id != *main) continue;
    if (Error error = io::write_all(*connection->channel, &byte, 1); !error.ok()) {
      return error.with_context("answering the source");
    }
  }
  return Error();
}

void IncomingMigration::check_complete() {
  if (done_) return;
  // Every channel delivered a pass: the source may go on.
  while (answered_passes_ < loader_->counters().passes) {
    ++answered_passes_;
    if (Error error = answer(kPassAcknowledgement); !error.ok()) return fail(error);
  }
  if (!loader_->complete()) return;
  if (!acknowledged_) {
    log_printf(LogCategory::kMigration, "incoming migration: stream complete after %.3f ms",
               static_cast<double>(now_us() - start_us_) / 1e3);
    // Everything arrived and checked out: tell a source that waits for it.
    acknowledged_ = true;
    if (Error error = answer(kStreamAcknowledgement); !error.ok()) return fail(error);
  }
  if (!loader_->all_at_end_of_input()) return;
  done_ = true;
  end_us_ = now_us();
  for (auto& connection : connections_) {
    if (connection->watch) loop_.remove_watch(connection->watch);
    connection->watch = 0;
  }
  if (listener_) listener_->disconnect();
  loader_->commit();
  const LoadCounters& counters = loader_->counters();
  log_printf(LogCategory::kMigration,
             "incoming migration: loaded %llu bytes, %llu pages, %llu zero pages, %u passes",
             static_cast<unsigned long long>(counters.bytes),
             static_cast<unsigned long long>(counters.normal_pages),
             static_cast<unsigned long long>(counters.zero_pages), counters.passes);
  set_status(MigrationStatus::kCompleted);
  if (listeners_.finished) {
    auto finished = listeners_.finished;
    finished(Error());
  }
}

void IncomingMigration::fail(Error error) {
  if (done_) return;
  done_ = true;
  end_us_ = now_us();
  error_ = error.message();
  for (auto& connection : connections_) {
    if (connection->watch) loop_.remove_watch(connection->watch);
    connection->watch = 0;
    (void)connection->channel->close();
  }
  if (listener_) listener_->disconnect();
  set_status(MigrationStatus::kFailed);
  if (listeners_.finished) {
    auto finished = listeners_.finished;
    finished(error);
  }
}

MigrationStats IncomingMigration::stats() const {
  MigrationStats stats;
  stats.incoming = true;
  stats.status = status_;
  stats.error = error_;
  stats.total_us = (done_ ? end_us_ : now_us()) - start_us_;
  const LoadCounters& counters = loader_->counters();
  stats.ram_transferred = counters.bytes;
  stats.ram_total = ram_total_;
  stats.normal_pages = counters.normal_pages;
  stats.zero_pages = counters.zero_pages;
  stats.passes = counters.passes;
  stats.socket_address = listen_address();
  return stats;
}

void write_back_loaded_flash(std::span<const StateSection> sections,
                             std::span<const RamBlock> blocks,
                             const std::vector<std::vector<bool>>& touched) {
  for (const StateSection& section : sections) {
    auto* flash = dynamic_cast<FlashDevice*>(section.object);
    if (flash == nullptr || flash->backing() == nullptr) continue;
    for (size_t b = 0; b < blocks.size() && b < touched.size(); ++b) {
      if (blocks[b].base != flash->base()) continue;
      // Runs of touched pages become one change each.
      const std::vector<bool>& pages = touched[b];
      size_t p = 0;
      while (p < pages.size()) {
        if (!pages[p]) {
          ++p;
          continue;
        }
        size_t end = p;
        while (end < pages.size() && pages[end]) ++end;
        flash->backing()->changed(flash->contents(), static_cast<uint32_t>(p * kPageSize),
                                  static_cast<uint32_t>((end - p) * kPageSize));
        p = end;
      }
    }
  }
}

}  // namespace cr16::migration
