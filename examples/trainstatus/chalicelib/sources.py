"""Where the feed bytes come from: the MTA over HTTP, or recorded captures offline.

Settings (environment variables, set per stage in `.lambic/config.json`):
- `FEED_URL`: the feed to fetch. When set, the real HTTP fetcher is used.
- `FEED_FORMAT`: "gtfs-json" (default), "gtfs-protobuf" or "xml" (legacy feed).
- `FEED_API_KEY`: sent as `x-api-key` if the MTA asks for one.
With no `FEED_URL` the app replays the captures in `chalicelib/captures/`, one per
minute in turn, so a page left open visibly changes while you develop offline. The
captured "Access Denied" page is not in the rotation: it is the error path's example,
and replaying it would leave a fresh start with no status for a minute. Serve it from
`FEED_URL` to watch the app refuse it. The protobuf capture is replayed only where
gtfs-realtime-bindings is installed (it is optional, see requirements.txt): without it
that minute would record nothing but an error.
"""

from __future__ import annotations

import importlib.util
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CAPTURES = Path(__file__).parent / "captures"
_FORMAT_BY_SUFFIX = {".txt": "xml", ".json": "gtfs-json", ".pb": "gtfs-protobuf"}


def _can_parse(suffix: str) -> bool:
    if _FORMAT_BY_SUFFIX[suffix] != "gtfs-protobuf":
        return True
    try:  # looked up, not imported: protobuf loads only when a protobuf feed comes
        return importlib.util.find_spec("google.transit.gtfs_realtime_pb2") is not None
    except ImportError:  # no `google` package at all
        return False


class FetchError(RuntimeError):
    """The feed could not be fetched; nothing should be written."""


@dataclass(frozen=True)
class Fetched:
    raw: bytes
    fmt: str
    origin: str  # the URL or capture file, for logs


class HttpFetcher:
    """Fetch the live feed; a non-200 answer or a network failure is a `FetchError`."""

    def __init__(self, url: str, fmt: str, api_key: str | None = None, timeout: float = 10.0):
        self.url = url
        self.fmt = fmt
        self.api_key = api_key
        self.timeout = timeout

    def fetch(self) -> Fetched:
        request = urllib.request.Request(self.url, headers={"User-Agent": "trainstatus/1.0"})
        if self.api_key:
            request.add_header("x-api-key", self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Fetched(response.read(), self.fmt, self.url)
        except urllib.error.HTTPError as exc:
            raise FetchError(f"{self.url} answered HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise FetchError(f"Could not fetch {self.url}: {exc}") from exc


class ReplayFetcher:
    """Replay recorded captures, one per `step_seconds`, in file-name order.

    Stateless on purpose: a Lambda environment may be new on every invocation, so the
    capture is chosen from the clock rather than from a counter kept in memory.
    """

    def __init__(self, directory: Path = CAPTURES, step_seconds: int = 60, clock=time.time):
        self.files = sorted(
            p
            for p in directory.iterdir()
            if p.suffix in _FORMAT_BY_SUFFIX and p.is_file() and _can_parse(p.suffix)
        )
        if not self.files:
            raise FetchError(f"No feed captures in {directory}")
        self.step_seconds = step_seconds
        self.clock = clock

    def fetch(self) -> Fetched:
        path = self.files[int(self.clock() // self.step_seconds) % len(self.files)]
        return Fetched(path.read_bytes(), _FORMAT_BY_SUFFIX[path.suffix], path.name)


def create_fetcher(environ: dict[str, str] | None = None) -> HttpFetcher | ReplayFetcher:
    env = os.environ if environ is None else environ
    url = env.get("FEED_URL", "").strip()
    if url:
        return HttpFetcher(url, env.get("FEED_FORMAT", "gtfs-json"), env.get("FEED_API_KEY"))
    return ReplayFetcher(step_seconds=int(env.get("REPLAY_STEP_SECONDS", "60")))
