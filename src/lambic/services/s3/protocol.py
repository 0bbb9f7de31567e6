"""S3's REST-XML wire protocol: addressing, operation dispatch, AWS error documents.

Data flow: `ServiceRequest` → bucket/key from the Host header (virtual-host style:
`<bucket>.localhost:4566`, `<bucket>.s3.localhost...`, `<bucket>.s3.<region>.amazonaws.com`)
or the path (path style: `/<bucket>/<key>`) → operation picked by method, bucket/key
presence and sub-resource query parameters (`?uploads`, `?delete`, `list-type=2`...)
→ handler in `_buckets` / `_objects` / `_multipart` → `ServiceResponse` with
`x-amz-request-id` and `x-amz-id-2`. Errors become AWS's `<Error>` document; HEAD
answers carry no body, as on AWS.

Requests without an Authorization header or a presigned query are anonymous: as on
AWS, each is served only when the bucket policy grants its action to everyone
(`policy`; a `PublicRead` bucket in the config has such a policy) and denies it
nothing, or an ACL grants it to everyone (`authorize.require_anonymous`, the one
rule), else 403 AccessDenied. A browser form upload without a policy is anonymous
too; one with a policy is signed. Plain anonymous GETs (a browser's) answer a
missing key 403 too unless `s3:ListBucket` is granted, as S3 hides which keys
exist, and get website-endpoint-like behaviour: `/<bucket>/` and
`/<bucket>/dir/` serve `index.html` from that "folder", and `/<bucket>` or
`/<bucket>/dir` redirect (302) to the slash form when such an `index.html` exists, so
relative links in the page resolve like on S3 static hosting.

Signed requests meet the bucket policy's explicit Denies after routing
(`authorize.check_signed`); with identities configured, the whole cross-account
decision of `principals.check_signed` (owners, policies, ACL grants).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import ModuleType
from urllib.parse import unquote

from lambic.services._metering import Meter
from lambic.services._s3_hosts import virtual_host_bucket
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.s3 import _buckets, authorize, principals
from lambic.services.s3._call import Call, empty_response, xml_response
from lambic.services.s3._metering import pricing_class
from lambic.services.s3._wire import XML_DECL, decode_uri_part, request_ids, x
from lambic.services.s3.cors import matching_rule
from lambic.services.s3.engine import RequestContext, S3Engine
from lambic.services.s3.errors import S3Error

log = logging.getLogger("lambic.services.s3")

Handler = Callable[[Call], ServiceResponse | Awaitable[ServiceResponse]]


def _handlers(module: str) -> ModuleType:
    """One of the handler modules this one routes to besides `_buckets` (objects,
    multipart uploads, bucket settings, ACLs, object lock, form uploads...), imported
    by the first request it serves: a local cloud whose code never sends one does not
    hold their code (~0.4 MB of `lambic local`'s own memory on the flagship, which only
    creates its bucket until it writes the first object)."""
    return importlib.import_module(f"lambic.services.s3.{module}")


class _Later:
    """The handler `name` of module `module` (`_handlers`), imported on its first call."""

    __slots__ = ("_module", "_name", "_target")

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name
        self._target: Handler | None = None

    def __call__(self, call: Call) -> ServiceResponse | Awaitable[ServiceResponse]:
        target = self._target
        if target is None:
            target = self._target = getattr(_handlers(self._module), self._name)
        return target(call)

    def __repr__(self) -> str:
        return f"<S3 handler {self._module}.{self._name}>"


def _later(module: str, *names: str) -> dict[str, Handler]:
    """`_Later` handlers by method: `_later("_acls", "GET:get_bucket_acl", ...)`."""
    return {method: _Later(module, name) for method, _, name in (n.partition(":") for n in names)}


post_object: Handler = _Later("post", "post_object")
_get_object: Handler = _Later("_objects", "get_object")
_put_object: Handler = _Later("_objects", "put_object")
_copy_object: Handler = _Later("_objects", "copy_object")
_delete_object: Handler = _Later("_objects", "delete_object")
_delete_objects: Handler = _Later("_objects", "delete_objects")
_multipart = _later(
    "_multipart",
    "list:list_uploads",
    "parts:list_parts",
    "part:upload_part",
    "part-copy:upload_part_copy",
    "abort:abort_upload",
    "create:create_upload",
    "complete:complete_upload",
)


# Sub-resources S3 has that this local S3 does not implement: AWS's NotImplemented
# is clearer than silently treating `PUT ?policy` as CreateBucket.
_UNSUPPORTED_BUCKET = frozenset(
    {
        "website",
        "logging",
        "replication",
        "accelerate",
        "requestPayment",
        "intelligent-tiering",
        "inventory",
        "metrics",
        "analytics",
        "metadataTable",
    }
)
# Sub-resources answered for GET only (their PUT is not implemented).
_READ_ONLY_BUCKET = frozenset({"versions"})
_UNSUPPORTED_OBJECT = frozenset({"restore", "select"})


def _address(request: ServiceRequest) -> tuple[str, str | None]:
    path = request.path
    bucket = virtual_host_bucket(request.host)
    if bucket is not None:
        key = decode_uri_part(path[1:]) if len(path) > 1 else None
        return bucket, key
    raw_bucket, slash, raw_key = path[1:].partition("/")
    return decode_uri_part(raw_bucket), (decode_uri_part(raw_key) if slash and raw_key else None)


def is_form_upload(method: str, headers: Mapping[str, str]) -> bool:
    """A browser form upload (PostObject): a POST of multipart/form-data."""
    return method == "POST" and headers.get("content-type", "").lower().startswith(
        "multipart/form-data"
    )


def is_upload(request: ServiceRequest) -> bool:
    """A request whose body is object data: PutObject, UploadPart, a POST form upload."""
    if request.method == "PUT":
        if "x-amz-copy-source" in request.headers:
            return False
        try:
            return _address(request)[1] is not None
        except S3Error:
            return False  # answered InvalidURI, body unread
    return is_form_upload(request.method, request.headers)


class S3Protocol:
    """Parses S3 requests, calls the engine, renders AWS's responses."""

    def __init__(self, engine: S3Engine) -> None:
        self.engine = engine
        engine.defer_discards = True
        #: Counts each request by S3's pricing class when set (`S3Service.use_meter`).
        self.meter: Meter | None = None

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        request_id, host_id = request_ids()
        call: Call | None = None
        try:
            call = self._call(request, request_id)
            handler = self._route(call)
            if call.bucket:
                authorize.check_expected_owner(call)
            if call.anonymous:
                if handler not in _DECIDES_ANONYMOUS:
                    authorize.check_anonymous(call)
            elif call.principal is not None:
                principals.check_signed(call)
            elif call.bucket:
                authorize.check_signed(call)
            result = handler(call)
            response = result if isinstance(result, ServiceResponse) else await result
        except S3Error as error:
            response = render_error(error, request, request_id, host_id)
        except Exception:
            log.exception("S3 %s %s failed", request.method, request.path)
            response = render_error(S3Error("InternalError"), request, request_id, host_id)
        origin = request.headers.get("origin")
        if origin is not None and request.method != "OPTIONS":
            response.headers.extend(self._cors_headers(request, origin))
        response.headers.append(("x-amz-request-id", request_id))
        response.headers.append(("x-amz-id-2", host_id))
        if self.meter is not None and response.status != 403 and call is not None:
            billed = pricing_class(request.method, call.bucket, call.key, call.query)
            if billed is not None:
                self.meter.add("s3", call.bucket or "", billed)
        if self.engine.has_discards:
            # Unlinking replaced blobs waits until this response has been written:
            # callbacks run after the task step that writes it.
            asyncio.get_running_loop().call_soon(self.engine.flush_discards)
        return response

    def refuse_at_head(self, head: ServiceRequest) -> ServiceResponse | None:
        """S3's answer to an unsigned request's head when the anonymous rule refuses
        it whatever its body (None: let the body come; signed ones always may)."""
        request_id, host_id = request_ids()
        try:
            call = self._call(head, request_id)
            if not call.anonymous:
                return None
            handler = self._route(call)
            if handler in _DECIDES_ANONYMOUS:
                return None
            if call.bucket:
                authorize.check_expected_owner(call)
            authorize.check_anonymous(call)
        except S3Error as error:
            response = render_error(error, head, request_id, host_id)
            response.headers.append(("x-amz-request-id", request_id))
            response.headers.append(("x-amz-id-2", host_id))
            return response
        return None

    def _cors_headers(self, request: ServiceRequest, origin: str) -> list[tuple[str, str]]:
        """Access-Control-* for an actual (non-preflight) browser request S3 allows."""
        try:
            bucket, _ = _address(request)
        except S3Error:
            return []  # an unparsable URI was answered InvalidURI
        rules = self.engine.cors_rules(bucket) if bucket else None
        # S3 matches a rule on the method the request names in Access-Control-Request-Method
        # when it carries one (as a preflight would), else on its own method.
        method = request.headers.get("access-control-request-method") or request.method
        rule = matching_rule(rules, origin, method, []) if rules else None
        return rule.response_headers(origin, []) if rule else []

    def _call(self, request: ServiceRequest, request_id: str) -> Call:
        bucket, key = _address(request)
        query = request.query if request.query_string else {}
        anonymous = "authorization" not in request.headers and not (
            "X-Amz-Credential" in query or "AWSAccessKeyId" in query
        )
        identities = self.engine.identities
        principal = None
        if identities is not None and not anonymous:
            principal = request.principal or identities.default
        return Call(
            request=request,
            engine=self.engine,
            bucket=bucket,
            key=key,
            query=query,
            context=RequestContext(request.client_host, request_id),
            anonymous=anonymous,
            base_url=f"http://{request.host or '127.0.0.1'}",
            principal=principal,
        )

    def _route(self, call: Call) -> Handler:
        method = call.request.method
        if method == "OPTIONS" and call.bucket:
            return _preflight
        if not call.bucket:
            if method == "GET":
                return _buckets.list_buckets
            raise _method_not_allowed(method, "SERVICE")
        if call.key is None:
            return _bucket_route(call, method)
        return _object_route(call, method)


_CORS_HANDLERS: dict[str, Handler] = {
    "GET": _buckets.get_cors,
    "PUT": _buckets.put_cors,
    "DELETE": _buckets.delete_cors,
}


# GET sub-resources in the order they are tried: a query naming two picks the first.
_READ_ONLY_GETS: tuple[tuple[str, Handler], ...] = (
    ("versions", _Later("_protection", "list_versions")),
)
#: The bucket settings `_settings.SETTINGS` reads and writes, by sub-resource (named
#: here so that routing a request does not import them: `_handlers`).
SETTING_NAMES = (
    "encryption",
    "policy",
    "lifecycle",
    "publicAccessBlock",
    "tagging",
    "ownershipControls",
)
# Bucket sub-resources with a handler per method.
_BUCKET_SUBRESOURCES: dict[str, Mapping[str, Handler]] = {
    "versioning": _later("_protection", "GET:get_versioning", "PUT:put_versioning"),
    "object-lock": _later(
        "_protection", "GET:get_lock_configuration", "PUT:put_lock_configuration"
    ),
    **dict.fromkeys(
        SETTING_NAMES,
        _later("_settings", "GET:get_setting", "PUT:put_setting", "DELETE:delete_setting"),
    ),
    "acl": _later("_acls", "GET:get_bucket_acl", "PUT:put_bucket_acl"),
    "policyStatus": _later("_acls", "GET:get_policy_status"),
}
_OBJECT_SUBRESOURCES: dict[str, Mapping[str, Handler]] = {
    "retention": _later("_protection", "GET:get_retention", "PUT:put_retention"),
    "legal-hold": _later("_protection", "GET:get_legal_hold", "PUT:put_legal_hold"),
    "acl": _later("_acls", "GET:get_object_acl", "PUT:put_object_acl"),
    "attributes": _later("_attributes", "GET:get_object_attributes"),
}
_TAGGING = _later("_tagging", "GET:get_tagging", "PUT:put_tagging", "DELETE:delete_tagging")


def _by_method(
    call: Call, method: str, table: dict[str, Mapping[str, Handler]], resource_type: str
) -> Handler | None:
    if not call.query:
        return None
    for name, handlers in table.items():
        if name in call.query:
            if method not in handlers:
                raise _method_not_allowed(method, resource_type)
            return handlers[method]
    return None


_BUCKET_GETS: tuple[tuple[str, Handler], ...] = (
    ("location", _buckets.get_location),
    ("notification", _buckets.get_notification),
    ("uploads", _multipart["list"]),
)


def _subresource(
    query: dict[str, str], handlers: tuple[tuple[str, Handler], ...]
) -> Handler | None:
    return next((handler for name, handler in handlers if name in query), None)


def _bucket_route(call: Call, method: str) -> Handler:
    q = call.query
    if "cors" in q:
        if method in _CORS_HANDLERS:
            return _CORS_HANDLERS[method]
        raise _method_not_allowed(method, "BUCKET")
    if (handler := _by_method(call, method, _BUCKET_SUBRESOURCES, "BUCKET")) is not None:
        return handler
    if method == "GET" and (handler := _subresource(q, _READ_ONLY_GETS)) is not None:
        return handler
    unsupported = _UNSUPPORTED_BUCKET.union(_READ_ONLY_BUCKET).intersection(q)
    if unsupported:
        raise S3Error("NotImplemented", Header=next(iter(sorted(unsupported))))
    if method == "GET":
        if (handler := _subresource(q, _BUCKET_GETS)) is not None:
            return handler
        if call.anonymous and not q:
            return _website_root
        if q.get("list-type") == "2":
            return _buckets.list_objects_v2
        return _buckets.list_objects_v1
    if method == "PUT":
        return _buckets.put_notification if "notification" in q else _buckets.create_bucket
    if method == "HEAD":
        return _buckets.head_bucket
    if method == "DELETE":
        return _buckets.delete_bucket
    if method == "POST" and "delete" in q:
        return _delete_objects
    if is_form_upload(method, call.request.headers):
        return post_object
    raise _method_not_allowed(method, "BUCKET")


def _object_route(call: Call, method: str) -> Handler:
    q = call.query
    unsupported = _UNSUPPORTED_OBJECT.intersection(q)
    if unsupported:
        raise S3Error("NotImplemented", Header=next(iter(sorted(unsupported))))
    if "torrent" in q and method == "GET":
        return _no_torrent
    if (handler := _by_method(call, method, _OBJECT_SUBRESOURCES, "OBJECT")) is not None:
        return handler
    headers = call.request.headers
    if "tagging" in q:
        if method not in _TAGGING:
            raise _method_not_allowed(method, "OBJECT")
        return _TAGGING[method]
    if method == "GET":
        if "uploadId" in q:
            return _multipart["parts"]
        if call.anonymous and not q:
            return _website_object
        return _get_object
    if method == "HEAD":
        return _head_object
    if method == "PUT":
        if "uploadId" in q or "partNumber" in q:
            if "x-amz-copy-source" in headers:
                return _multipart["part-copy"]
            return _multipart["part"]
        if "x-amz-copy-source" in headers:
            return _copy_object
        return _put_object
    if method == "DELETE":
        return _multipart["abort"] if "uploadId" in q else _delete_object
    if method == "POST":
        if "uploads" in q:
            return _multipart["create"]
        if "uploadId" in q:
            return _multipart["complete"]
    raise _method_not_allowed(method, "OBJECT")


def _preflight(call: Call) -> ServiceResponse:
    """An OPTIONS preflight, answered from the bucket's CORS rules as S3 does."""
    headers = call.request.headers
    origin = headers.get("origin")
    method = headers.get("access-control-request-method")
    if origin is None or method is None:
        raise S3Error("BadRequest")
    requested = [
        name.strip()
        for name in headers.get("access-control-request-headers", "").split(",")
        if name.strip()
    ]
    rules = call.engine.cors_rules(call.bucket)
    if rules is None:
        call.engine.bucket(call.bucket)  # NoSuchBucket first, as S3
        raise S3Error("AccessForbidden", Method=method, ResourceType="BUCKET")
    rule = matching_rule(rules, origin, method, requested)
    if rule is None:
        raise S3Error(
            "AccessForbidden",
            "CORSResponse: This CORS request is not allowed. This is usually because the "
            "evalution of Origin, request method / Access-Control-Request-Method or "
            "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
            Method=method,
            ResourceType="OBJECT" if call.key else "BUCKET",
        )
    return empty_response(200, rule.response_headers(origin, requested))


def _head_object(call: Call) -> ServiceResponse:
    from lambic.services.s3 import _objects  # see `_handlers`

    return _objects.get_object(call, head=True)


def _redirect(location: str) -> ServiceResponse:
    return empty_response(302, [("Location", location)])


def _missing_key(call: Call) -> ServiceResponse:
    """A key that does not exist: NoSuchKey only to whom may list the bucket."""
    from lambic.services.s3 import _objects  # see `_handlers`

    authorize.require_anonymous(call, "s3:ListBucket")
    return _objects.get_object(call)  # AWS's NoSuchKey


def _no_torrent(call: Call) -> ServiceResponse:
    """GetObjectTorrent: S3 discontinued BitTorrent (2021; never offered in regions opened
    after May 2016) and answers a torrent it does not have as AWS answers any missing
    key: 404 NoSuchKey, the bucket existing."""
    call.engine.bucket(call.bucket)
    raise S3Error("NoSuchKey", Key=call.key or "")


def _website_root(call: Call) -> ServiceResponse:
    from lambic.services.s3 import _objects  # see `_handlers`

    index = call.engine.store.get_object(call.bucket, "index.html")
    if index is None:
        authorize.require_anonymous(call, "s3:ListBucket")
        return _buckets.list_objects_v1(call)
    authorize.require_anonymous(call, "s3:GetObject", "index.html")
    if not call.request.path.endswith("/"):
        return _redirect(call.request.path + "/")
    return _objects.serve_object(call, index, head=False)


def _website_object(call: Call) -> ServiceResponse:
    from lambic.services.s3 import _objects  # see `_handlers`

    key = call.key or ""
    call.engine.bucket(call.bucket)  # NoSuchBucket first, as S3
    obj = call.engine.store.get_object(call.bucket, key)
    if obj is not None:
        authorize.require_anonymous(call, "s3:GetObject", key)
        return _objects.serve_object(call, obj, head=False)
    folder = key if key.endswith("/") else key + "/"
    index = call.engine.store.get_object(call.bucket, folder + "index.html")
    if index is None:
        return _missing_key(call)
    authorize.require_anonymous(call, "s3:GetObject", folder + "index.html")
    if not key.endswith("/"):
        return _redirect(call.request.path + "/")
    return _objects.serve_object(call, index, head=False)


# Handlers that decide an anonymous request themselves: a CORS preflight (never
# signed), the website-like GETs (which object they read depends on what exists) and
# a form upload (signed by its policy, or needing the bucket's write grant).
_DECIDES_ANONYMOUS: frozenset[Handler] = frozenset(
    {_preflight, _website_root, _website_object, post_object}
)


def _method_not_allowed(method: str, resource_type: str) -> S3Error:
    return S3Error("MethodNotAllowed", Method=method, ResourceType=resource_type)


def render_error(
    error: S3Error, request: ServiceRequest, request_id: str, host_id: str
) -> ServiceResponse:
    """AWS's S3 error document; a HEAD gets the status and no body."""
    headers: list[tuple[str, str]] = list(error.headers)
    if error.code == "MethodNotAllowed" and not any(n == "Allow" for n, _ in headers):
        headers.append(("Allow", "GET, PUT, POST, DELETE, HEAD"))
    if request.method == "HEAD":
        return ServiceResponse(error.status, headers, b"")
    fields = "".join(f"<{name}>{x(value)}</{name}>" for name, value in error.fields.items())
    body = (
        f"{XML_DECL}<Error><Code>{error.code}</Code><Message>{x(error.message)}</Message>"
        f"{fields}<Resource>{x(unquote(request.path))}</Resource>"
        f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    return xml_response(body.encode(), error.status, headers)
