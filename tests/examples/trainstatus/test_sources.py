from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from chalicelib.sources import CAPTURES, FetchError, HttpFetcher, ReplayFetcher, create_fetcher


def test_replay_steps_through_every_capture_one_per_step() -> None:
    now = [0.0]
    fetcher = ReplayFetcher(step_seconds=60, clock=lambda: now[0])
    seen = []
    for minute in range(len(fetcher.files)):
        now[0] = minute * 60 + 5
        seen.append(fetcher.fetch().origin)
    assert sorted(seen) == sorted(p.name for p in fetcher.files)
    assert len(set(seen)) == len(fetcher.files) >= 7


def test_replay_never_serves_the_access_denied_page() -> None:
    # A fresh `lambic local` whose first fire hit the error page would show no status
    # for another minute; the page stays a fixture of the error path only.
    fetcher = ReplayFetcher(step_seconds=60, clock=lambda: 0.0)
    assert all(path.suffix != ".html" for path in fetcher.files)
    assert (CAPTURES / "serviceStatus_2018-07-21_access-denied.html").is_file()


def test_replay_leaves_the_protobuf_capture_out_without_its_bindings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The README's first command installs what the app needs, not the optional
    # gtfs-realtime-bindings: every eighth minute would otherwise record only an error.
    import chalicelib.sources as sources

    with_bindings = ReplayFetcher(step_seconds=60, clock=lambda: 0.0).files
    monkeypatch.setattr(sources.importlib.util, "find_spec", lambda name: None)
    without = ReplayFetcher(step_seconds=60, clock=lambda: 0.0).files
    assert [p.suffix for p in with_bindings if p not in without] == [".pb"]
    for minute in range(len(without)):
        fetcher = ReplayFetcher(step_seconds=60, clock=lambda m=minute: m * 60.0)
        assert fetcher.fetch().fmt != "gtfs-protobuf"


def test_without_a_feed_url_the_app_replays_captures() -> None:
    assert isinstance(create_fetcher({}), ReplayFetcher)
    fetcher = create_fetcher({"FEED_URL": "http://127.0.0.1:9/x", "FEED_FORMAT": "xml"})
    assert isinstance(fetcher, HttpFetcher) and fetcher.fmt == "xml"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/feed":
            body = b"<service/>"
            self.send_response(200)
        else:
            body = b"<HTML>Access Denied</HTML>"
            self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_fetcher_returns_the_body(feed_server: str) -> None:
    fetched = HttpFetcher(f"{feed_server}/feed", "xml").fetch()
    assert fetched.raw == b"<service/>" and fetched.fmt == "xml"


def test_http_fetcher_turns_an_error_status_into_fetch_error(feed_server: str) -> None:
    with pytest.raises(FetchError, match="403"):
        HttpFetcher(f"{feed_server}/denied", "xml").fetch()


def test_http_fetcher_turns_a_refused_connection_into_fetch_error() -> None:
    with pytest.raises(FetchError, match="Could not fetch"):
        HttpFetcher("http://127.0.0.1:9/feed", "xml", timeout=2).fetch()
