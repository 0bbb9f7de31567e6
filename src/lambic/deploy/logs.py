"""Reading a deployed stage's function logs from CloudWatch Logs.

`lambic logs --stage S` (runtime's command) calls `read_deployed_logs` when
`.lambic/deployed/S.json` exists. Each Lambda function writes to the log group
`/aws/lambda/<function name>`; events from all the stage's functions (or one) are
merged in timestamp order. With `follow=True` the generator keeps polling, like
`aws logs tail --follow`, until the caller stops iterating.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lambic.deploy.aws import AWSSession, error_code, translate_error
from lambic.deploy.errors import RecordError
from lambic.deploy.records import load_record
from lambic.project.config import deployed_name


@dataclass(frozen=True)
class DeployedLogEvent:
    """One CloudWatch Logs event of a deployed function (the local store has `LogEvent`)."""

    function_name: str
    timestamp: int  # milliseconds since the epoch, as CloudWatch reports it
    message: str
    log_stream: str
    event_id: str


def read_deployed_logs(
    project_dir: Path,
    stage: str,
    *,
    function: str | None = None,
    since: datetime | None = None,
    follow: bool = False,
    poll_interval: float = 2.0,
    aws: AWSSession | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[DeployedLogEvent]:
    """Yield log events of the stage's deployed functions (`function`: a short or full name).

    >>> for event in read_deployed_logs(Path("."), "prod"):  # doctest: +SKIP
    ...     print(event.function_name, event.message)
    """
    record = load_record(project_dir.resolve(), stage)
    if record is None:
        raise RecordError(f"stage {stage!r} is not deployed; run `lambic deploy --stage {stage}`")
    names = record.function_names()
    if function is not None:
        wanted = {function, deployed_name(record.app_name, stage, function)}
        names = [name for name in names if name in wanted]
        if not names:
            raise RecordError(f"stage {stage!r} has no deployed function {function!r}")
    aws = aws or AWSSession(region=record.region)
    client = aws.client("logs")
    start = int(since.timestamp() * 1000) if since else 0
    seen: set[str] = set()
    while True:
        batch: list[DeployedLogEvent] = []
        for name in names:
            batch.extend(_events(client, name, start, aws.region))
        batch.sort(key=lambda event: (event.timestamp, event.function_name))
        for event in batch:
            if event.event_id not in seen:
                seen.add(event.event_id)
                yield event
        if not follow:
            return
        if batch:
            # Events can arrive late within the same millisecond; re-read from the last
            # timestamp and rely on the event ids to skip what was shown.
            start = max(start, batch[-1].timestamp)
        sleep(poll_interval)


def _events(client: Any, function_name: str, start: int, region: str) -> list[DeployedLogEvent]:
    group = f"/aws/lambda/{function_name}"
    events: list[DeployedLogEvent] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start}
    while True:
        try:
            page = client.filter_log_events(**kwargs)
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return events  # never invoked yet: Lambda creates the group on first run
            raise translate_error(exc, region, f"reading {group}") from exc
        for item in page.get("events", []):
            events.append(
                DeployedLogEvent(
                    function_name=function_name,
                    timestamp=int(item["timestamp"]),
                    message=str(item["message"]),
                    log_stream=str(item.get("logStreamName", "")),
                    event_id=str(item.get("eventId", f"{item['timestamp']}{item['message']}")),
                )
            )
        token = page.get("nextToken")
        if not token or token == kwargs.get("nextToken"):
            return events
        kwargs["nextToken"] = token
