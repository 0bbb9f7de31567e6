"""What `lambic deploy` and `lambic delete` print: one line per resource, then a summary.

The executor calls `resource_line` as each step finishes, so the output grows while AWS
works and a slow step shows up as the pause after the last line. `deploy_summary`
closes a deploy with counts per action and the stage's URLs:

      created   role trainstatus-dev
      created   function trainstatus-dev-update_status
      ...
    Deployed trainstatus (dev): 9 created
      Rest API URL: https://a1b2c3.execute-api.us-east-1.amazonaws.com/api/
      Website URL:  http://trainstatus-site.s3-website-us-east-1.amazonaws.com
      Logs:         lambic logs --stage dev

Unchanged resources get no line of their own (a redeploy that changes one function
should not bury it among twenty); the summary counts them. Lines carry no colour and
no timing, so tests compare them verbatim.
"""

from __future__ import annotations

from lambic.deploy.records import DeployedRecord

#: Past tense of each plan action, as printed.
DONE = {"create": "created", "update": "updated", "delete": "deleted"}

# Wide enough for the longest word ("unchanged") plus a space, so names line up.
_WIDTH = 10

# Regions whose website endpoint uses a dash before the region (the older form); every
# other region uses a dot. From AWS's "Amazon S3 website endpoints" table
# (docs.aws.amazon.com/general/latest/gr/s3.html#s3_website_region_endpoints).
_DASH_WEBSITE_REGIONS = frozenset(
    {
        "us-east-1",
        "us-west-1",
        "us-west-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "eu-west-1",
        "sa-east-1",
        "us-gov-west-1",
    }
)


def resource_line(word: str, label: str) -> str:
    """One progress line: `  created   function trainstatus-dev-update_status`."""
    return f"  {word:<{_WIDTH}}{label}"


def website_url(bucket: str, region: str) -> str:
    """The S3 website endpoint AWS gives a bucket in `region`.

    >>> website_url("site", "us-east-1")
    'http://site.s3-website-us-east-1.amazonaws.com'
    >>> website_url("site", "eu-central-1")
    'http://site.s3-website.eu-central-1.amazonaws.com'
    """
    separator = "-" if region in _DASH_WEBSITE_REGIONS else "."
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"http://{bucket}.s3-website{separator}{region}.{suffix}"


def counts_text(counts: dict[str, int]) -> str:
    """`2 created, 1 updated, 5 unchanged`, in that fixed order, zeros left out."""
    order = ("created", "updated", "deleted", "unchanged", "kept")
    return ", ".join(f"{counts[word]} {word}" for word in order if counts.get(word))


def deploy_summary(record: DeployedRecord, done: dict[str, str]) -> list[str]:
    """The closing lines of a deploy; `done` maps each changed key to its past action."""
    counts: dict[str, int] = {}
    for word in done.values():
        counts[word] = counts.get(word, 0) + 1
    unchanged = sum(1 for key in record.resources if key not in done)
    head = f"{record.app_name} ({record.stage})"
    if not done:
        plural = "resource" if unchanged == 1 else "resources"
        lines = [f"No changes: {unchanged} {plural} up to date in {head}, {record.region}"]
    else:
        counts["unchanged"] = unchanged
        lines = [f"Deployed {head}: {counts_text(counts)}"]
    return lines + [f"  {name + ':':<14}{value}" for name, value in stage_urls(record)]


def stage_urls(record: DeployedRecord) -> list[tuple[str, str]]:
    """The stage's addresses worth printing: its API, bucket websites, the log command."""
    urls: list[tuple[str, str]] = []
    api = record.resources.get("api")
    if record.api_url and api is not None:
        urls.append(("Rest API URL" if api.kind == "rest_api" else "HTTP API URL", record.api_url))
    websocket = record.resources.get("websocket_api")
    if websocket is not None and websocket.attrs.get("stage_name"):
        attrs = websocket.attrs
        url = f"wss://{attrs['api_id']}.execute-api.{record.region}.amazonaws.com/"
        urls.append(("WebSocket URL", url + str(attrs["stage_name"])))
    for resource in record.resources.values():
        if resource.kind == "bucket" and resource.attrs.get("index_document"):
            urls.append(("Website URL", website_url(resource.attrs["bucket"], record.region)))
    if record.function_names():
        urls.append(("Logs", f"lambic logs --stage {record.stage}"))
    return urls
