"""The console's service panels: S3, DynamoDB, SQS, SNS and EventBridge.

    GET    s3/buckets                          GET  dynamodb/tables
    GET    s3/objects?bucket=&prefix=          GET  dynamodb/items?table=&start=&partition=
    GET    s3/preview?bucket=&key=             PUT  dynamodb/item?table=   (item, DynamoDB JSON)
    GET    s3/download?bucket=&key=            DELETE dynamodb/item?table= (key, DynamoDB JSON)
    PUT    s3/object?bucket=&key=  (body)      GET  sqs/queues
    DELETE s3/object?bucket=&key=              GET  sqs/peek?queue=
    GET    sns/topics                          POST sqs/purge?queue=
    POST   sns/publish?topic=  {message, subject}       POST sqs/redrive?queue= (a DLQ)
    POST   events/put  {source, detail_type, detail, bus} POST sqs/send?queue= {body}

Every call goes through the service's own API (`aws.InProcessAws`), so what the panel
shows and does is what an SDK would see and do. An object's content is never served
as a page of the console's origin (it could script the console): a preview is JSON
(text, or an image as a data URL), a download is an attachment in a sandbox.
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Awaitable, Callable
from typing import Any

from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.in_process import AwsCallError, InProcessAws, strip_namespaces

__all__ = ["PANEL_ROUTES", "ServicePanels"]

#: Bytes of an object a preview shows (text or image).
PREVIEW_BYTES = 256 * 1024
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

Handler = Callable[["ServicePanels", ServiceRequest], Awaitable[Any]]


def _required(request: ServiceRequest, name: str) -> str:
    value = request.query.get(name, "")
    if not value:
        raise AwsCallError(400, "MissingParameter", f"?{name}= is required")
    return value


def _body_json(request: ServiceRequest) -> Any:
    try:
        return json.loads(request.body or b"{}")
    except ValueError as exc:
        raise AwsCallError(400, "InvalidJson", f"The body is not JSON: {exc}") from exc


async def _read_all(response: ServiceResponse, limit: int | None = None) -> bytes:
    if response.stream is None:
        return response.body if limit is None else response.body[:limit]
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.stream:
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size >= limit:
            break
    closer = getattr(response.stream, "aclose", None)
    if closer is not None:
        await closer()
    data = b"".join(chunks)
    return data if limit is None else data[:limit]


class ServicePanels:
    def __init__(self, aws: InProcessAws) -> None:
        self.aws = aws

    # ------------------------------------------------------------------ S3

    async def s3_buckets(self, request: ServiceRequest) -> Any:
        response = await self.aws.s3("GET", "")
        root = _xml(response.body)
        return {"buckets": [b.findtext("Name") for b in root.iter("Bucket")]}

    async def s3_objects(self, request: ServiceRequest) -> Any:
        bucket = _required(request, "bucket")
        query = {"list-type": "2", "delimiter": "/", "prefix": request.query.get("prefix", "")}
        if request.query.get("token"):
            query["continuation-token"] = request.query["token"]
        root = _xml((await self.aws.s3("GET", bucket, query=query)).body)
        return {
            "bucket": bucket,
            "prefix": query["prefix"],
            "folders": [p.findtext("Prefix") for p in root.iter("CommonPrefixes")],
            "objects": [
                {
                    "key": c.findtext("Key"),
                    "size": int(c.findtext("Size") or 0),
                    "modified": c.findtext("LastModified"),
                    "etag": (c.findtext("ETag") or "").strip('"'),
                }
                for c in root.iter("Contents")
            ],
            "next": root.findtext("NextContinuationToken"),
        }

    async def s3_preview(self, request: ServiceRequest) -> Any:
        bucket, key = _required(request, "bucket"), _required(request, "key")
        response = await self.aws.s3("GET", bucket, key)
        headers = {name.lower(): value for name, value in response.headers}
        content_type = headers.get("content-type", "application/octet-stream")
        size = int(headers.get("content-length", "0") or 0)
        data = await _read_all(response, PREVIEW_BYTES)
        preview: dict[str, Any] = {"key": key, "content_type": content_type, "size": size}
        if content_type.split(";")[0].strip() in _IMAGE_TYPES and size <= PREVIEW_BYTES:
            encoded = base64.b64encode(data).decode("ascii")
            preview["image"] = f"data:{content_type.split(';')[0]};base64,{encoded}"
        else:
            try:
                preview["text"] = data.decode("utf-8")
            except UnicodeDecodeError:
                preview["text"] = None  # binary: offer the download instead
        preview["truncated"] = size > len(data)
        return preview

    async def s3_download(self, request: ServiceRequest) -> ServiceResponse:
        bucket, key = _required(request, "bucket"), _required(request, "key")
        response = await self.aws.s3("GET", bucket, key)
        data = await _read_all(response)
        filename = key.rsplit("/", 1)[-1].replace('"', "") or "object"
        return ServiceResponse(
            200,
            [
                ("Content-Type", "application/octet-stream"),
                ("Content-Disposition", f'attachment; filename="{filename}"'),
                ("Content-Security-Policy", "sandbox"),
                ("X-Content-Type-Options", "nosniff"),
            ],
            data,
        )

    async def s3_put(self, request: ServiceRequest) -> Any:
        bucket, key = _required(request, "bucket"), _required(request, "key")
        content_type = request.headers.get("content-type") or "application/octet-stream"
        response = await self.aws.s3(
            "PUT", bucket, key, body=request.body, headers={"content-type": content_type}
        )
        etag = next((v for n, v in response.headers if n.lower() == "etag"), "")
        return {"bucket": bucket, "key": key, "size": len(request.body), "etag": etag.strip('"')}

    async def s3_delete(self, request: ServiceRequest) -> Any:
        bucket, key = _required(request, "bucket"), _required(request, "key")
        await self.aws.s3("DELETE", bucket, key)
        return {"bucket": bucket, "key": key, "deleted": True}

    # ------------------------------------------------------------------ DynamoDB

    async def dynamodb_tables(self, request: ServiceRequest) -> Any:
        names = (await self.aws.json("dynamodb", "ListTables", {}))["TableNames"]
        tables = []
        for name in names:
            table = (await self.aws.json("dynamodb", "DescribeTable", {"TableName": name}))["Table"]
            tables.append(
                {
                    "name": name,
                    "keys": table["KeySchema"],
                    "attributes": table["AttributeDefinitions"],
                    "items": table.get("ItemCount", 0),
                    "stream": table.get("LatestStreamArn"),
                }
            )
        return {"tables": tables}

    async def dynamodb_items(self, request: ServiceRequest) -> Any:
        table = _required(request, "table")
        params: dict[str, Any] = {"TableName": table, "Limit": 50}
        if request.query.get("start"):
            params["ExclusiveStartKey"] = json.loads(request.query["start"])
        partition = request.query.get("partition")
        if partition:
            described = await self.aws.json("dynamodb", "DescribeTable", {"TableName": table})
            schema = described["Table"]
            hash_key = next(
                k["AttributeName"] for k in schema["KeySchema"] if k["KeyType"] == "HASH"
            )
            kind = next(
                a["AttributeType"]
                for a in schema["AttributeDefinitions"]
                if a["AttributeName"] == hash_key
            )
            params["KeyConditionExpression"] = "#k = :v"
            params["ExpressionAttributeNames"] = {"#k": hash_key}
            params["ExpressionAttributeValues"] = {":v": {kind: partition}}
            answer = await self.aws.json("dynamodb", "Query", params)
        else:
            answer = await self.aws.json("dynamodb", "Scan", params)
        return {
            "table": table,
            "items": answer.get("Items", []),
            "next": answer.get("LastEvaluatedKey"),
        }

    async def dynamodb_put(self, request: ServiceRequest) -> Any:
        table = _required(request, "table")
        item = _body_json(request)
        await self.aws.json("dynamodb", "PutItem", {"TableName": table, "Item": item})
        return {"table": table, "item": item}

    async def dynamodb_delete(self, request: ServiceRequest) -> Any:
        table = _required(request, "table")
        key = _body_json(request)
        await self.aws.json("dynamodb", "DeleteItem", {"TableName": table, "Key": key})
        return {"table": table, "key": key, "deleted": True}

    # ------------------------------------------------------------------ SQS

    async def _queue_url(self, name: str) -> str:
        return str((await self.aws.json("sqs", "GetQueueUrl", {"QueueName": name}))["QueueUrl"])

    async def sqs_queues(self, request: ServiceRequest) -> Any:
        urls = (await self.aws.json("sqs", "ListQueues", {})).get("QueueUrls", [])
        queues = []
        for url in urls:
            attributes = (
                await self.aws.json(
                    "sqs", "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]}
                )
            ).get("Attributes", {})
            sources = (
                await self.aws.json("sqs", "ListDeadLetterSourceQueues", {"QueueUrl": url})
            ).get("queueUrls", [])
            queues.append(
                {
                    "name": url.rsplit("/", 1)[-1],
                    "url": url,
                    "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
                    "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                    "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
                    "redrive_policy": attributes.get("RedrivePolicy"),
                    "dead_letter_for": [u.rsplit("/", 1)[-1] for u in sources],
                }
            )
        return {"queues": queues}

    async def sqs_peek(self, request: ServiceRequest) -> Any:
        name = _required(request, "queue")
        service: Any = self.aws.service("sqs")
        if not hasattr(service, "engine") and callable(getattr(service, "get", None)):
            service = service.get()  # `lambic services` builds a service on first use
        engine = getattr(service, "engine", None)
        if engine is None:
            raise AwsCallError(503, "ServiceUnavailable", "SQS is not running")
        messages = engine.peek_messages(name, 10)
        return {
            "queue": name,
            "messages": [
                {
                    "message_id": m.message_id,
                    "body": m.body,
                    "sent_at": m.sent_at,
                    "receive_count": m.receive_count,
                }
                for m in messages
            ],
        }

    async def sqs_purge(self, request: ServiceRequest) -> Any:
        name = _required(request, "queue")
        await self.aws.json("sqs", "PurgeQueue", {"QueueUrl": await self._queue_url(name)})
        return {"queue": name, "purged": True}

    async def sqs_redrive(self, request: ServiceRequest) -> Any:
        name = _required(request, "queue")
        url = await self._queue_url(name)
        arn = (
            await self.aws.json(
                "sqs", "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]}
            )
        )["Attributes"]["QueueArn"]
        task = await self.aws.json("sqs", "StartMessageMoveTask", {"SourceArn": arn})
        return {"queue": name, "task": task.get("TaskHandle")}

    async def sqs_send(self, request: ServiceRequest) -> Any:
        name = _required(request, "queue")
        body = _body_json(request).get("body", "")
        params = {"QueueUrl": await self._queue_url(name), "MessageBody": str(body)}
        answer = await self.aws.json("sqs", "SendMessage", params)
        return {"queue": name, "message_id": answer.get("MessageId")}

    # ------------------------------------------------------------------ SNS, EventBridge

    async def sns_topics(self, request: ServiceRequest) -> Any:
        root = await self.aws.query("sns", "ListTopics", {})
        return {"topics": [t.findtext("TopicArn") for t in root.iter("member")]}

    async def sns_publish(self, request: ServiceRequest) -> Any:
        topic = _required(request, "topic")
        data = _body_json(request)
        params = {"TopicArn": topic, "Message": str(data.get("message", ""))}
        if data.get("subject"):
            params["Subject"] = str(data["subject"])
        root = await self.aws.query("sns", "Publish", params)
        return {"topic": topic, "message_id": root.findtext(".//MessageId")}

    async def events_put(self, request: ServiceRequest) -> Any:
        data = _body_json(request)
        entry = {
            "Source": str(data.get("source", "")),
            "DetailType": str(data.get("detail_type", "")),
            "Detail": json.dumps(data.get("detail", {})),
        }
        if data.get("bus"):
            entry["EventBusName"] = str(data["bus"])
        answer = await self.aws.json("events", "PutEvents", {"Entries": [entry]})
        return {"failed": answer.get("FailedEntryCount", 0), "entries": answer.get("Entries")}


def _xml(body: bytes) -> Any:
    return strip_namespaces(ElementTree.fromstring(body))


#: (method, path, handler) under /_lambic/api/.
PANEL_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "s3/buckets", ServicePanels.s3_buckets),
    ("GET", "s3/objects", ServicePanels.s3_objects),
    ("GET", "s3/preview", ServicePanels.s3_preview),
    ("GET", "s3/download", ServicePanels.s3_download),
    ("PUT", "s3/object", ServicePanels.s3_put),
    ("DELETE", "s3/object", ServicePanels.s3_delete),
    ("GET", "dynamodb/tables", ServicePanels.dynamodb_tables),
    ("GET", "dynamodb/items", ServicePanels.dynamodb_items),
    ("PUT", "dynamodb/item", ServicePanels.dynamodb_put),
    ("DELETE", "dynamodb/item", ServicePanels.dynamodb_delete),
    ("GET", "sqs/queues", ServicePanels.sqs_queues),
    ("GET", "sqs/peek", ServicePanels.sqs_peek),
    ("POST", "sqs/purge", ServicePanels.sqs_purge),
    ("POST", "sqs/redrive", ServicePanels.sqs_redrive),
    ("POST", "sqs/send", ServicePanels.sqs_send),
    ("GET", "sns/topics", ServicePanels.sns_topics),
    ("POST", "sns/publish", ServicePanels.sns_publish),
    ("POST", "events/put", ServicePanels.events_put),
)
