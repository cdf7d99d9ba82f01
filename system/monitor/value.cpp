#include "system/monitor/value.h"

namespace cr16::system::monitor {

const Value* Value::find(std::string_view key) const {
  if (type() != Type::kDict) return nullptr;
  for (const auto& [name, value] : as_dict()) {
    if (name == key) return &value;
  }
  return nullptr;
}

int64_t Value::int_or(std::string_view key, int64_t fallback) const {
  const Value* value = find(key);
  return value && value->type() == Type::kInt ? value->as_int() : fallback;
}

std::string Value::string_or(std::string_view key, std::string fallback) const {
  const Value* value = find(key);
  return value && value->type() == Type::kString ? value->as_string() : fallback;
}

bool Value::bool_or(std::string_view key, bool fallback) const {
  const Value* value = find(key);
  return value && value->type() == Type::kBool ? value->as_bool() : fallback;
}

Value& Value::set(std::string key, Value value) {
  Dict& dict = std::get<Dict>(storage_);
  for (auto& [name, member] : dict) {
    if (name == key) {
      member = std::move(value);
      return *this;
    }
  }
  dict.emplace_back(std::move(key), std::move(value));
  return *this;
}

Value& Value::push(Value value) {
  std::get<List>(storage_).push_back(std::move(value));
  return *this;
}

}  // namespace cr16::system::monitor
