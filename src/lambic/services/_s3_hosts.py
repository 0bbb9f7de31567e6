"""S3's virtual-hosted-style addressing: the bucket a Host header names, if any.

Apart from `s3.protocol` because the edge asks it of requests for every service (is this
unsigned request S3's?), and importing anything under `lambic.services.s3` loads the
whole S3 service: an app that never touches S3 would hold its code (~1.4 MB) for this
one function.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["virtual_host_bucket"]

_AWS_HOST = re.compile(r"^(?P<bucket>.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com$")
_LOCAL_SUFFIXES = (".localhost.localstack.cloud", ".localhost")


# Called for each request the edge cannot place otherwise (and each S3 request): a few
# host names, asked again and again.
@lru_cache(maxsize=1024)
def virtual_host_bucket(host: str) -> str | None:
    """The bucket named by a virtual-hosted-style Host header, if any."""
    name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else ""
    for suffix in _LOCAL_SUFFIXES:
        if name.endswith(suffix):
            label = name[: -len(suffix)].removesuffix(".s3")
            return label if label and label != "s3" else None
    match = _AWS_HOST.match(name)
    return match.group("bucket") if match else None
