"""Cross-origin (CORS) answers of DynamoDB's endpoint, for browser SDKs.

AWS's JSON-protocol endpoints let any web page call them (the request still has to be
signed): a request carrying `Origin` is answered with `Access-Control-Allow-Origin: *`
and the response headers a script may read; a preflight (`OPTIONS`) is answered 200
without authentication, echoing the method and headers the browser asks for, valid
for two days. A request without `Origin` gets none of these headers.

S3 is not answered here: its CORS is each bucket's own configuration (`s3/cors.py`).
"""

from __future__ import annotations

from lambic.services.base import ServiceRequest, ServiceResponse

ALLOW_ORIGIN = ("Access-Control-Allow-Origin", "*")
EXPOSE = (
    "Access-Control-Expose-Headers",
    "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date",
)
MAX_AGE = ("Access-Control-Max-Age", "172800")


def preflight(request: ServiceRequest) -> ServiceResponse:
    """The answer to an `OPTIONS` request carrying `Origin`."""
    headers = [ALLOW_ORIGIN, EXPOSE, MAX_AGE]
    method = request.headers.get("access-control-request-method")
    if method is not None:
        headers.append(("Access-Control-Allow-Methods", method))
    asked = request.headers.get("access-control-request-headers")
    if asked is not None:
        headers.append(("Access-Control-Allow-Headers", asked))
    return ServiceResponse(200, headers, b"")


def allow(response: ServiceResponse) -> ServiceResponse:
    """An actual (non-preflight) cross-origin request's answer, whatever its status."""
    # A new response: a service may hand out one it keeps (a canned answer).
    headers = [*response.headers, ALLOW_ORIGIN, EXPOSE]
    return ServiceResponse(response.status, headers, response.body, response.stream)
