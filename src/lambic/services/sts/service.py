"""The STS service object the edge calls: query form in, `Sessions` call, XML out.

STS speaks the query protocol (a form POST with `Action=`) and answers
`<ActionResponse><ActionResult>` documents in the 2011-06-15 namespace. The caller is
the access key of the request's SigV4 credential (header or presigned query).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from lambic.services._query_xml import error_response, text
from lambic.services.base import ServiceRequest, ServiceResponse
from lambic.services.sts.sessions import Credentials, Identity, Sessions, StsError

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
# STS's operations that are not served locally (botocore's model): AWS's NotImplemented.
UNSERVED_ACTIONS = frozenset(
    {
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "AssumeRoot",
        "DecodeAuthorizationMessage",
        "GetCertificate",
        "GetDelegatedAccessToken",
        "GetFederationToken",
        "GetScopedCredentials",
        "GetTrustBundles",
        "GetWebIdentityToken",
        "IssueWorkloadIdentityContext",
    }
)
#: The actions served, for the edge's routing of unsigned requests.
ACTIONS = frozenset({"GetCallerIdentity", "AssumeRole", "GetSessionToken", "GetAccessKeyInfo"})

Handler = Callable[[Sessions, Mapping[str, str], str | None], str]


class StsService:
    """STS behind the edge port."""

    name = "sts"

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def handle(self, request: ServiceRequest) -> ServiceResponse:
        request_id = str(uuid.uuid4())
        fields = list(request.query_params)
        if request.method == "POST":
            fields += parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        params = dict(fields)
        action = params.get("Action", "")
        try:
            handler = _HANDLERS.get(action)
            if handler is None:
                raise _unknown(action)
            body = handler(self.sessions, params, _access_key(request))
        except StsError as error:
            return _response(
                error.status,
                error_response(NAMESPACE, error.code, error.message, request_id),
                request_id,
            )
        return _response(
            200,
            (
                f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{body}</{action}Result>'
                f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
                f"</{action}Response>"
            ).encode(),
            request_id,
        )

    def close(self) -> None:
        self.sessions.close()


def _unknown(action: str) -> StsError:
    if action in UNSERVED_ACTIONS:
        return StsError(
            "NotImplemented",
            f"Lambic's local STS does not serve {action}; it serves "
            f"{', '.join(sorted(ACTIONS))}. Point this client at AWS (set AWS_ENDPOINT_URL_STS "
            "to STS's endpoint) or replace the call with a stub while running locally.",
            status=501,
        )
    return StsError(
        "InvalidAction", f"Could not find operation {action} for version 2011-06-15", status=400
    )


def _access_key(request: ServiceRequest) -> str | None:
    match = _CREDENTIAL.search(request.headers.get("authorization", ""))
    if match:
        return match.group(1)
    return request.query.get("X-Amz-Credential", "").split("/", 1)[0] or None


def _identity_xml(identity: Identity) -> str:
    return (
        f"<Arn>{text(identity.arn)}</Arn><UserId>{text(identity.user_id)}</UserId>"
        f"<Account>{identity.account}</Account>"
    )


def _credentials_xml(credentials: Credentials) -> str:
    expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(credentials.expires))
    return (
        f"<Credentials><AccessKeyId>{credentials.access_key}</AccessKeyId>"
        f"<SecretAccessKey>{credentials.secret}</SecretAccessKey>"
        f"<SessionToken>{credentials.token}</SessionToken>"
        f"<Expiration>{expiration}</Expiration></Credentials>"
    )


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise StsError(
            "ValidationError",
            f"1 validation error detected: Value null at '{name[0].lower()}{name[1:]}' failed "
            "to satisfy constraint: Member must not be null",
        )
    return value


def _integer(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise StsError(
            "MalformedInput", f"Value '{value}' for parameter {name} is not a valid integer"
        ) from None


def _get_caller_identity(sessions: Sessions, params: Mapping[str, str], key: str | None) -> str:
    return _identity_xml(sessions.identity(key))


def _assume_role(sessions: Sessions, params: Mapping[str, str], key: str | None) -> str:
    sessions.identity(key)  # an expired caller cannot assume a role
    credentials, identity = sessions.assume_role(
        _required(params, "RoleArn"),
        _required(params, "RoleSessionName"),
        _integer(params, "DurationSeconds"),
    )
    return _credentials_xml(credentials) + (
        f"<AssumedRoleUser><AssumedRoleId>{text(identity.user_id)}</AssumedRoleId>"
        f"<Arn>{text(identity.arn)}</Arn></AssumedRoleUser>"
        "<PackedPolicySize>0</PackedPolicySize>"
    )


def _get_session_token(sessions: Sessions, params: Mapping[str, str], key: str | None) -> str:
    return _credentials_xml(sessions.session_token(key, _integer(params, "DurationSeconds")))


def _get_access_key_info(sessions: Sessions, params: Mapping[str, str], key: str | None) -> str:
    access_key = _required(params, "AccessKeyId")
    return f"<Account>{sessions.identity(access_key).account}</Account>"


_HANDLERS: dict[str, Handler] = {
    "GetCallerIdentity": _get_caller_identity,
    "AssumeRole": _assume_role,
    "GetSessionToken": _get_session_token,
    "GetAccessKeyInfo": _get_access_key_info,
}


def _response(status: int, body: bytes, request_id: str) -> ServiceResponse:
    headers = [
        ("Content-Type", "text/xml"),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(body))),
    ]
    return ServiceResponse(status, headers, body)
