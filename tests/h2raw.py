"""A minimal raw HTTP/2 gRPC caller (stdlib only, RFC 9113 framing, RFC 7541 literal headers).

For what a gRPC library client will not do: stop reading (a zero flow-control window), or run under the
system ``python3`` as another uid (the peer-credential tests; the venv's interpreter may not be readable).

``python3 tests/h2raw.py SOCKET_PATH IMAGE`` calls ``GetCredentials`` and prints ``ANSWER <hex>`` with the
response message, or ``CLOSED`` when the server closes the connection before answering.
"""

from __future__ import annotations

import socket
import struct
import sys

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
MAX_FRAME = 16384


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _literal(name: str, value: str) -> bytes:
    """A header field without indexing, new name, no Huffman coding (lengths under 127)."""
    n, v = name.encode(), value.encode()
    assert len(n) < 127 and len(v) < 127
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def grpc_message(message: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(message)) + message


def encode_string_field(number: int, value: bytes) -> bytes:
    """One length-delimited protobuf field (enough for GetCredentialsRequest.image and batch images)."""
    out, size = bytearray([number << 3 | 2]), len(value)
    while size >= 0x80:
        out.append(size & 0x7F | 0x80)
        size >>= 7
    out.append(size)
    return bytes(out) + value


def read_frame(sock: socket.socket) -> tuple[int, int, int, bytes] | None:
    head = _read_exact(sock, 9)
    if head is None:
        return None
    size = int.from_bytes(head[:3], "big")
    payload = _read_exact(sock, size) if size else b""
    if payload is None:
        return None
    return head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF, payload


def _read_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except (ConnectionError, TimeoutError):
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def start_call(path: str, method: str, message: bytes, *, window: int = 65535, timeout: float = 5.0) -> socket.socket:
    """Connect, settle the settings and send one unary call on stream 1; the response is not read.

    ``window`` is the stream flow-control window offered to the server (0: it may send no data at all).
    Raises ConnectionError when the server closes the connection before its SETTINGS.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(path)
    sock.sendall(PREFACE + frame(SETTINGS, 0, 0, struct.pack(">HI", SETTINGS_INITIAL_WINDOW_SIZE, window)))
    while True:
        got = read_frame(sock)
        if got is None:
            sock.close()
            raise ConnectionError("closed by the server before its SETTINGS")
        kind, flags, _, _ = got
        if kind == SETTINGS and not flags & ACK:
            sock.sendall(frame(SETTINGS, ACK, 0))
            break
    headers = b"".join(
        _literal(k, v)
        for k, v in (
            (":method", "POST"),
            (":scheme", "http"),
            (":path", method),
            (":authority", "localhost"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        )
    )
    body = grpc_message(message)
    out = [frame(HEADERS, END_HEADERS, 1, headers)]
    for i in range(0, len(body), MAX_FRAME):
        last = i + MAX_FRAME >= len(body)
        out.append(frame(DATA, END_STREAM if last else 0, 1, body[i : i + MAX_FRAME]))
    sock.sendall(b"".join(out))
    return sock


def read_answer(sock: socket.socket) -> bytes | None:
    """The response message of stream 1 (None when the connection ends first); acks pings meanwhile."""
    data = b""
    while True:
        got = read_frame(sock)
        if got is None:
            return None
        kind, flags, stream, payload = got
        if kind == PING and not flags & ACK:
            sock.sendall(frame(PING, ACK, 0, payload))
        elif kind == DATA and stream == 1:
            data += payload
            if payload:
                sock.sendall(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", len(payload))))
            if len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[1:5], "big"):
                return data[5 : 5 + int.from_bytes(data[1:5], "big")]
        elif kind == HEADERS and stream == 1 and flags & END_STREAM:
            return data[5:] if data else b""
        elif kind == GOAWAY:
            return None


def main() -> int:
    path, image = sys.argv[1], sys.argv[2]
    try:
        sock = start_call(path, "/pullkey.v1.CredentialService/GetCredentials", encode_string_field(1, image.encode()))
    except (ConnectionError, OSError):
        print("CLOSED")
        return 0
    answer = read_answer(sock)
    print("CLOSED" if answer is None else f"ANSWER {answer.hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
