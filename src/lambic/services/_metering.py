"""What the local services share for metering: the meter they count into, 64 KB chunks.

Each service counts its billable actions into the stage's `Meter`
(`lambic.project.metering`) from its own request path, once the action's outcome is
known; a service without a meter (in memory, or `LAMBIC_METERING=off`) counts nothing
and pays nothing. SQS, SNS and EventBridge bill each 64 KB chunk of a payload as one
request (a 256 KB SendMessage is 4 requests):

    >>> chunks_64k(0), chunks_64k(65536), chunks_64k(65537), chunks_64k(262144)
    (1, 1, 2, 4)
"""

from __future__ import annotations

from lambic.project.metering import Meter

__all__ = ["CHUNK_BYTES", "Meter", "chunks_64k"]

#: The payload chunk SQS, SNS and EventBridge bill as one request or event.
CHUNK_BYTES = 64 * 1024


def chunks_64k(size: int) -> int:
    """Billed requests for a payload of `size` bytes: one per started 64 KB, at least one."""
    return max(1, -(-size // CHUNK_BYTES))
