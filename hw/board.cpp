#include "hw/board.h"

#include <algorithm>
#include <array>

#include "hw/sc14441_board.h"
#include "hw/virt_board.h"

namespace cr16 {

std::span<const BoardType* const> board_types() {
  // The default board first; a new board adds one line here.
  static const std::array<const BoardType*, 2> types = {&virt_board_type(), &sc14441_board_type()};
  return types;
}

const BoardType* find_board_type(std::string_view name) {
  for (const BoardType* type : board_types()) {
    if (name == type->name) return type;
  }
  return nullptr;
}

const BoardType& default_board_type() {
  for (const BoardType* type : board_types()) {
    if (type->is_default) return *type;
  }
  return *board_types().front();
}

std::string format_size(uint64_t bytes) {
  if (bytes != 0 && bytes % (1u << 30) == 0) return std::to_string(bytes >> 30) + "G";
  if (bytes != 0 && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes != 0 && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes) + "B";
}

Error check_ram_size(const BoardType& type, uint64_t bytes) {
  const BoardLimits& limits = type.limits;
  if (bytes < limits.ram_min || bytes > limits.ram_max ||
      (limits.ram_granule != 0 && bytes % limits.ram_granule != 0)) {
    if (limits.ram_min == limits.ram_max) {
      return Error("the " + std::string(type.name) + " board has a fixed " +
                   format_size(limits.ram_min) + " of RAM");
    }
    return Error("RAM size must be a multiple of " + format_size(limits.ram_granule) + " between " +
                 format_size(limits.ram_min) + " and " + format_size(limits.ram_max) + " on the " +
                 type.name + " board");
  }
  return Error();
}

Error check_board_property(const BoardType& type, std::string_view name, std::string_view value) {
  for (const BoardProperty& property : type.properties) {
    if (name != property.name) continue;
    if (property.check == nullptr) return Error();
    return property.check(value).with_context(std::string(name));
  }
  std::string known;
  for (const BoardProperty& property : type.properties) {
    known += known.empty() ? "" : ", ";
    known += property.name;
  }
  return Error("the " + std::string(type.name) + " board has no property '" + std::string(name) +
               "'" + (known.empty() ? " (it has none)" : " (known: " + known + ")"));
}

std::string board_help_text() {
  std::string text = "Supported machines are:\n";
  for (const BoardType* type : board_types()) {
    std::string line = type->name;
    line.resize(std::max<size_t>(line.size() + 1, 21), ' ');
    line += type->description;
    if (type->is_default) line += " (default)";
    text += line + "\n";
  }
  return text;
}

}  // namespace cr16
