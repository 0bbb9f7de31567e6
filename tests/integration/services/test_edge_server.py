from __future__ import annotations

import urllib.request
from collections.abc import Callable

from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.server import EdgeServer


class EchoService:
    """A service that answers with what it saw, to check the edge's plumbing."""

    name = "s3"

    def __init__(self) -> None:
        self.closed = False

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        text = f"{request.method} {request.path}?{request.query_string} {request.body!r}"
        return ServiceResponse(200, [("X-Seen", request.headers.get("x-test", ""))], text.encode())

    def close(self) -> None:
        self.closed = True


def test_edge_serves_raw_path_query_and_body_over_a_real_socket(
    start_edge: Callable[[dict[str, EchoService]], EdgeServer],
) -> None:
    service = EchoService()
    edge = start_edge({"s3": service})
    request = urllib.request.Request(
        f"{edge.url}/bucket/a%2Fb%20c?x=1&y",
        data=b"payload",
        method="PUT",
        headers={"X-Test": "yes"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        assert response.headers["X-Seen"] == "yes"
        assert response.read() == b"PUT /bucket/a%2Fb%20c?x=1&y b'payload'"
    edge.stop()
    assert service.closed
