"""The AWS query protocol's XML, shared by SNS and SQS (and the edge's auth errors).

Both services answer form-encoded requests with `<ActionResponse>` documents and fail
with the same `<ErrorResponse>` document; they differ only in the namespace and in two
details AWS itself varies (SQS opens with an XML declaration and adds an empty
`<Detail/>`; SNS does neither), so each caller states those.
"""

from __future__ import annotations

__all__ = ["error_response", "escape", "text"]


def escape(value: str) -> str:
    """`&`, `<` and `>` escaped for XML element text: `xml.sax.saxutils.escape`, whose
    module imports urllib.request, http.client and email (~15 ms of every start)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text(value: object) -> str:
    """A value as element text: booleans as AWS spells them, XML-escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    # XML parsers turn a raw CR into LF; AWS escapes it so bodies round-trip exactly.
    return escape(str(value)).replace("\r", "&#xD;")


def error_response(
    namespace: str,
    code: str,
    message: str,
    request_id: str,
    *,
    sender_fault: bool = True,
    prologue: str = "",
    detail: bool = False,
) -> bytes:
    """`<ErrorResponse>` with one error; `prologue` precedes it (an XML declaration).

    >>> error_response("urn:x", "Throttling", "slow", "r1").decode()[:58]
    '<ErrorResponse xmlns="urn:x"><Error><Type>Sender</Type><Co'
    """
    kind = "Sender" if sender_fault else "Receiver"
    return (
        f'{prologue}<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type>'
        f"<Code>{text(code)}</Code><Message>{text(message)}</Message>"
        f"{'<Detail/>' if detail else ''}</Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
