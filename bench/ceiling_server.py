"""The ceiling for `bench/services.py`: pre-built real responses, no work per call.

    python bench/ceiling_server.py PORT      (prints "ready" once listening)

For S3 PutObject/GetObject and DynamoDB PutItem/GetItem/Query it answers every call
with the bytes Lambic's edge sends for it (same status line, headers, body), built
once at start; anything else gets an empty 200, like the floor. Because the server
does nothing, boto3's own cost of sending the request and parsing a real response
is all that is left: no server, however fast, can beat these rates with this client.
Loopback only; stopped by the benchmark.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import sys
import zlib

OBJECT = b"x" * 1024
_S3_IDS = b"x-amz-request-id: 85528D62553EF07E\r\nx-amz-id-2: r0CirCDfqyel2M4KpcyDQDuFZjITRHKTD\r\n"


def _date() -> bytes:
    return email.utils.formatdate(usegmt=True).encode()


def _dynamodb(body: dict[str, object]) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n"
        b"x-amzn-requestid: DC4FB1F1E1EA87E759FFD692400CFB94C92B0C381705A8E8E1BD\r\n"
        b"x-amz-crc32: %d\r\ncontent-length: %d\r\ndate: %s\r\n\r\n%s"
        % (zlib.crc32(payload), len(payload), _date(), payload)
    )


ITEM = {"pk": {"S": "p"}, "sk": {"N": "99"}}
DYNAMODB = {
    b"dynamodb_20120810.putitem": _dynamodb({}),
    b"dynamodb_20120810.getitem": _dynamodb({"Item": ITEM}),
    b"dynamodb_20120810.query": _dynamodb(
        {"Items": [ITEM], "Count": 1, "ScannedCount": 1, "LastEvaluatedKey": ITEM}
    ),
}
S3_GET = (
    b'HTTP/1.1 200 OK\r\netag: "7265f4d211b56873a381d321f586e4a9"\r\n'
    b"last-modified: Wed, 25 Nov 2026 12:07:44 GMT\r\naccept-ranges: bytes\r\n"
    b"x-amz-server-side-encryption: AES256\r\ncontent-type: binary/octet-stream\r\n"
    b"content-length: 1024\r\n" + _S3_IDS + b"date: " + _date() + b"\r\n\r\n" + OBJECT
)
S3_PUT = (
    b'HTTP/1.1 200 OK\r\netag: "7265f4d211b56873a381d321f586e4a9"\r\n'
    b"x-amz-server-side-encryption: AES256\r\n"
    + _S3_IDS
    + b"date: "
    + _date()
    + b"\r\ncontent-length: 0\r\n\r\n"
)
EMPTY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class Ceiling(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""
        self.needed: int | None = None
        self.answer = EMPTY

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.needed is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buffer[:end].lower()
                self.buffer = self.buffer[end + 4 :]
                self.needed, self.answer = self._parse(head)
            if len(self.buffer) < self.needed:
                return
            self.buffer = self.buffer[self.needed :]
            self.needed = None
            self.transport.write(self.answer)

    def _parse(self, head: bytes) -> tuple[int, bytes]:
        length = 0
        target = b""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            value = value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"x-amz-target":
                target = value
            elif name == b"expect" and value == b"100-continue":
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        method, _, rest = head.partition(b" ")
        path = rest.partition(b" ")[0].partition(b"?")[0]
        if target:
            return length, DYNAMODB.get(target, EMPTY)
        is_object = path.count(b"/") >= 2 and not path.endswith(b"/")
        if is_object and method == b"get":
            return length, S3_GET
        if is_object and method == b"put":
            return length, S3_PUT
        return length, EMPTY


async def main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Ceiling, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
