"""Is my train on time? The New York subway's status, built completely serverless.

Once a minute `update_status` fetches the MTA feed, records one item per check in the
DynamoDB table and renders a static page to the S3 bucket. The HTTP API serves the
latest status, one line, and a day's history.

Run it: `lambic local` in this directory, then `curl localhost:8000/latest`.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import boto3
from boto3.dynamodb.conditions import Key

from chalicelib.feeds import FeedError, parse_feed
from chalicelib.lines import GOOD_SERVICE, LINE_GROUPS
from chalicelib.page import render_page
from chalicelib.sources import FetchError, create_fetcher
from lambic import BadRequestError, Lambic, NotFoundError

app = Lambic(app_name="trainstatus")
# app.log shows only errors unless debug is on (as in Chalice); each check's one-line
# summary belongs in the logs too.
app.log.setLevel(logging.INFO)

TABLE_NAME = os.environ.get("TABLE_NAME", "trainstatus")
BUCKET_NAME = os.environ.get("BUCKET_NAME", "trainstatus-site")
PAGE_KEY = "index.html"
HISTORY_ON_PAGE = 60

_table = None


def table():
    # Created once per execution environment and reused while it stays warm.
    global _table
    if _table is None:
        _table = boto3.resource("dynamodb").Table(TABLE_NAME)
    return _table


def _today(now: float) -> str:
    # Days are UTC days: Lambda's clock is UTC, and a key must not move with DST.
    return datetime.fromtimestamp(now, tz=timezone.utc).date().isoformat()


@app.schedule("rate(1 minute)")
def update_status(event):
    """Fetch the feed; record the snapshot; render the page. A bad feed writes nothing."""
    now = time.time()
    try:
        fetched = create_fetcher().fetch()
        snapshot = parse_feed(fetched.raw, fetched.fmt)
    except (FetchError, FeedError) as exc:
        app.log.error("Not updating the status: %s", exc)
        return {"updated": False, "reason": str(exc)}

    day = _today(now)
    rows = snapshot.as_rows()
    table().put_item(Item={"date": day, "time": Decimal(now), "data": rows})

    recent = table().query(
        KeyConditionExpression=Key("date").eq(day),
        ScanIndexForward=False,
        Limit=HISTORY_ON_PAGE,
        ProjectionExpression="#t, #d",
        ExpressionAttributeNames={"#t": "time", "#d": "data"},
    )["Items"]
    history = [
        (float(item["time"]), sum(1 for row in item["data"] if row[1] != GOOD_SERVICE))
        for item in reversed(recent)
    ]
    page = render_page(rows, now, history, source=fetched.origin)
    boto3.client("s3").put_object(
        Bucket=BUCKET_NAME,
        Key=PAGE_KEY,
        Body=page.encode("utf-8"),
        ContentType="text/html; charset=utf-8",
        CacheControl="max-age=30",
    )
    bad = [row[0] for row in rows if row[2] == "YUP"]
    app.log.info("Recorded %d lines from %s; problems on %s", len(rows), fetched.origin, bad)
    return {"updated": True, "date": day, "time": now, "problems": bad}


def _latest_item(now: float):
    """The newest snapshot at or before `now`, looking back to yesterday after midnight."""
    for day in (_today(now), _today(now - 86400)):
        items = table().query(
            KeyConditionExpression=Key("date").eq(day) & Key("time").lte(Decimal(now)),
            ScanIndexForward=False,
            Limit=1,
        )["Items"]
        if items:
            return items[0]
    raise NotFoundError("No status recorded yet; the first check runs within a minute")


def _as_statuses(item) -> dict:
    return {
        line: {"is_fucked": verdict, "status": status} for line, status, verdict in item["data"]
    }


@app.route("/latest")
def latest():
    return {"data": _as_statuses(_latest_item(time.time()))}


@app.route("/lines/{line}")
def line_status(line):
    wanted = line.upper()
    if wanted not in LINE_GROUPS:
        raise NotFoundError(f"No line group {line!r}; use one of {', '.join(LINE_GROUPS)}")
    item = _latest_item(time.time())
    statuses = _as_statuses(item)
    return {"line": wanted, "checked_at": float(item["time"]), **statuses[wanted]}


@app.route("/history")
def history():
    params = app.current_request.query_params or {}
    day = params.get("date") or _today(time.time())
    try:
        date.fromisoformat(day)
    except ValueError:
        raise BadRequestError(f"date must be YYYY-MM-DD, got {day!r}") from None
    try:
        limit = int(params.get("limit", "50"))
    except ValueError:
        raise BadRequestError("limit must be a whole number from 1 to 500") from None
    if not 1 <= limit <= 500:
        raise BadRequestError("limit must be a whole number from 1 to 500")
    query = {
        "KeyConditionExpression": Key("date").eq(day),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if params.get("next"):
        query["ExclusiveStartKey"] = _decode_token(params["next"], day)
    page = table().query(**query)
    if not page["Items"] and "ExclusiveStartKey" not in query:
        raise NotFoundError(f"No status recorded on {day}")
    body = {
        "date": day,
        "snapshots": [
            {"time": float(item["time"]), "data": _as_statuses(item)} for item in page["Items"]
        ],
    }
    if "LastEvaluatedKey" in page:
        body["next"] = _encode_token(page["LastEvaluatedKey"])
    return body


def _encode_token(key) -> str:
    return base64.urlsafe_b64encode(json.dumps({"time": str(key["time"])}).encode()).decode()


def _decode_token(token: str, day: str) -> dict:
    try:
        moment = Decimal(json.loads(base64.urlsafe_b64decode(token.encode()))["time"])
    except (ValueError, KeyError, TypeError, ArithmeticError):
        raise BadRequestError("next is not a token this API returned") from None
    return {"date": day, "time": moment}
