// The machine as migration sees it (MigrationMachine): its memory and
// state sections, the run-state steps of a source (finish-migrate,
// postmigrate, back to running after a failure) and of a destination
// (inmigrate, then running or paused), and the guest CPU throttle of
// auto-converge.
#include <cstdio>

#include "system/machine_impl.h"
#include "system/migration_control.h"

namespace cr16::system {

struct Machine::Impl::MigrationAdapter final : public MigrationMachine {
 public:
  explicit MigrationAdapter(Machine::Impl& machine) : machine_(machine) {}

  io::Loop& loop() override { return *machine_.loop; }
  AddressSpace& memory() override { return machine_.board->memory(); }

  std::vector<StateSection> state_sections() override { return machine_.machine_sections(); }

  std::string board_name() const override { return machine_.board_type->name; }
  std::string cpu_name() const override { return cpu_model_name(machine_.board->cpu().model()); }

  Error stop_vm() override {
    before_stop_ = machine_.state_machine.state();
    if (before_stop_ == RunState::kRunning) return machine_.vm_stop(RunState::kFinishMigrate);
    return machine_.state_machine.set(RunState::kFinishMigrate);
  }

  void resume_vm() override {
    if (machine_.state_machine.state() != RunState::kFinishMigrate) return;
    if (before_stop_ == RunState::kRunning) {
      (void)machine_.vm_start();
    } else {
      (void)machine_.state_machine.set(before_stop_);
    }
  }

  void vm_migrated() override { (void)machine_.state_machine.set(RunState::kPostMigrate); }

  void set_cpu_throttle(unsigned percent) override {
    machine_.cpu_throttle_percent = percent > 99 ? 99 : percent;
  }

  Error enter_incoming() override {
    const RunState state = machine_.state_machine.state();
    if (state != RunState::kPrelaunch) {
      return Error(std::string("-incoming: the VM is ") + run_state_name(state) +
                   ", not waiting to start");
    }
    return machine_.state_machine.set(RunState::kInMigrate);
  }

  void incoming_completed() override {
    if (machine_.options.start_paused) {
      (void)machine_.state_machine.set(RunState::kPaused);
    } else {
      (void)machine_.vm_start();
    }
  }

  void incoming_failed(const std::string& why) override {
    std::fprintf(stderr, "cr16-system: incoming migration failed: %s\n", why.c_str());
    machine_.request_quit(1, ShutdownCause::kHostError);
  }

 private:
  Machine::Impl& machine_;
  RunState before_stop_ = RunState::kRunning;
};

std::unique_ptr<MigrationMachine> Machine::Impl::make_migration_machine() {
  return std::make_unique<MigrationAdapter>(*this);
}

}  // namespace cr16::system
