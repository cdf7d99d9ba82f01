// The values monitor commands take and return: null, bool, integer, string,
// list, dictionary (ordered) and floating-point number, i.e. what QMP's JSON
// carries. Command handlers build them; each front end formats them its own
// way (HMP text, QMP JSON through json.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace cr16::system::monitor {

class Value {
 public:
  // The order follows Storage's alternatives (kDouble came last).
  enum class Type : uint8_t { kNull, kBool, kInt, kString, kList, kDict, kDouble };
  using List = std::vector<Value>;
  using Dict = std::vector<std::pair<std::string, Value>>;  // members in insertion order

  Value() = default;  // null
  static Value boolean(bool value) { return Value(Storage(value)); }
  static Value integer(int64_t value) { return Value(Storage(value)); }
  static Value string(std::string value) { return Value(Storage(std::move(value))); }
  static Value list() { return Value(Storage(List{})); }
  static Value dict() { return Value(Storage(Dict{})); }
  /// Ready-made contents (the JSON parser; keys are not checked for duplicates).
  static Value list(List items) { return Value(Storage(std::move(items))); }
  static Value dict(Dict members) { return Value(Storage(std::move(members))); }
  /// A JSON number with a fraction or an exponent, or an integer literal
  /// too large for int64 (QMP parses those as doubles, as QEMU does).
  static Value number(double value) { return Value(Storage(value)); }

  Type type() const { return static_cast<Type>(storage_.index()); }
  bool is_null() const { return type() == Type::kNull; }

  /// The contents; calling the accessor of another type is a programming
  /// error (std::bad_variant_access).
  bool as_bool() const { return std::get<bool>(storage_); }
  int64_t as_int() const { return std::get<int64_t>(storage_); }
  const std::string& as_string() const { return std::get<std::string>(storage_); }
  const List& as_list() const { return std::get<List>(storage_); }
  const Dict& as_dict() const { return std::get<Dict>(storage_); }
  double as_double() const { return std::get<double>(storage_); }

  /// Dictionary member `key`, or nullptr (also when this is not a dict).
  const Value* find(std::string_view key) const;
  /// Dictionary member `key` as an integer/string/bool, or `fallback`.
  int64_t int_or(std::string_view key, int64_t fallback) const;
  std::string string_or(std::string_view key, std::string fallback) const;
  bool bool_or(std::string_view key, bool fallback) const;

  /// Builders: set() adds or replaces a dictionary member (this must be a
  /// dict); push() appends to a list. Both return *this for chaining.
  Value& set(std::string key, Value value);
  Value& push(Value value);

  bool operator==(const Value& other) const { return storage_ == other.storage_; }

 private:
  using Storage = std::variant<std::monostate, bool, int64_t, std::string, List, Dict, double>;
  explicit Value(Storage storage) : storage_(std::move(storage)) {}
  Storage storage_;
};

}  // namespace cr16::system::monitor
