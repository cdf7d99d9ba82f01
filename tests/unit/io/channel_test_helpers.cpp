#include "tests/unit/io/channel_test_helpers.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/unit/io/io_test_util.h"

namespace cr16::io {

namespace {

/// Splits `data` into kTransferIovecs pieces of varying sizes.
std::vector<iovec> split(uint8_t* data, size_t size) {
  std::vector<iovec> iov;
  size_t offset = 0;
  for (size_t i = 0; i < kTransferIovecs; ++i) {
    size_t remaining_pieces = kTransferIovecs - i;
    size_t length = (i + 1 == kTransferIovecs) ? size - offset
                                               : (size - offset) / remaining_pieces + (i % 7) * 13;
    length = std::min(length, size - offset);
    iov.push_back({data + offset, length});
    offset += length;
  }
  return iov;
}

}  // namespace

void check_threaded_transfer(Channel& writer, Channel& reader, bool blocking, LoopBackend backend) {
  std::vector<uint8_t> sent = make_payload(kTransferBytes, 7);
  std::vector<uint8_t> received(kTransferBytes, 0);
  ASSERT_TRUE(writer.set_blocking(blocking).ok());
  ASSERT_TRUE(reader.set_blocking(blocking).ok());
  Error write_error, read_error;
  std::thread writer_thread([&] {
    std::unique_ptr<Loop> loop;
    if (!blocking) loop = Loop::create(backend).value();
    std::vector<iovec> iov = split(sent.data(), sent.size());
    write_error = write_all(writer, iov, loop.get());
    (void)writer.close();
  });
  std::thread reader_thread([&] {
    std::unique_ptr<Loop> loop;
    if (!blocking) loop = Loop::create(backend).value();
    std::vector<iovec> iov = split(received.data(), received.size());
    read_error = read_all(reader, iov, loop.get());
    if (!read_error.ok()) return;
    // After the writer closed, the next read is a clean end of file.
    uint8_t extra;
    iovec one{&extra, 1};
    Expected<bool> more = read_all_or_eof(reader, {&one, 1}, loop.get());
    if (!more) {
      read_error = more.error();
    } else if (*more) {
      read_error = Error("data after the end of the transfer");
    }
  });
  writer_thread.join();
  reader_thread.join();
  EXPECT_TRUE(write_error.ok()) << write_error.message();
  EXPECT_TRUE(read_error.ok()) << read_error.message();
  EXPECT_TRUE(sent == received);
}

}  // namespace cr16::io
