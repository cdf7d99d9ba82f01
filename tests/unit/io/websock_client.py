#!/usr/bin/env python3
"""An independent WebSocket client for the websock channel tests.

Standard library only, raw socket, written from RFC 6455 (not from our C++
code): it performs the upgrade handshake, sends masked (and fragmented,
oversized, or deliberately broken) frames, checks what the server sends back,
and exits 0 when the server behaved as the scenario expects. Failures are
printed to stderr with exit status 1.

Usage: websock_client.py PORT SCENARIO [CA_CERT]
With CA_CERT the connection is wrapped in TLS (Python's ssl module), the
server certificate checked against that CA for the name "localhost" (wss).
"""

import base64
import hashlib
import os
import socket
import ssl
import struct
import sys

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


def recv_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise Failure("connection closed after %d of %d bytes" % (len(data), count))
        data += chunk
    return data


def recv_http_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data.decode("latin-1")


def encode_frame(opcode, payload, fin=True, mask=True, declared_length=None):
    first = (0x80 if fin else 0) | opcode
    length = len(payload) if declared_length is None else declared_length
    mask_bit = 0x80 if mask else 0
    if length < 126:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not mask:
        return header + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return header + key + masked


def read_frame(sock):
    first, second = recv_exactly(sock, 2)
    expect(not (second & 0x80), "server frames must not be masked")
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", recv_exactly(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", recv_exactly(sock, 8))
    return bool(first & 0x80), first & 0x0F, recv_exactly(sock, length)


def handshake(sock, extra_headers="", version="13"):
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /websockify HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\n"
        "Sec-WebSocket-Version: %s\r\n"
        "%s\r\n" % (key, version, extra_headers)
    )
    sock.sendall(request.encode())
    response = recv_http_response(sock)
    return key, response


def check_upgrade(sock, extra_headers=""):
    key, response = handshake(sock, extra_headers)
    expect(response.startswith("HTTP/1.1 101 "), "expected 101, got: %r" % response[:60])
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    headers = {}
    for line in response.split("\r\n")[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    expect(headers.get("sec-websocket-accept") == accept, "wrong Sec-WebSocket-Accept")
    expect(headers.get("upgrade", "").lower() == "websocket", "missing Upgrade header")
    return headers


def read_data(sock, count, pongs):
    """Collects COUNT bytes of binary payload, recording pong payloads."""
    data = b""
    while len(data) < count:
        fin, opcode, payload = read_frame(sock)
        if opcode == 0xA:
            pongs.append(payload)
            continue
        expect(opcode == 0x2, "expected a binary frame, got opcode %d" % opcode)
        expect(fin, "server data frames are not fragmented")
        data += payload
    return data


def expect_close(sock, code):
    while True:
        _, opcode, payload = read_frame(sock)
        if opcode in (0x9, 0xA):
            continue
        expect(opcode == 0x8, "expected a close frame, got opcode %d" % opcode)
        expect(len(payload) >= 2, "close frame without a status code")
        (got,) = struct.unpack("!H", payload[:2])
        expect(got == code, "close code %d, expected %d (reason %r)" % (got, code, payload[2:]))
        return payload[2:]


def scenario_echo(sock):
    headers = check_upgrade(sock, "Sec-WebSocket-Protocol: binary\r\n")
    expect(headers.get("sec-websocket-protocol") == "binary", "binary subprotocol not echoed")
    sock.sendall(encode_frame(0x2, b"hello "))
    sock.sendall(encode_frame(0x1, b"world "))
    # A fragmented message with a ping between its fragments.
    sock.sendall(encode_frame(0x2, b"frag", fin=False))
    sock.sendall(encode_frame(0x9, b"p1"))
    sock.sendall(encode_frame(0x0, b"men", fin=False))
    sock.sendall(encode_frame(0x0, b"ted!", fin=True))
    expected = b"hello world fragmented!"
    pongs = []
    echoed = read_data(sock, len(expected), pongs)
    expect(echoed == expected, "echo mismatch: %r" % echoed)
    if not pongs:  # the pong may come after the echo
        _, opcode, payload = read_frame(sock)
        expect(opcode == 0xA, "expected a pong, got opcode %d" % opcode)
        pongs.append(payload)
    expect(pongs == [b"p1"], "pong payloads %r" % pongs)
    sock.sendall(encode_frame(0x8, struct.pack("!H", 1000) + b"done"))
    expect_close(sock, 1000)
    expect(sock.recv(1) == b"", "the server should close after the close handshake")


def scenario_large(sock):
    check_upgrade(sock)
    block = bytes((i * 7 + 3) & 0xFF for i in range(200 * 1024))
    for start in range(0, len(block), 70000):  # 64-bit lengths
        sock.sendall(encode_frame(0x2, block[start : start + 70000]))
    echoed = read_data(sock, len(block), [])
    expect(echoed == block, "large echo mismatch")
    sock.sendall(encode_frame(0x8, struct.pack("!H", 1000)))
    expect_close(sock, 1000)


def scenario_oversized(sock):
    check_upgrade(sock)
    sock.sendall(encode_frame(0x2, b"x" * 2048))
    reason = expect_close(sock, 1009)
    expect(b"limit" in reason, "close reason %r" % reason)


def scenario_unmasked(sock):
    check_upgrade(sock)
    sock.sendall(encode_frame(0x2, b"not masked", mask=False))
    expect_close(sock, 1002)


def scenario_garbage(sock):
    sock.sendall(b"HELLO GARBAGE\r\n\r\n")
    response = recv_http_response(sock)
    expect(response.startswith("HTTP/1.1 4"), "expected a 4xx answer, got %r" % response[:60])


def scenario_bad_version(sock):
    _, response = handshake(sock, version="8")
    expect(response.startswith("HTTP/1.1 426 "), "expected 426, got %r" % response[:60])
    expect("Sec-WebSocket-Version: 13" in response, "426 without the supported version")


def scenario_disconnect(sock):
    sock.sendall(b"GET /websockify HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr")
    sock.shutdown(socket.SHUT_RDWR)


def scenario_garbage_frames(sock):
    check_upgrade(sock)
    sock.sendall(encode_frame(0x2, b"ok"))
    sock.sendall(bytes([0xF3, 0x80, 1, 2, 3, 4]))  # reserved bits and opcode 3
    expect_close(sock, 1002)


SCENARIOS = {
    "echo": scenario_echo,
    "large": scenario_large,
    "oversized": scenario_oversized,
    "unmasked": scenario_unmasked,
    "garbage": scenario_garbage,
    "bad-version": scenario_bad_version,
    "disconnect": scenario_disconnect,
    "garbage-frames": scenario_garbage_frames,
}


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in SCENARIOS:
        print("usage: websock_client.py PORT {%s} [CA_CERT]" % "|".join(SCENARIOS),
              file=sys.stderr)
        return 2
    try:
        sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
        if len(sys.argv) == 4:
            context = ssl.create_default_context(cafile=sys.argv[3])
            # A TCP close without close_notify must raise, not look like EOF.
            sock = context.wrap_socket(
                sock, server_hostname="localhost", suppress_ragged_eofs=False
            )
        with sock:
            SCENARIOS[sys.argv[2]](sock)
    except (Failure, OSError) as error:  # ssl.SSLError is an OSError
        print("websock_client %s: %s" % (sys.argv[2], error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
