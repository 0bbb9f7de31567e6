"""The local services called in-process, in their own AWS protocols (no SDK, no socket).

The console's S3, DynamoDB, SQS, SNS and EventBridge panels, and `lambic local`'s
creation of the declared resources (`runtime.resources`), do what an SDK would
(ListObjectsV2, Scan, PutItem, CreateTable, Publish...) by handing each service a
`ServiceRequest` as the edge would: the answers, the validation and the side effects
(an upload fires the app's S3 handler) are exactly the service's, and no SDK is
imported (boto3 and botocore cost a process ~0.2 s of CPU and ~20 MB). Errors come
back as `AwsCallError` with the service's code and message.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from lambic.project.account import LOCAL_ACCESS_KEY, LOCAL_REGION
from lambic.services.base import Headers, Service, ServiceRequest, ServiceResponse

__all__ = ["AwsCallError", "InProcessAws"]

_JSON_TARGETS = {
    "dynamodb": ("DynamoDB_20120810", "application/x-amz-json-1.0"),
    "sqs": ("AmazonSQS", "application/x-amz-json-1.0"),
    "events": ("AWSEvents", "application/x-amz-json-1.1"),
    "kinesis": ("Kinesis_20131202", "application/x-amz-json-1.1"),
}


class AwsCallError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.status = status
        self.code = code


def strip_namespaces(root: ElementTree.Element) -> ElementTree.Element:
    """AWS's XML answers carry a default namespace; the console reads plain tag names."""
    for element in root.iter():
        if "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def _xml_error(response: ServiceResponse) -> AwsCallError:
    try:
        root = strip_namespaces(ElementTree.fromstring(response.body))
    except ElementTree.ParseError:
        return AwsCallError(response.status, str(response.status), response.body.decode()[:200])
    code = root.findtext(".//Code") or str(response.status)
    return AwsCallError(response.status, code, root.findtext(".//Message") or "")


class InProcessAws:
    """Calls the services behind this edge without a socket."""

    def __init__(self, services: Mapping[str, Service], host: str) -> None:
        self._services = services
        self._host = host

    def has(self, service: str) -> bool:
        return service in self._services

    def service(self, name: str) -> Service:
        service = self._services.get(name)
        if service is None:
            raise AwsCallError(503, "ServiceUnavailable", f"{name} is not running")
        return service

    async def _send(
        self,
        service: str,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> ServiceResponse:
        # The caller acts as the account's owner, as a signed SDK call would: a request
        # without credentials is anonymous, which a bucket's policy may refuse. These
        # calls skip the edge, where signatures are checked, so the header only says who.
        owner = (
            f"AWS4-HMAC-SHA256 Credential={LOCAL_ACCESS_KEY}/20260101/{LOCAL_REGION}/{service}"
            "/aws4_request, SignedHeaders=host, Signature=lambic-console"
        )
        request = ServiceRequest(
            method,
            path,
            query,
            Headers(
                [
                    ("host", self._host),
                    ("authorization", owner),
                    # What the HTTP framing would say (S3 refuses a PUT without it, 411).
                    ("content-length", str(len(body))),
                    *(headers or {}).items(),
                ]
            ),
            body,
            host=self._host,
        )
        return await self.service(service).handle(request)

    async def json(self, service: str, operation: str, params: Mapping[str, Any]) -> Any:
        """A JSON-protocol operation (DynamoDB, SQS, EventBridge, Kinesis); its decoded answer."""
        prefix, content_type = _JSON_TARGETS[service]
        response = await self._send(
            service,
            "POST",
            "/",
            body=json.dumps(params).encode("utf-8"),
            headers={"x-amz-target": f"{prefix}.{operation}", "content-type": content_type},
        )
        data = json.loads(response.body) if response.body else {}
        if response.status >= 400:
            code = str(data.get("__type", response.status)).rsplit("#", 1)[-1]
            message = data.get("message") or data.get("Message") or ""
            raise AwsCallError(response.status, code, str(message))
        return data

    async def query(self, service: str, action: str, params: Mapping[str, str]) -> Any:
        """A query-protocol action (SNS); its XML answer's root element."""
        body = urlencode({"Action": action, "Version": "2010-03-31", **params}).encode()
        response = await self._send(
            service,
            "POST",
            "/",
            body=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        if response.status >= 400:
            raise _xml_error(response)
        return strip_namespaces(ElementTree.fromstring(response.body))

    async def s3(
        self,
        method: str,
        bucket: str,
        key: str = "",
        query: Mapping[str, str] | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> ServiceResponse:
        """An S3 REST call on `bucket`/`key` (path style); raises on an error answer."""
        path = "/" + quote(bucket) + ("/" + quote(key, safe="/~") if key else "")
        response = await self._send(
            "s3", method, path, urlencode(query or {}, quote_via=quote), body, headers
        )
        if response.status >= 400:
            if response.stream is not None:
                response.body = b"".join([chunk async for chunk in response.stream])
            raise _xml_error(response)
        return response
