"""The edge port: one HTTP listener in front of every local service.

Data flow: socket → `_http.EdgeSite` (on `_http_core`) → `ServiceRequest` → `EdgeApp.dispatch`
→ `route_service` → `Service.handle` → `ServiceResponse` → socket.

AWS clients address services differently and we route the way they do:
- JSON protocols name the operation in `X-Amz-Target` (`DynamoDB_20120810.PutItem`,
  `AmazonSQS.SendMessage`, `AWSEvents.PutEvents`, `DynamoDBStreams_20120810.GetRecords`,
  `Kinesis_20131202.PutRecord`);
- query protocols (SQS's older SDKs, SNS) POST a form with `Action=`; which service is
  meant is in the SigV4 credential scope (`Credential=AKID/date/region/sns/aws4_request`);
- REST protocols name nothing but the credential scope: S3 (REST-XML, path-style or
  virtual-host-style) and, under `lambic local`, Lambda (REST-JSON under
  `/2015-03-31/functions`, also recognised unsigned by that path).

A request meant for a service the edge does not serve (Secrets Manager, Firehose...)
is recognised by its credential scope (header or presigned query), an unknown
`X-Amz-Target` prefix or an AWS host name, and gets AWS's `NotImplemented` in that
service's protocol (`_unserved`), never a misleading S3 answer. A plain S3 request pays
one header lookup and one substring test for this.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lambic.services import _cross_origin
from lambic.services._s3_hosts import virtual_host_bucket
from lambic.services._unserved import render_unserved
from lambic.services.auth import Authenticator, AuthError, render_auth_error
from lambic.services.base import (
    Service,
    ServiceRequest,
    ServiceResponse,
    SpoolingService,
)

# X-Amz-Target prefixes of the JSON-protocol services we serve.
_TARGET_PREFIXES = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
    "AmazonSQS": "sqs",
    "AWSEvents": "events",
    "Kinesis_20131202": "kinesis",
}
_SCOPE_SERVICE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([a-z0-9-]+)/aws4_request")
_QUERY_SCOPE_SERVICE = re.compile(
    r"X-Amz-Credential=[^&]*?(?:%2F|/)([a-z0-9-]+)(?:%2F|/)aws4_request"
)
# An unknown X-Amz-Target prefix names its service: "Kinesis_20131202" -> "kinesis".
_TARGET_SERVICE = re.compile(r"([A-Za-z0-9-]+?)(?:_\d{8})?$")
# An AWS region label in a host name ("us-east-1"), dropped to find the service label.
_REGION_LABEL = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
_SERVICE_LABEL = re.compile(r"^[a-z0-9-]+$")
# The Lambda API's path, for requests that carry no signature (curl, a test).
LAMBDA_PATH_PREFIX = "/2015-03-31/functions"
# The console's pages and API (`lambic.console`), always unsigned (a browser).
CONSOLE_PATH_PREFIX = "/_lambic/"
# When a query-protocol request carries no signature (curl, a form), the action name
# tells SNS from SQS: their action sets do not overlap.
_SNS_ACTIONS = frozenset(
    {
        "CreateTopic",
        "DeleteTopic",
        "ListTopics",
        "GetTopicAttributes",
        "SetTopicAttributes",
        "Subscribe",
        "Unsubscribe",
        "ConfirmSubscription",
        "ListSubscriptions",
        "ListSubscriptionsByTopic",
        "GetSubscriptionAttributes",
        "SetSubscriptionAttributes",
        "Publish",
        "PublishBatch",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
        "CreatePlatformApplication",
        "GetPlatformApplicationAttributes",
        "SetPlatformApplicationAttributes",
        "ListPlatformApplications",
        "DeletePlatformApplication",
        "CreatePlatformEndpoint",
        "GetEndpointAttributes",
        "SetEndpointAttributes",
        "ListEndpointsByPlatformApplication",
        "DeleteEndpoint",
    }
)

# STS's actions, for an unsigned query request (none of them is SQS's or SNS's).
_STS_ACTIONS = frozenset({"GetCallerIdentity", "AssumeRole", "GetSessionToken", "GetAccessKeyInfo"})

_SERVED_ORDER = {
    name: i
    for i, name in enumerate(
        ("s3", "dynamodb", "dynamodbstreams", "sqs", "sns", "events", "sts", "kinesis", "lambda")
    )
}


def route_service(request: ServiceRequest) -> str:
    """Name the service an AWS client meant with this request.

    The name may be one the edge does not serve ("sts"); the edge answers that with
    `NotImplemented`.
    """
    target = request.headers.get("x-amz-target")
    if target:
        prefix = target.split(".", 1)[0]
        if prefix in _TARGET_PREFIXES:
            return _TARGET_PREFIXES[prefix]
        return _credential_scope_service(request) or _target_service(prefix)
    action = _query_action(request)
    if action is not None:
        scope = _credential_scope_service(request)
        if scope is not None and scope != "s3":
            return scope  # sqs, sns, or a query service we do not serve (sts, ec2...)
        if action in _STS_ACTIONS:
            return "sts"
        return "sns" if action in _SNS_ACTIONS else "sqs"
    auth = request.headers.get("authorization")
    if auth is not None and "/s3/aws4_request" in auth:
        return "s3"  # boto3's S3 signature names its service in plain text: decided here
    return _rest_service(request, auth)


def _rest_service(request: ServiceRequest, auth: str | None) -> str:
    """S3 (unsigned, presigned, SigV2), Lambda or an unserved REST service."""
    if auth is not None:
        # S3's legacy SigV2 ("AWS AKID:sig") has no scope and is S3's alone.
        if not auth.startswith("AWS4"):
            return "s3"
        match = _SCOPE_SERVICE.search(auth)
        return match.group(1) if match else "s3"
    if "X-Amz-Credential" in request.query_string:
        match = _QUERY_SCOPE_SERVICE.search(request.query_string)
        return match.group(1) if match else "s3"
    if request.path.startswith(LAMBDA_PATH_PREFIX):
        return "lambda"
    if request.path.startswith(CONSOLE_PATH_PREFIX):
        return "console"  # no bucket is named "_lambic": S3 bucket names have no "_"
    if ".amazonaws.com" in request.host:
        return _host_service(request.host)
    if (
        request.path == "/"
        and "origin" in request.headers
        and virtual_host_bucket(request.host) is None
    ):
        # A browser at the endpoint's root, unsigned (a CORS preflight, or a page's bare
        # GET/POST): DynamoDB's endpoint answers these; S3's root has nothing for a
        # browser (anonymous ListBuckets is always denied) and a bucket is in the path
        # or the host name.
        return "dynamodb"
    return "s3"


def _target_service(prefix: str) -> str:
    match = _TARGET_SERVICE.match(prefix)
    return match.group(1).lower() if match else "unknown"


def _host_service(host: str) -> str:
    """`sts.amazonaws.com` -> "sts", `ID.execute-api.us-east-1.amazonaws.com` ->
    "execute-api"; S3's own host names (`bucket.s3.amazonaws.com`, `s3-...`) -> "s3"."""
    labels = host.lower().partition(":")[0].split(".")
    labels = labels[: labels.index("amazonaws")] if "amazonaws" in labels else []
    if any(label == "s3" or label.startswith("s3-") for label in labels):
        return "s3"
    if labels and _REGION_LABEL.match(labels[-1]):
        labels.pop()
    if labels and _SERVICE_LABEL.match(labels[-1]):
        return labels[-1]
    return "s3"


def _query_action(request: ServiceRequest) -> str | None:
    content_type = request.headers.get("content-type", "")
    if request.method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
        # S3 never POSTs a form with Action=; its POSTs are ?delete, ?uploads, ?uploadId.
        for name, value in _form_fields(request.body):
            if name == "Action":
                return value
    if request.method == "GET" and "Action=" in request.query_string:
        return request.query.get("Action")
    return None


def _form_fields(body: bytes) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def _credential_scope_service(request: ServiceRequest) -> str | None:
    auth = request.headers.get("authorization", "")
    match = _SCOPE_SERVICE.search(auth)
    if match:
        return match.group(1)
    match = _QUERY_SCOPE_SERVICE.search(request.query_string)
    return match.group(1) if match else None


class EdgeApp:
    """What the edge port serves: routing, authentication, then the addressed service."""

    def __init__(
        self, services: Mapping[str, Service], *, auth: Authenticator | None = None
    ) -> None:
        self._services = dict(services)
        # Even without credentials the authenticator refuses expired presigned URLs.
        self.auth = auth if auth is not None else Authenticator()
        # DynamoDB Streams is served by the DynamoDB service when it offers it.
        if "dynamodbstreams" not in self._services and "dynamodb" in self._services:
            self._services["dynamodbstreams"] = self._services["dynamodb"]
        # Named in the NotImplemented answer, in the order a reader expects.
        self.served: tuple[str, ...] = tuple(
            sorted(self._services, key=lambda n: _SERVED_ORDER.get(n, len(_SERVED_ORDER)))
        )

    @property
    def services(self) -> Mapping[str, Service]:
        return self._services

    def upload_spool(self, name: str, head: ServiceRequest) -> tuple[bool, str | None]:
        """(whether the request is an upload, where to spool its body): a request of a
        service without uploads, or of one kept in memory, has no spool directory."""
        service = self._services.get(name)
        if isinstance(service, SpoolingService) and service.takes_upload(head):
            return True, service.spool_directory
        return False, None

    def refuse_at_head(self, head: ServiceRequest) -> ServiceResponse | None:
        """The answer, before any body byte, to a request asking `Expect: 100-continue`
        that is refused whatever its body: the edge's own head checks (a SigV2 date, a
        presigned URL's window), then the service's (`SpoolingService.refuse_at_head`)."""
        name = route_service(head)
        service = self._services.get(name)
        if not isinstance(service, SpoolingService):
            return None
        try:
            self.auth.check_head(head, name)
        except AuthError as error:
            return render_auth_error(error, name, error_protocol(name, head))
        return service.refuse_at_head(head)

    async def dispatch(self, request: ServiceRequest) -> ServiceResponse:
        name = route_service(request)
        service = self._services.get(name)
        if service is None:
            return render_unserved(name, request, self.served)
        if name == "console":  # a browser's requests: the console checks them itself
            return await service.handle(request)
        if name == "dynamodb" and "origin" in request.headers:
            return await self._cross_origin(service, request)
        try:
            request = self.auth.check(request, name)
        except AuthError as error:
            return render_auth_error(error, name, error_protocol(name, request))
        return await service.handle(request)

    async def _cross_origin(self, service: Service, request: ServiceRequest) -> ServiceResponse:
        """A browser's DynamoDB request (`_cross_origin`): a preflight is answered
        unauthenticated; any other answer, errors included, carries the CORS headers."""
        if request.method == "OPTIONS":
            return _cross_origin.preflight(request)
        try:
            request = self.auth.check(request, "dynamodb")
        except AuthError as error:
            return _cross_origin.allow(render_auth_error(error, "dynamodb", "json"))
        return _cross_origin.allow(await service.handle(request))


def error_protocol(name: str, request: ServiceRequest) -> str:
    """Which error shape a service's clients expect (see `_auth_errors`, `_edge_refusals`)."""
    if name == "s3":
        return "s3"
    if name == "lambda":
        return "rest-json"
    if name == "sqs":
        return "sqs-json" if "x-amz-target" in request.headers else "query"
    if name in ("sns", "sts"):
        return "query"
    return "json"
