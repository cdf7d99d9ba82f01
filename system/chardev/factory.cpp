#include "system/chardev/factory.h"

#include "system/chardev/common.h"
#include "system/chardev/socket.h"
#include "system/chardev/stdio.h"

namespace cr16::system {

namespace {

template <typename T>
Expected<std::unique_ptr<CharBackend>> upcast(Expected<std::unique_ptr<T>> backend) {
  if (!backend) return backend.error();
  return std::unique_ptr<CharBackend>(std::move(*backend));
}

}  // namespace

Expected<std::unique_ptr<CharBackend>> create_char_backend(const SerialSpec& spec, io::Loop& loop,
                                                           const std::string& label) {
  switch (spec.kind) {
    case SerialSpec::Kind::kNone:
      return std::unique_ptr<CharBackend>();
    case SerialSpec::Kind::kNull:
      return std::unique_ptr<CharBackend>(new NullCharBackend());
    case SerialSpec::Kind::kStdio:
      return upcast(StdioCharBackend::open(loop));
    case SerialSpec::Kind::kFile:
      return upcast(FileCharBackend::open(loop, spec.path, label));
    case SerialSpec::Kind::kPty:
      return upcast(PtyCharBackend::open(loop, label));
    case SerialSpec::Kind::kTcp:
    case SerialSpec::Kind::kUnix:
      return upcast(SocketCharBackend::open(loop, spec, label));
    case SerialSpec::Kind::kChardev:
      break;  // a reference to a -chardev: the machine resolves it before
  }
  return Error("-serial " + spec.text + ": unsupported");
}

}  // namespace cr16::system
