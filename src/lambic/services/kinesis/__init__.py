"""Local Kinesis Data Streams (JSON 1.1 protocol).

Data flow: edge → `KinesisService.handle` → `protocol.dispatch` (X-Amz-Target, JSON
body) → `KinesisEngine` (streams, shards; `records` for puts and reads, `resharding`,
`tags`) → `KinesisStore` (SQLite, `kinesis.sqlite3`) → JSON response. Committed puts
call `engine.add_listener` callbacks with the stream's name (the runtime's
`@app.on_kinesis_record` mappings wake on them).
"""

from lambic.services.kinesis.engine import KinesisEngine
from lambic.services.kinesis.errors import KinesisError
from lambic.services.kinesis.service import KinesisService, create_service

__all__ = ["KinesisEngine", "KinesisError", "KinesisService", "create_service"]
