// MachineControl on a real machine: run states and their notifications,
// stop/cont/step/reset/powerdown/quit, registers and memory without device
// side effects, a guest panic, and a vCPU blocked on a host fd that a main
// loop watch resumes while the VM stays controllable.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "hw/board.h"
#include "hw/virt_map.h"
#include "hw/virtual_clock.h"
#include "machine_test_helpers.h"
#include "system/machine_control.h"
#include "system/monitor/events.h"

namespace cr16::system {
namespace {

using test::kCounterProgram;
using test::kSvcLoopProgram;
using test::MachineFixture;

using ControlTest = MachineFixture;

TEST_F(ControlTest, DashSStartsInPrelaunchAndContStartsTheGuest) {
  Machine& machine = make(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  std::vector<std::pair<RunState, RunState>> changes;
  control.add_state_listener([&](RunState from, RunState to) { changes.emplace_back(from, to); });
  EXPECT_EQ(control.run_state(), RunState::kPrelaunch);
  uint64_t before_cont = 1;
  uint64_t after_cont = 0;
  at(30, [&] {
    before_cont = machine.instruction_count();
    EXPECT_EQ(machine.clock().now_ns(), 0);  // guest time has not started
    EXPECT_TRUE(control.cont().ok());
    when([&] { return machine.instruction_count() > 1000; },
         [&] {
           after_cont = machine.instruction_count();
           control.quit();
         });
  });
  EXPECT_EQ(run_with_limit(), 0);
  EXPECT_EQ(before_cont, 0u);
  EXPECT_GT(after_cont, 1000u);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.front(), std::make_pair(RunState::kPrelaunch, RunState::kRunning));
}

TEST_F(ControlTest, StopFreezesTheGuestAndItsTimeAndContResumes) {
  Machine& machine = make(kCounterProgram);
  MachineControl& control = machine.control();
  std::vector<std::pair<RunState, RunState>> changes;
  control.add_state_listener([&](RunState from, RunState to) { changes.emplace_back(from, to); });
  uint64_t stopped_count = 0;
  int64_t stopped_time = 0;
  // Each step waits for what it needs (the guest running, then having run
  // again), never for a guessed time: slices are slow under a sanitizer.
  when([&] { return machine.instruction_count() > 0; },
       [&] {
         EXPECT_EQ(control.run_state(), RunState::kRunning);
         EXPECT_TRUE(control.stop().ok());
         EXPECT_EQ(control.run_state(), RunState::kPaused);
         EXPECT_TRUE(control.stop().ok());  // stopping a stopped VM changes nothing
         stopped_count = machine.instruction_count();
         stopped_time = machine.clock().now_ns();
         at(40, [&] {  // 40 ms of loop iterations while stopped
           EXPECT_EQ(machine.instruction_count(), stopped_count);  // the guest did nothing
           EXPECT_EQ(machine.clock().now_ns(), stopped_time);      // and its time stood still
           EXPECT_TRUE(control.cont().ok());
           when([&] { return machine.instruction_count() > stopped_count; },
                [&] {
                  EXPECT_GT(machine.clock().now_ns(), stopped_time);
                  control.quit();
                });
         });
       });
  EXPECT_EQ(run_with_limit(), 0);
  EXPECT_EQ(changes,
            (std::vector<std::pair<RunState, RunState>>{{RunState::kPrelaunch, RunState::kRunning},
                                                        {RunState::kRunning, RunState::kPaused},
                                                        {RunState::kPaused, RunState::kRunning}}));
}

TEST_F(ControlTest, StepRunsExactlyTheAskedInstructionsWhileStopped) {
  Machine& machine = make(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  Expected<StopReason> reason = control.step(5);
  ASSERT_TRUE(reason) << reason.error().message();
  EXPECT_EQ(*reason, StopReason::kBudget);
  EXPECT_EQ(machine.instruction_count(), 5u);
  // movw, then (addw, br) twice: r4 == 2 and the PC is back at the addw.
  EXPECT_EQ(*control.read_register("r4"), 2u);
  EXPECT_EQ(*control.read_register("pc"), 2u);
  EXPECT_EQ(control.run_state(), RunState::kPrelaunch);  // stepping changes no state
  ASSERT_TRUE(control.vm_start().ok());
  Expected<StopReason> while_running = control.step(1);
  ASSERT_FALSE(while_running);
  EXPECT_NE(while_running.error().message().find("running"), std::string::npos);
}

TEST_F(ControlTest, RegistersByTheirDescriptionNames) {
  Machine& machine = make(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  std::vector<RegisterValue> registers = control.registers();
  ASSERT_GE(registers.size(), 20u);
  EXPECT_EQ(registers[0].name, "r0");
  EXPECT_EQ(registers[0].bits, 16u);
  auto find = [&](const std::string& name) {
    for (const RegisterValue& reg : registers) {
      if (reg.name == name) return reg;
    }
    return RegisterValue{};
  };
  EXPECT_EQ(find("pc").bits, 24u);
  EXPECT_EQ(find("sp").bits, 32u);
  EXPECT_EQ(find("psr").bits, 16u);

  ASSERT_TRUE(control.write_register("r4", 0x1234).ok());
  EXPECT_EQ(*control.read_register("r4"), 0x1234u);
  EXPECT_EQ(machine.board().cpu().state().r[4], 0x1234u);
  Error odd_pc = control.write_register("pc", 0x101);
  EXPECT_FALSE(odd_pc.ok());  // the PC is even
  EXPECT_NE(odd_pc.message().find("pc"), std::string::npos);
  EXPECT_FALSE(control.write_register("r4", 0x10000).ok());  // r0-r11 are 16-bit
  EXPECT_EQ(*control.read_register("r4"), 0x1234u);          // refused: unchanged
  Expected<uint64_t> unknown = control.read_register("r99");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), "unknown register 'r99'");
  ASSERT_TRUE(control.write_register("pc", 0x100).ok());
  EXPECT_EQ(machine.board().cpu().state().pc, 0x100u);
  // psr goes through the CPU's setter: setting U switches to the user stack.
  machine.board().cpu().state().r[kRegSp] = 0x2000;  // supervisor SP
  machine.board().cpu().state().banked_sp = 0x3000;  // user SP
  ASSERT_TRUE(control.write_register("psr", psr::kU).ok());
  EXPECT_EQ(machine.board().cpu().state().r[kRegSp], 0x3000u);
}

TEST_F(ControlTest, MemoryIsReadAndWrittenWithoutTouchingDevices) {
  Machine& machine = make(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  std::vector<uint8_t> bytes(6);
  ASSERT_TRUE(control.read_memory(0, bytes).ok());
  EXPECT_EQ(bytes, kCounterProgram);
  const uint8_t pattern[] = {1, 2, 3, 4};
  ASSERT_TRUE(control.write_memory(0x1000, pattern).ok());
  std::vector<uint8_t> back(4);
  ASSERT_TRUE(control.read_memory(0x1000, back).ok());
  EXPECT_EQ(back, std::vector<uint8_t>(pattern, pattern + 4));
  // Device registers are peeked: every device window reads, and no
  // device's state changes (no FIFO pop, no acknowledge, no latch).
  auto device_bytes = [&] {
    std::vector<uint8_t> all;
    for (const StateSection& section : machine.board().state_sections()) {
      if (section.name == "cpu") continue;
      const auto* data = static_cast<const uint8_t*>(section.object->state_data());
      all.insert(all.end(), data, data + section.object->state_description().object_size);
    }
    return all;
  };
  const std::vector<uint8_t> devices_before = device_bytes();
  std::vector<uint8_t> window(0x700);
  ASSERT_TRUE(control.read_memory(virt::kSysctlBase, window).ok());
  std::vector<uint8_t> icu(0x400);
  ASSERT_TRUE(control.read_memory(virt::kIcuBase, icu).ok());
  EXPECT_EQ(device_bytes(), devices_before);
  EXPECT_EQ(window[0] | window[1] << 8 | window[2] << 16 | uint32_t{window[3]} << 24,
            virt::kSysBoardIdValue);
  // Nothing answers in the gap below the devices: the error names it.
  Error error = control.read_memory(0xF00000, back);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("f00000"), std::string::npos) << error.message();
  // The flash is ROM for writers; past 24 bits is nothing.
  EXPECT_FALSE(control.write_memory(virt::kFlashBase, pattern).ok());
  EXPECT_FALSE(control.read_memory(0xFFFFFE, back).ok());
  // Code written over the program is what runs next (no stale predecoded block).
  ASSERT_TRUE(control.step(3).ok());         // movw, addw, br: r4 == 1
  const uint8_t add_three[] = {0x34, 0x32};  // addw $0x3:s, r4
  ASSERT_TRUE(control.write_memory(2, add_three).ok());
  ASSERT_TRUE(control.step(1).ok());
  EXPECT_EQ(*control.read_register("r4"), 4u);
}

TEST_F(ControlTest, ResetWhileStoppedGoesToPrelaunchAndEveryCommandIsAnEvent) {
  Machine& machine = make(kCounterProgram);
  MachineControl& control = machine.control();
  std::vector<MachineEvent> events;
  control.add_event_listener([&](const MachineEvent& event) { events.push_back(event); });
  at(20, [&] {
    ASSERT_TRUE(control.stop().ok());
    ASSERT_TRUE(control.reset().ok());
    EXPECT_EQ(control.run_state(), RunState::kPrelaunch);
    EXPECT_EQ(machine.board().cpu().state().pc, 0u);  // the kernel's entry
    ASSERT_TRUE(control.powerdown().ok());
    ASSERT_TRUE(control.cont().ok());
  });
  at(40, [&] {
    ASSERT_TRUE(control.reset().ok());  // while running: stays running
    EXPECT_EQ(control.run_state(), RunState::kRunning);
    control.quit();
  });
  EXPECT_EQ(run_with_limit(), 0);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, MachineEvent::Kind::kReset);
  EXPECT_EQ(events[0].cause, ShutdownCause::kHostQmpSystemReset);
  EXPECT_EQ(events[1].kind, MachineEvent::Kind::kPowerdown);
  EXPECT_EQ(events[2].kind, MachineEvent::Kind::kReset);
  EXPECT_EQ(events[3].kind, MachineEvent::Kind::kShutdown);
  EXPECT_EQ(events[3].cause, ShutdownCause::kHostQmpQuit);
  EXPECT_STREQ(shutdown_cause_name(events[3].cause), "host-qmp-quit");
  EXPECT_FALSE(shutdown_cause_is_guest(ShutdownCause::kHostQmpQuit));
  EXPECT_TRUE(shutdown_cause_is_guest(ShutdownCause::kGuestPanic));
}

TEST_F(ControlTest, TheEventBusReportsQemusEventsWithTheirMembers) {
  Machine& machine = make(kCounterProgram);
  MachineControl& control = machine.control();
  std::vector<monitor::Event> events;
  control.events().add([&](const monitor::Event& event) { events.push_back(event); });
  at(20, [&] {
    ASSERT_TRUE(control.stop().ok());
    ASSERT_TRUE(control.reset().ok());
    ASSERT_TRUE(control.powerdown().ok());
    ASSERT_TRUE(control.cont().ok());
    control.quit();
  });
  EXPECT_EQ(run_with_limit(), 0);
  std::vector<std::string> names;
  for (const monitor::Event& event : events) names.push_back(event.name);
  // RESUME when the machine started running, then what the commands did.
  EXPECT_EQ(names, (std::vector<std::string>{"RESUME", "STOP", "RESET", "POWERDOWN", "RESUME",
                                             "SHUTDOWN"}));
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[2].data.find("guest")->as_bool(), false);
  EXPECT_EQ(events[2].data.find("reason")->as_string(), "host-qmp-system-reset");
  EXPECT_EQ(events[5].data.find("reason")->as_string(), "host-qmp-quit");
  EXPECT_GT(events[0].seconds, 1'600'000'000);  // wall-clock stamps, as QMP sends them
  EXPECT_LT(events[0].microseconds, 1'000'000);
  for (const std::string& name : names) {
    const auto& known = monitor::known_events();
    EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
  }
}

TEST_F(ControlTest, ContIsRefusedWhereTheVmNeedsAResetFirst) {
  Machine& machine = make(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  ASSERT_TRUE(control.vm_start().ok());
  ASSERT_TRUE(control.vm_stop(RunState::kShutdown).ok());  // as a -no-shutdown power-off does
  Error error = control.cont();
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.message(), "Resetting the Virtual Machine is required");
  ASSERT_TRUE(control.reset().ok());
  EXPECT_EQ(control.run_state(), RunState::kPrelaunch);
  EXPECT_TRUE(control.cont().ok());
  EXPECT_FALSE(control.vm_stop(RunState::kPrelaunch).ok());  // not a reason to stop for
  EXPECT_EQ(control.machine_name(), "virt");
  EXPECT_EQ(control.cpu_model(), CpuModel::kCr16cPlus);
}

TEST_F(ControlTest, GuestPanicEndsTheRunWithStatus134AndOneLine) {
  Machine& machine = make(kCounterProgram);
  MachineControl& control = machine.control();
  std::vector<MachineEvent> events;
  control.add_event_listener([&](const MachineEvent& event) { events.push_back(event); });
  std::vector<RunState> states;
  control.add_state_listener([&](RunState, RunState to) { states.push_back(to); });
  at(20, [&] { machine.guest_panicked("exception frame at 0x900000 cannot be written"); });
  testing::internal::CaptureStderr();
  int status = run_with_limit();
  std::string stderr_text = testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, Machine::kGuestPanicExitStatus);
  EXPECT_EQ(stderr_text,
            "cr16-system: guest panicked: exception frame at 0x900000 cannot be written\n");
  EXPECT_EQ(control.run_state(), RunState::kGuestPanicked);
  EXPECT_EQ(states.back(), RunState::kGuestPanicked);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, MachineEvent::Kind::kGuestPanicked);
  EXPECT_EQ(events[0].detail, "exception frame at 0x900000 cannot be written");
  EXPECT_EQ(events[1].kind, MachineEvent::Kind::kShutdown);
  EXPECT_EQ(events[1].cause, ShutdownCause::kGuestPanic);
}

// A debugger's single step runs while the VM is held in `debug`: a panic in
// that instruction still makes the state guest-panicked (it stayed `debug`).
TEST_F(ControlTest, GuestPanicWhileADebuggerHoldsTheVmIsGuestPanicked) {
  Machine& machine = make(kCounterProgram, {"-no-shutdown"});
  MachineControl& control = machine.control();
  at(20, [&] {
    ASSERT_TRUE(control.vm_stop(RunState::kDebug).ok());
    testing::internal::CaptureStderr();
    machine.guest_panicked("test");
    (void)testing::internal::GetCapturedStderr();
    EXPECT_EQ(control.run_state(), RunState::kGuestPanicked);
    control.quit();
  });
  EXPECT_EQ(run_with_limit(), 0);
}

TEST_F(ControlTest, GuestPanicWithNoShutdownStaysPaused) {
  Machine& machine = make(kCounterProgram, {"-no-shutdown"});
  MachineControl& control = machine.control();
  uint64_t count_at_panic = 0;
  at(20, [&] {
    testing::internal::CaptureStderr();
    machine.guest_panicked("test");
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "cr16-system: guest panicked: test; paused (-no-shutdown)\n");
    count_at_panic = machine.instruction_count();
  });
  at(60, [&] {
    EXPECT_EQ(control.run_state(), RunState::kGuestPanicked);
    EXPECT_EQ(machine.instruction_count(), count_at_panic);  // the CPU stays stopped
    control.quit();
  });
  EXPECT_EQ(run_with_limit(), 0);
}

// The machine-side half of non-blocking semihosting: a host call that would
// block makes the vCPU wait for an fd; the loop keeps serving everything;
// when the fd is ready the excp runs again and completes.
TEST_F(ControlTest, BlockedHostCallWaitsForItsFdWhileTheVmStaysControllable) {
  Machine& machine = make(kSvcLoopProgram);
  MachineControl& control = machine.control();
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  int calls = 0;
  uint32_t r4_at_second_call = 99;
  uint32_t r4_at_third_call = 0;
  uint32_t pc_at_second_call = 99;
  machine.set_host_call_handler([&](Cpu& cpu) {
    ++calls;
    if (calls == 1) return Machine::HostCall::wait(pipe_fds[0], POLLIN);
    if (calls == 2) {
      r4_at_second_call = cpu.state().r[4];
      pc_at_second_call = cpu.state().pc;
      uint8_t byte = 0;
      EXPECT_EQ(read(pipe_fds[0], &byte, 1), 1);
      cpu.set_reg16(0, byte);
      return Machine::HostCall::handled();
    }
    r4_at_third_call = cpu.state().r[4];
    control.quit();
    return Machine::HostCall::handled();
  });
  when([&] { return machine.vcpu_blocked(); },
       [&] {
         EXPECT_EQ(calls, 1);
         EXPECT_EQ(control.run_state(), RunState::kRunning);  // blocked, not stopped
         EXPECT_TRUE(control.stop().ok());
         EXPECT_EQ(control.run_state(), RunState::kPaused);
         std::vector<RegisterValue> registers = control.registers();  // served meanwhile
         EXPECT_FALSE(registers.empty());
         at(20, [&] {
           EXPECT_TRUE(control.cont().ok());
           at(30, [&] {
             EXPECT_EQ(calls, 1);  // still waiting: nothing to read yet
             EXPECT_TRUE(machine.vcpu_blocked());
             EXPECT_EQ(write(pipe_fds[1], "A", 1), 1);
           });
         });
       });
  EXPECT_EQ(run_with_limit(), 0);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(pc_at_second_call, 0u);  // the same excp ran again
  EXPECT_EQ(r4_at_second_call, 0u);  // nothing after it ran while blocked
  EXPECT_EQ(r4_at_third_call, 'A' + 1u);
  EXPECT_FALSE(machine.vcpu_blocked());
}

TEST_F(ControlTest, QuitAndResetEndAWaitForHostInput) {
  Machine& machine = make(kSvcLoopProgram);
  MachineControl& control = machine.control();
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  int calls = 0;
  machine.set_host_call_handler([&](Cpu&) {
    ++calls;
    return Machine::HostCall::wait(pipe_fds[0], POLLIN);
  });
  when([&] { return machine.vcpu_blocked(); },
       [&] {
         EXPECT_EQ(calls, 1);
         EXPECT_TRUE(control.reset().ok());  // the call is dropped with the CPU state
         EXPECT_FALSE(machine.vcpu_blocked());
         // The program starts again and waits again.
         when([&] { return machine.vcpu_blocked(); },
              [&] {
                EXPECT_EQ(calls, 2);
                control.quit();  // nothing to read: quitting must not wait for it
              });
       });
  EXPECT_EQ(run_with_limit(2000), 0);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

TEST_F(ControlTest, IcountTimeFollowsTheInstructionsStepped) {
  Machine& machine = make(kCounterProgram, {"-icount", "2", "-S"});
  ASSERT_TRUE(machine.control().step(100).ok());
  EXPECT_EQ(machine.clock().now_ns(), 400);  // 100 instructions << 2
  EXPECT_TRUE(machine.clock().counts_instructions());
}

}  // namespace
}  // namespace cr16::system
