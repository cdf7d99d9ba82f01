#include "system/monitor/hmp_expression.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace cr16::system::monitor {

namespace {

constexpr unsigned kMaxDepth = 64;  // nested parentheses and unary operators

class Evaluator {
 public:
  Evaluator(std::string_view text, MachineControl& control) : text_(text), control_(control) {}

  Expected<int64_t> evaluate() {
    skip_space();
    if (at_end()) return Error("missing expression");
    Expected<uint64_t> value = logic(0);
    if (!value) return value.error();
    skip_space();
    if (!at_end()) return unexpected();
    return static_cast<int64_t>(*value);
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  Error unexpected() const {
    if (at_end()) return Error("unexpected end of '" + std::string(text_) + "'");
    return Error("unexpected '" + std::string(1, text_[pos_]) + "' in '" + std::string(text_) +
                 "'");
  }

  // & | ^, left to right.
  Expected<uint64_t> logic(unsigned depth) {
    Expected<uint64_t> left = sum(depth);
    if (!left) return left;
    uint64_t value = *left;
    while (true) {
      skip_space();
      const char op = peek();
      if (op != '&' && op != '|' && op != '^') return value;
      ++pos_;
      Expected<uint64_t> right = sum(depth);
      if (!right) return right;
      value = op == '&' ? value & *right : op == '|' ? value | *right : value ^ *right;
    }
  }

  // + -, left to right.
  Expected<uint64_t> sum(unsigned depth) {
    Expected<uint64_t> left = product(depth);
    if (!left) return left;
    uint64_t value = *left;
    while (true) {
      skip_space();
      const char op = peek();
      if (op != '+' && op != '-') return value;
      ++pos_;
      Expected<uint64_t> right = product(depth);
      if (!right) return right;
      value = op == '+' ? value + *right : value - *right;
    }
  }

  // * / %, left to right; division is signed, as QEMU's.
  Expected<uint64_t> product(unsigned depth) {
    Expected<uint64_t> left = unary(depth);
    if (!left) return left;
    uint64_t value = *left;
    while (true) {
      skip_space();
      const char op = peek();
      if (op != '*' && op != '/' && op != '%') return value;
      ++pos_;
      Expected<uint64_t> right = unary(depth);
      if (!right) return right;
      if (op == '*') {
        value *= *right;
        continue;
      }
      const auto dividend = static_cast<int64_t>(value);
      const auto divisor = static_cast<int64_t>(*right);
      if (divisor == 0) return Error("division by zero");
      if (divisor == -1) {  // INT64_MIN / -1 overflows: wrap instead
        value = op == '/' ? 0 - value : 0;
        continue;
      }
      value = static_cast<uint64_t>(op == '/' ? dividend / divisor : dividend % divisor);
    }
  }

  Expected<uint64_t> unary(unsigned depth) {
    if (depth >= kMaxDepth) return Error("expression too deep");
    skip_space();
    const char c = peek();
    if (c == '+' || c == '-' || c == '~') {
      ++pos_;
      Expected<uint64_t> operand = unary(depth + 1);
      if (!operand) return operand;
      return c == '+' ? *operand : c == '-' ? 0 - *operand : ~*operand;
    }
    if (c == '(') {
      ++pos_;
      Expected<uint64_t> inner = logic(depth + 1);
      if (!inner) return inner;
      skip_space();
      if (peek() != ')') return Error("missing ')' in '" + std::string(text_) + "'");
      ++pos_;
      return inner;
    }
    if (c == '$') {
      ++pos_;
      const size_t start = pos_;
      while (!at_end() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
        ++pos_;
      }
      const std::string_view name = text_.substr(start, pos_ - start);
      if (name.empty()) return Error("missing register name after '$'");
      Expected<uint64_t> reg = control_.read_register(name);
      if (!reg) return reg.error();
      return *reg;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      const size_t start = pos_;
      while (!at_end() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      const std::string number(text_.substr(start, pos_ - start));
      char* end = nullptr;
      errno = 0;
      const unsigned long long value = std::strtoull(number.c_str(), &end, 0);
      if (end != number.c_str() + number.size()) return Error("bad number '" + number + "'");
      if (errno == ERANGE) return Error("number too large: '" + number + "'");
      return static_cast<uint64_t>(value);
    }
    return unexpected();
  }

  std::string_view text_;
  MachineControl& control_;
  size_t pos_ = 0;
};

}  // namespace

Expected<int64_t> evaluate_hmp_expression(std::string_view text, MachineControl& control) {
  return Evaluator(text, control).evaluate();
}

}  // namespace cr16::system::monitor
