// What the monitors report about the machine and themselves: the query-*
// commands QMP clients discover a VM with (name, target, machines, CPUs,
// character devices, events, commands), qmp_capabilities's table entry, and
// HMP's info mtree, info qtree and info irq.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "cpu/cpu.h"
#include "cpu/engines.h"
#include "system/monitor/commands.h"
#include "system/monitor/events.h"

namespace cr16::system::monitor {

namespace {

constexpr const char* kTargetArchitecture = "cr16";

std::string hex(uint64_t value, unsigned digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%0*" PRIx64, static_cast<int>(digits), value);
  return text;
}

// ---- qmp_capabilities (QMP only; the session negotiates, see qmp.cpp)

Expected<Value> do_qmp_capabilities(CommandContext&, const Value&) {
  return Error("Capabilities negotiation is already complete, command ignored");
}

// ---- query-commands, query-events

Expected<Value> do_query_commands(CommandContext&, const Value&) {
  Value list = Value::list();
  for (const Command& command : commands()) {
    if (command.qmp) list.push(Value::dict().set("name", Value::string(command.name)));
  }
  return list;
}

Expected<Value> do_query_events(CommandContext&, const Value&) {
  Value list = Value::list();
  for (const std::string& name : known_events()) {
    list.push(Value::dict().set("name", Value::string(name)));
  }
  return list;
}

// ---- query-name / info name

Expected<Value> do_query_name(CommandContext& context, const Value&) {
  Value result = Value::dict();
  const std::string name = context.control.vm_name();
  if (!name.empty()) result.set("name", Value::string(name));
  return result;
}

std::string format_name(const Value& result, const Value&) {
  const Value* name = result.find("name");
  return name == nullptr ? "" : name->as_string() + "\n";
}

// ---- query-target

Expected<Value> do_query_target(CommandContext&, const Value&) {
  return Value::dict().set("arch", Value::string(kTargetArchitecture));
}

// ---- query-machines

std::string cpu_type_name(CpuModel model) {
  return std::string(cpu_model_name(model)) + "-" + kTargetArchitecture + "-cpu";
}

Expected<Value> do_query_machines(CommandContext&, const Value&) {
  Value list = Value::list();
  for (const BoardType* type : board_types()) {
    Value machine =
        Value::dict()
            .set("hotpluggable-cpus", Value::boolean(false))
            .set("name", Value::string(type->name))
            .set("numa-mem-supported", Value::boolean(false))
            .set("default-cpu-type", Value::string(cpu_type_name(type->limits.default_cpu)))
            .set("cpu-max", Value::integer(1))
            .set("deprecated", Value::boolean(false))
            .set("default-ram-id", Value::string("ram"));
    if (type->is_default) machine.set("is-default", Value::boolean(true));
    list.push(std::move(machine));
  }
  return list;
}

// ---- query-cpus-fast / info cpus

Expected<Value> do_query_cpus_fast(CommandContext& context, const Value&) {
  return Value::list().push(Value::dict()
                                .set("thread-id", Value::integer(context.control.cpu_thread_id()))
                                .set("qom-path", Value::string("/machine/unattached/device[0]"))
                                .set("cpu-index", Value::integer(0))
                                .set("target", Value::string(kTargetArchitecture)));
}

std::string format_cpus(const Value& result, const Value&) {
  std::string text;
  for (const Value& cpu : result.as_list()) {
    text += "* CPU #" + std::to_string(cpu.int_or("cpu-index", 0)) +
            ": thread_id=" + std::to_string(cpu.int_or("thread-id", 0)) + "\n";
  }
  return text;
}

// ---- query-accelerators, info jit

Expected<Value> do_query_accelerators(CommandContext& context, const Value&) {
  Value present = Value::list();
  for (const EngineKindInfo& info : engine_kinds()) {
    if (engine_available(info.kind)) present.push(Value::string(info.name));
  }
  return Value::dict()
      .set("enabled", Value::string(engine_kind_name(context.control.accelerator().kind)))
      .set("present", std::move(present));
}

Expected<Value> do_info_jit(CommandContext& context, const Value&) {
  const AcceleratorInfo info = context.control.accelerator();
  const EngineStatistics& statistics = info.statistics;
  auto integer = [](uint64_t value) { return Value::integer(static_cast<int64_t>(value)); };
  return Value::dict()
      .set("engine", Value::string(engine_kind_name(info.kind)))
      .set("code-cache-size", integer(statistics.code_cache_bytes))
      .set("code-cache-used", integer(statistics.code_cache_used))
      .set("translations", integer(statistics.translations))
      .set("cached-blocks", integer(statistics.cached_blocks))
      .set("invalidations", integer(statistics.invalidations))
      .set("flushes", integer(statistics.flushes));
}

std::string format_jit(const Value& result, const Value&) {
  std::string text = "engine: " + result.find("engine")->as_string() + "\n";
  text += "code cache: " + std::to_string(result.int_or("code-cache-used", 0)) + " of " +
          std::to_string(result.int_or("code-cache-size", 0)) + " bytes used\n";
  text += "blocks translated: " + std::to_string(result.int_or("translations", 0)) + "\n";
  text += "blocks cached: " + std::to_string(result.int_or("cached-blocks", 0)) + "\n";
  text += "blocks invalidated: " + std::to_string(result.int_or("invalidations", 0)) + "\n";
  text += "flushes: " + std::to_string(result.int_or("flushes", 0)) + "\n";
  return text;
}

// ---- query-chardev / info chardev

Expected<Value> do_query_chardev(CommandContext& context, const Value&) {
  Value list = Value::list();
  for (const CharDeviceInfo& device : context.control.char_devices()) {
    list.push(Value::dict()
                  .set("frontend-open", Value::boolean(device.frontend_open))
                  .set("filename", Value::string(device.filename))
                  .set("label", Value::string(device.label)));
  }
  return list;
}

std::string format_chardev(const Value& result, const Value&) {
  std::string text;
  for (const Value& device : result.as_list()) {
    text +=
        device.string_or("label", "?") + ": filename=" + device.string_or("filename", "") + "\n";
  }
  return text;
}

// ---- info mtree: the memory map

const char* region_kind_name(RegionKind kind) {
  switch (kind) {
    case RegionKind::kRam:
      return "ram";
    case RegionKind::kRom:
      return "rom";
    case RegionKind::kRomDevice:
      return "romd";
    case RegionKind::kMmio:
      return "i/o";
  }
  return "?";
}

Expected<Value> do_info_mtree(CommandContext& context, const Value&) {
  Value list = Value::list();
  for (const RegionInfo& region : context.control.memory_regions()) {
    list.push(Value::dict()
                  .set("name", Value::string(region.name))
                  .set("kind", Value::string(region_kind_name(region.kind)))
                  .set("base", Value::integer(region.base))
                  .set("size", Value::integer(region.size))
                  .set("priority", Value::integer(region.priority)));
  }
  return list;
}

std::string format_mtree(const Value& result, const Value&) {
  std::string text = "address-space: memory\n  000000-ffffff (prio 0, container): system\n";
  for (const Value& region : result.as_list()) {
    const auto base = static_cast<uint64_t>(region.int_or("base", 0));
    const auto size = static_cast<uint64_t>(region.int_or("size", 0));
    text += "    " + hex(base, 6) + "-" + hex(base + size - 1, 6) + " (prio " +
            std::to_string(region.int_or("priority", 0)) + ", " + region.string_or("kind", "?") +
            "): " + region.string_or("name", "?") + "\n";
  }
  return text;
}

// ---- info qtree: the devices, their windows and their state

Expected<Value> do_info_qtree(CommandContext& context, const Value&) {
  Value devices = Value::list();
  for (const BoardDevice& device : context.control.devices()) {
    devices.push(Value::dict()
                     .set("name", Value::string(device.name))
                     .set("type", Value::string(device.type))
                     .set("base", Value::integer(device.base))
                     .set("size", Value::integer(device.size)));
  }
  Value sections = Value::list();
  for (const StateSection& section : context.control.state_sections()) {
    Value fields = Value::dict();
    const StateDescription& description = section.object->state_description();
    state_for_each_scalar(
        description, section.object->state_data(),
        [&fields](const std::string& path, const StateField& field, const void* base,
                  uint32_t index) {
          fields.set(path,
                     Value::integer(static_cast<int64_t>(state_field_get(field, base, index))));
        });
    sections.push(Value::dict()
                      .set("section", Value::string(section.label()))
                      .set("version", Value::integer(description.version))
                      .set("fields", std::move(fields)));
  }
  return Value::dict()
      .set("machine", Value::string(context.control.machine_name()))
      .set("cpu", Value::string(cpu_model_name(context.control.cpu_model())))
      .set("devices", std::move(devices))
      .set("state", std::move(sections));
}

std::string format_qtree(const Value& result, const Value&) {
  std::string text = "bus: main-system-bus\n  type System\n";
  text += "  dev: " + result.string_or("cpu", "?") + "-cpu, id \"cpu0\"\n";
  for (const Value& device : result.find("devices")->as_list()) {
    const auto base = static_cast<uint64_t>(device.int_or("base", 0));
    const auto size = static_cast<uint64_t>(device.int_or("size", 0));
    text += "  dev: " + device.string_or("type", "?") + ", id \"" + device.string_or("name", "?") +
            "\"\n    mmio " + hex(base, 6) + "/" + hex(size, 6) + "\n";
  }
  for (const Value& section : result.find("state")->as_list()) {
    text += "  state " + section.string_or("section", "?") + " (version " +
            std::to_string(section.int_or("version", 0)) + ")\n";
    const Value* fields = section.find("fields");
    if (fields == nullptr) continue;
    std::string line;
    for (const auto& [name, value] : fields->as_dict()) {
      const std::string item = name + "=0x" + hex(static_cast<uint64_t>(value.as_int()), 1);
      if (!line.empty() && line.size() + item.size() > 72) {
        text += "    " + line + "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + item;
    }
    if (!line.empty()) text += "    " + line + "\n";
  }
  return text;
}

// ---- info irq: the interrupt controller's lines

// A field of the interrupt controller's section ("icu.0"), or 0.
uint64_t icu_field(const StateSection& section, const char* name, uint32_t index = 0) {
  const StateField* field = state_field_find(section.object->state_description(), name);
  if (field == nullptr || index >= field->count) return 0;
  return state_field_get(*field, section.object->state_data(), index);
}

Expected<Value> do_info_irq(CommandContext& context, const Value&) {
  for (const StateSection& section : context.control.state_sections()) {
    if (section.name != "icu") continue;
    const uint64_t raw = icu_field(section, "raw");
    const uint64_t enable = icu_field(section, "enable");
    const uint64_t soft = icu_field(section, "soft");
    Value lines = Value::list();
    for (unsigned line = 0; line < 32; ++line) {
      const uint64_t bit = uint64_t{1} << line;
      const uint64_t priorities = icu_field(section, "priority", line / 8);
      lines.push(Value::dict()
                     .set("line", Value::integer(line))
                     .set("level", Value::boolean((raw & bit) != 0))
                     .set("soft", Value::boolean((soft & bit) != 0))
                     .set("enabled", Value::boolean((enable & bit) != 0))
                     .set("priority", Value::integer(static_cast<int64_t>(
                                          (priorities >> ((line % 8) * 4)) & 0xF))));
    }
    return Value::dict()
        .set("controller", Value::string(section.label()))
        .set("nmi-status", Value::integer(static_cast<int64_t>(icu_field(section, "nmi_status"))))
        .set("lines", std::move(lines));
  }
  return Error("this machine has no interrupt controller to show");
}

std::string format_irq(const Value& result, const Value&) {
  std::string text = "interrupt controller " + result.string_or("controller", "?") +
                     " (lines that are raised, latched or enabled):\n";
  bool any = false;
  for (const Value& line : result.find("lines")->as_list()) {
    const bool level = line.bool_or("level", false);
    const bool soft = line.bool_or("soft", false);
    const bool enabled = line.bool_or("enabled", false);
    if (!level && !soft && !enabled) continue;
    any = true;
    char row[96];
    std::snprintf(row, sizeof row,
                  "  irq %2" PRId64 ": level %d soft %d enabled %d priority %" PRId64
                  " -> vector %" PRId64 "%s\n",
                  line.int_or("line", 0), level, soft, enabled, line.int_or("priority", 0),
                  16 + line.int_or("line", 0), (level || soft) && enabled ? " (pending)" : "");
    text += row;
  }
  if (!any) text += "  (none)\n";
  text += "nmi status: 0x" + hex(static_cast<uint64_t>(result.int_or("nmi-status", 0)), 1) + "\n";
  return text;
}

constexpr Parameter kCapabilitiesParameters[] = {{"enable", ParameterType::kList, true}};

constexpr Command kCommands[] = {
    {"qmp_capabilities", nullptr, true, kCapabilitiesParameters, "",
     "leave capabilities negotiation (QMP only)", do_qmp_capabilities, nullptr},
    {"query-commands", nullptr, true, {}, "", "list the QMP commands", do_query_commands, nullptr},
    {"query-events", nullptr, true, {}, "", "list the QMP events", do_query_events, nullptr},
    {"query-name",
     "info name",
     true,
     {},
     "",
     "show the VM's name (-name)",
     do_query_name,
     format_name},
    {"query-target",
     nullptr,
     true,
     {},
     "",
     "show the target architecture",
     do_query_target,
     nullptr},
    {"query-machines", nullptr, true, {}, "", "list the machine types", do_query_machines, nullptr},
    {"query-cpus-fast",
     "info cpus",
     true,
     {},
     "",
     "show the CPUs",
     do_query_cpus_fast,
     format_cpus},
    {"query-accelerators",
     nullptr,
     true,
     {},
     "",
     "show the CPU execution engine in use and the ones available",
     do_query_accelerators,
     nullptr},
    {"info jit",
     "info jit",
     false,
     {},
     "",
     "show the execution engine and its code cache",
     do_info_jit,
     format_jit},
    {"query-chardev",
     "info chardev",
     true,
     {},
     "",
     "show the character devices",
     do_query_chardev,
     format_chardev},
    {"info mtree", "info mtree", false, {}, "", "show the memory map", do_info_mtree, format_mtree},
    {"info qtree",
     "info qtree",
     false,
     {},
     "",
     "show the devices and their state",
     do_info_qtree,
     format_qtree},
    {"info irq",
     "info irq",
     false,
     {},
     "",
     "show the interrupt controller's lines",
     do_info_irq,
     format_irq},
};

}  // namespace

std::span<const Command> info_commands() {
  return kCommands;
}

}  // namespace cr16::system::monitor
