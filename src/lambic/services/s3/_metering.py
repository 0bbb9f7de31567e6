"""S3's billing classes of requests, and the bytes a state directory stores.

S3 prices requests in two classes (Amazon S3 pricing, "Requests & data retrievals"):
PUT, COPY, POST and LIST requests in one ("tier1"), GET, SELECT and all other
requests in the cheaper one ("tier2"); DELETE and CANCEL requests are free. A LIST is
any request that lists: ListBuckets, ListObjects(V2), ListObjectVersions,
ListMultipartUploads and ListParts. Requests answered 403 are not billed (S3 stopped
billing unauthorized requests in 2024), and we do not count them either.

    >>> pricing_class("PUT", "photos", "a.jpg", {})
    'tier1'
    >>> pricing_class("GET", "photos", None, {"list-type": "2"})
    'tier1'
    >>> pricing_class("GET", "photos", None, {"cors": ""})
    'tier2'
    >>> pricing_class("GET", "photos", "a.jpg", {}), pricing_class("DELETE", "photos", "a.jpg", {})
    ('tier2', None)

Storage is billed per GB-month of what each bucket holds: current objects, noncurrent
versions of a versioned bucket (AWS bills each version as an object; delete markers
hold no bytes), plus the parts of multipart uploads not yet completed or aborted;
`stored_bytes` reads that from the store on its own connection (the meter calls it
on its own thread).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

__all__ = ["pricing_class", "stored_bytes"]

# Bucket-level GET sub-resources that read a configuration (an "other" request); a
# bucket GET with none of them lists objects (plain, ?list-type=2, ?versions, ?uploads).
_BUCKET_CONFIG_READS = frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "encryption", "intelligent-tiering",
        "inventory", "lifecycle", "location", "logging", "metrics", "notification",
        "object-lock", "ownershipControls", "policy", "policyStatus", "publicAccessBlock",
        "replication", "requestPayment", "tagging", "versioning", "website",
    }
)  # fmt: skip


def pricing_class(
    method: str, bucket: str | None, key: str | None, query: Mapping[str, str]
) -> str | None:
    """ "tier1" (PUT/COPY/POST/LIST), "tier2" (GET/SELECT/other) or None (free)."""
    if method == "DELETE":
        return None
    if method in ("PUT", "POST"):
        return "tier1"
    if method == "GET":
        if not bucket:
            return "tier1"  # ListBuckets
        if key is None:
            return "tier2" if _BUCKET_CONFIG_READS.intersection(query) else "tier1"
        return "tier1" if "uploadId" in query else "tier2"  # ListParts lists
    return "tier2"  # HEAD, OPTIONS (CORS preflight) and the rest


def stored_bytes(path: Path) -> dict[tuple[str, str], int]:
    """Bytes each bucket stores now: `{("s3", bucket): bytes}`."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT bucket, SUM(size) FROM objects GROUP BY bucket"
            " UNION ALL SELECT bucket, SUM(size) FROM versions WHERE delete_marker = 0"
            " GROUP BY bucket"
            " UNION ALL SELECT u.bucket, SUM(p.size) FROM parts p"
            " JOIN uploads u ON u.upload_id = p.upload_id GROUP BY u.bucket"
        ).fetchall()
    finally:
        conn.close()
    totals: dict[tuple[str, str], int] = {}
    for bucket, size in rows:
        totals[("s3", bucket)] = totals.get(("s3", bucket), 0) + int(size or 0)
    return totals
