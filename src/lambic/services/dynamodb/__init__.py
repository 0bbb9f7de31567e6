"""Local DynamoDB (JSON 1.0 protocol) and DynamoDB Streams.

Data flow: edge → `DynamoDBService.handle` → `protocol.dispatch` (X-Amz-Target, JSON
body) → `DynamoDBEngine` / `reads` / `batches` / `StreamsApi` (semantics, with
`expressions` for conditions, updates and projections) → `DynamoDBStore` (SQLite) →
JSON response with x-amzn-RequestId and x-amz-crc32. Committed changes on tables with
streams append stream records and are pushed to `engine.add_listener` callbacks.
"""

from lambic.services.dynamodb.engine import DynamoDBEngine, StreamListener
from lambic.services.dynamodb.errors import DynamoDBError
from lambic.services.dynamodb.service import DynamoDBService, create_service

__all__ = [
    "DynamoDBEngine",
    "DynamoDBError",
    "DynamoDBService",
    "StreamListener",
    "create_service",
]
