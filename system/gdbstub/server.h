// The gdbstub server: a listening socket (tcp or unix, from -gdb/-s or the
// HMP `gdbserver` command) in the machine's main loop, one debugger at a
// time, each served by a GdbSession. Output is buffered and never blocks
// the loop; a debugger that stops reading is no longer read from (its
// input waits) and is dropped when its backlog passes a limit; one that
// vanishes has its breakpoints removed and a VM it held resumed. The
// machine owns the server and calls its hooks around every CPU slice.
// Machine thread only. See docs/gdb.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.h"
#include "io/channel_socket.h"
#include "io/loop.h"
#include "io/net_listener.h"
#include "system/gdbstub/gdb_server_control.h"
#include "system/gdbstub/session.h"
#include "system/machine_control.h"
#include "system/options.h"

namespace cr16::system::gdbstub {

class GdbServer final : public GdbServerControl {
 public:
  /// Bytes read from a debugger per loop iteration (then the guest runs).
  static constexpr size_t kReadChunk = 16 * 1024;
  /// Output backlog above which the debugger's input is not read.
  static constexpr size_t kPauseInput = 64 * 1024;
  /// Output backlog at which a debugger that does not read is dropped.
  static constexpr size_t kMaxOutput = 1024 * 1024;
  /// How long a closed session waits for its peer to close (after `D`).
  static constexpr int64_t kLingerNs = 1'000'000'000;

  /// A server on `loop` for the machine behind `control` and its `cpu`
  /// (all must outlive it). `step` executes one instruction of the stopped
  /// VM with pending interrupts held (the machine's debug step; unset: the
  /// CPU's own). Not listening until start().
  GdbServer(io::Loop& loop, MachineControl& control, Cpu& cpu,
            std::function<StopReason()> step = nullptr);
  ~GdbServer() override;
  GdbServer(const GdbServer&) = delete;
  GdbServer& operator=(const GdbServer&) = delete;

  // GdbServerControl
  Error start(std::string_view device) override;
  void stop() override;
  Status status() const override;

  /// Listens on a parsed device (-gdb). A tcp server on port 0 says which
  /// port it got on stderr.
  Error start(const SerialSpec& spec);

  // ---- Hooks the machine calls (machine.cpp)

  /// The budget of the next CPU slice (1 while the debugger single-steps).
  uint64_t slice_budget(uint64_t budget) const;
  /// After each slice of a running VM: why the CPU returned and how many
  /// instructions it executed.
  void cpu_stopped(StopReason reason, uint64_t executed);
  /// The process ends with `status`: the debugger hears W or X, and gets up
  /// to 200 ms to take it.
  void machine_exiting(int status);

  /// The connected debugger's session (tests, the fuzzer), or nullptr.
  GdbSession* session();

 private:
  struct Client {
    std::unique_ptr<io::SocketChannel> channel;
    std::unique_ptr<GdbSession> session;
    io::Loop::WatchId watch = 0;
    uint32_t watch_conditions = 0;
    std::string output;
    size_t output_start = 0;
    bool closing = false;    // flush, then linger
    bool lingering = false;  // our side is shut: reading until the peer closes too
    io::Loop::TimerId linger_timer = 0;
    bool retired = false;  // dropped; destroyed from a bottom half
    std::string peer;
    std::string held;  // input not handed to the session yet (replies piled up)
    size_t pending() const { return output.size() - output_start; }
  };

  void on_client(std::unique_ptr<io::SocketChannel> channel);
  void serve(std::unique_ptr<io::SocketChannel> channel);
  void send(Client& client, std::string_view bytes);
  bool on_ready(Client& client, uint32_t revents);
  void flush(Client& client);
  void update_watch(Client& client);
  void process_held(Client& client, bool regardless);
  void linger(Client& client);
  void drop_client();

  io::Loop& loop_;
  MachineControl& control_;
  Cpu& cpu_;
  std::function<StopReason()> step_;
  std::unique_ptr<io::NetListener> listener_;
  std::string device_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<io::SocketChannel> waiting_;  // the next debugger, until client_ leaves
  std::vector<std::unique_ptr<Client>> retired_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards bottom halves
};

}  // namespace cr16::system::gdbstub
