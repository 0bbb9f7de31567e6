"""What SNS sends to each kind of subscriber, in AWS's shapes, and the HTTP sender.

SQS and HTTP(S) subscribers get the JSON envelope (`Type: Notification`, ...,
`MessageAttributes: {"name": {"Type", "Value"}}`; `Subject` only when one was given)
or, with RawMessageDelivery, the bare message. Lambda subscribers get the event built
by `lambic.app.event_payloads`, the same builder the test client uses.

Signatures: AWS signs with a private key we do not have; `Signature` is a stable
base64 value of the right length and `SigningCertURL` names AWS's certificate URL
pattern, so code that parses the envelope works; code that verifies signatures
against AWS's certificate will (rightly) reject it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.client
import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from ipaddress import ip_address
from typing import Any
from urllib.parse import quote, urlsplit

from lambic._http_limits import loads_json
from lambic.app.event_payloads import create_sns_event, create_sns_record
from lambic.services.sns.filters import matches_attributes, matches_body, parse_filter_policy
from lambic.services.sns.model import LambdaDelivery, MessageAttribute, Notification, Subscription
from lambic.services.sqs import AttributeValue, SqsEngine, SqsError

_log = logging.getLogger(__name__)
_HTTP_ATTEMPTS = 4  # AWS's default HTTP policy: the first try and three immediate retries
_HTTP_TIMEOUT = 15.0


def iso_ms(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def signature(*parts: str) -> str:
    digest = hashlib.sha256("\n".join(parts).encode()).digest()
    return base64.b64encode(digest * 8).decode()


def signing_cert_url(region: str) -> str:
    cert = hashlib.md5(region.encode(), usedforsecurity=False).hexdigest()
    return f"https://sns.{region}.amazonaws.com/SimpleNotificationService-{cert}.pem"


def unsubscribe_url(base_url: str, subscription_arn: str) -> str:
    return f"{base_url}/?Action=Unsubscribe&SubscriptionArn={quote(subscription_arn, safe=':')}"


def notification_envelope(
    notification: Notification, message: str, subscription_arn: str, region: str, base_url: str
) -> dict[str, Any]:
    envelope: dict[str, Any] = {"Type": "Notification", "MessageId": notification.message_id}
    if notification.sequence_number is not None:
        envelope["SequenceNumber"] = notification.sequence_number
    envelope["TopicArn"] = notification.topic_arn
    if notification.subject is not None:
        envelope["Subject"] = notification.subject
    envelope["Message"] = message
    envelope["Timestamp"] = notification.timestamp
    envelope["SignatureVersion"] = "1"
    envelope["Signature"] = signature(notification.message_id, message, notification.timestamp)
    envelope["SigningCertURL"] = signing_cert_url(region)
    envelope["UnsubscribeURL"] = unsubscribe_url(base_url, subscription_arn)
    if notification.attributes:
        envelope["MessageAttributes"] = {
            name: value.envelope_value() for name, value in notification.attributes.items()
        }
    return envelope


def confirmation_message(
    subscription: Subscription,
    message_id: str,
    region: str,
    base_url: str,
    now: float,
    *,
    unsubscribing: bool = False,
) -> dict[str, str]:
    """The SubscriptionConfirmation (or UnsubscribeConfirmation) AWS POSTs to HTTP(S)."""
    subscribe_url = (
        f"{base_url}/?Action=ConfirmSubscription&TopicArn="
        f"{quote(subscription.topic_arn, safe=':')}&Token={subscription.token}"
    )
    timestamp = iso_ms(now)
    if unsubscribing:
        message = (
            f"You have chosen to deactivate subscription {subscription.arn}.\n"
            "To cancel this operation and restore the subscription, visit the SubscribeURL "
            "included in this message."
        )
    else:
        message = (
            f"You have chosen to subscribe to the topic {subscription.topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        )
    return {
        "Type": "UnsubscribeConfirmation" if unsubscribing else "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": subscription.token,
        "TopicArn": subscription.topic_arn,
        "Message": message,
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp,
        "SignatureVersion": "1",
        "Signature": signature(message_id, subscription.token, timestamp),
        "SigningCertURL": signing_cert_url(region),
    }


def is_loopback_url(url: str) -> bool:
    """Lambic delivers HTTP notifications to this machine only."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


Poster = Callable[[str, dict[str, str], bytes], int]


def post(url: str, headers: dict[str, str], body: bytes) -> int:
    """POST once; the HTTP status, or 0 when the endpoint could not be reached.

    http.client rather than urllib: urllib re-cases header names
    (`X-amz-sns-message-type`) and AWS sends them in lower case.
    """
    parts = urlsplit(url)
    connection_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    connection = connection_type(parts.hostname or "", parts.port, timeout=_HTTP_TIMEOUT)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return int(response.status)
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


class HttpSender:
    """Delivers HTTP(S) notifications on worker threads so publishing never waits on them."""

    def __init__(self, poster: Poster = post, *, retry_delay: float = 0.2) -> None:
        self._poster = poster
        self._retry_delay = retry_delay
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lambic-sns-http")

    def send(
        self,
        url: str,
        headers: dict[str, str],
        body: bytes,
        on_failure: Callable[[int], None] | None = None,
    ) -> None:
        """POST in the background; `on_failure(status)` runs when every attempt failed."""
        try:
            self._pool.submit(self._deliver, url, headers, body, on_failure)
        except RuntimeError:
            # Shutting down: the pool takes no more work; the delivery is dropped.
            _log.warning("SNS is shutting down; not delivering to %s", url)

    def _deliver(
        self,
        url: str,
        headers: dict[str, str],
        body: bytes,
        on_failure: Callable[[int], None] | None,
    ) -> None:
        # AWS retries 5xx, timeouts and connection errors; a 4xx is the subscriber's answer.
        status = 0
        for attempt in range(_HTTP_ATTEMPTS):
            status = self._poster(url, headers, body)
            if 200 <= status < 500:
                return
            if attempt + 1 < _HTTP_ATTEMPTS:
                time.sleep(self._retry_delay)
        _log.warning("SNS gave up delivering to %s after %d attempts", url, _HTTP_ATTEMPTS)
        if on_failure is not None:
            on_failure(status)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def http_headers(
    message_type: str,
    message_id: str,
    topic_arn: str,
    subscription_arn: str | None = None,
    raw: bool = False,
) -> dict[str, str]:
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": message_type,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
    }
    if subscription_arn is not None:
        headers["x-amz-sns-subscription-arn"] = subscription_arn
    if raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    return headers


# Fan-out ----------------------------------------------------------------------------


def accepts(subscription: Subscription, notification: Notification, text: str) -> bool:
    """Does the subscription's filter policy let this notification through?"""
    policy_text = subscription.attributes.get("FilterPolicy")
    if not policy_text:
        return True
    scope = subscription.attributes.get("FilterPolicyScope", "MessageAttributes")
    policy = _compiled_policy(policy_text, scope)
    if policy is None:
        return True
    if scope == "MessageBody":
        try:
            body = loads_json(text)
        except ValueError:
            return False
        return matches_body(policy, body)
    return matches_attributes(policy, notification.attributes)


@functools.lru_cache(maxsize=1024)
def _compiled_policy(text: str, scope: str) -> dict[str, Any] | None:
    # Policies were validated when set; parse each distinct one once, not per publish.
    return parse_filter_policy(text, scope)


def deliver(
    subscription: Subscription,
    notification: Notification,
    text: str,
    *,
    sqs: SqsEngine | None,
    http: HttpSender,
    lambda_listeners: list[Callable[[LambdaDelivery], None]],
    region: str,
    base_url: str,
) -> None:
    """Deliver one notification to one confirmed, accepting subscription."""
    if subscription.protocol == "sqs":
        if sqs is not None:
            _deliver_sqs(sqs, subscription, notification, text, region, base_url)
    elif subscription.protocol == "lambda":
        event = _lambda_event(subscription, notification, text, region, base_url)
        for listener in list(lambda_listeners):
            try:
                listener(LambdaDelivery(subscription.arn, subscription.endpoint, event))
            except Exception:
                # Publish has succeeded; a failing listener must not turn it into an error.
                _log.exception("SNS lambda listener failed for %s", subscription.endpoint)
    elif subscription.protocol in ("http", "https"):
        if subscription.raw:
            body = text
        else:
            envelope = notification_envelope(notification, text, subscription.arn, region, base_url)
            body = json.dumps(envelope)
        headers = http_headers(
            "Notification",
            notification.message_id,
            notification.topic_arn,
            subscription.arn,
            raw=subscription.raw,
        )
        content_type = _requested_content_type(subscription)
        if content_type:
            headers["Content-Type"] = content_type

        def failed(status: int) -> None:
            dead_letter(sqs, subscription, notification, body, status, "Delivery failed")

        http.send(subscription.endpoint, headers, body.encode(), failed)


def _requested_content_type(subscription: Subscription) -> str | None:
    """`requestPolicy.headerContentType` of the subscription's DeliveryPolicy, if set."""
    text = subscription.attributes.get("DeliveryPolicy")
    if not text:
        return None
    try:
        policy = loads_json(text)
    except ValueError:
        return None
    request = policy.get("requestPolicy") if isinstance(policy, dict) else None
    value = request.get("headerContentType") if isinstance(request, dict) else None
    return value if isinstance(value, str) and value else None


def _deliver_sqs(
    sqs: SqsEngine,
    subscription: Subscription,
    notification: Notification,
    text: str,
    region: str,
    base_url: str,
) -> None:
    queue = sqs.queue_by_arn(subscription.endpoint)
    attributes: dict[str, AttributeValue] = {}
    if subscription.raw:
        # Raw delivery hands SQS the bare message and the attributes as SQS attributes.
        body = text
        attributes = {
            name: AttributeValue(value.data_type, value.string_value, value.binary_value)
            for name, value in notification.attributes.items()
        }
    else:
        envelope = notification_envelope(notification, text, subscription.arn, region, base_url)
        body = json.dumps(envelope)
    if queue is None:
        # AWS cannot deliver to a deleted queue: the message goes to the subscription's
        # dead-letter queue if it has one, else it is dropped (and logged).
        dead_letter(sqs, subscription, notification, body, 404, "Queue does not exist")
        return
    group_id = notification.group_id
    dedup: str | None = None
    if queue.fifo:
        group_id = group_id or "default"
        dedup = notification.deduplication_id or notification.message_id
    try:
        sqs.send_message(
            queue.name, body, message_attributes=attributes, group_id=group_id,
            deduplication_id=dedup,
        )  # fmt: skip
    except SqsError as error:
        _log.warning("SNS could not deliver to %s: %s", subscription.endpoint, error.message)
        dead_letter(sqs, subscription, notification, body, error.status, error.message)


def dead_letter(
    sqs: SqsEngine | None,
    subscription: Subscription,
    notification: Notification,
    body: str,
    error_code: int,
    error_message: str,
) -> None:
    """Send an undeliverable message to the subscription's RedrivePolicy queue, if any.

    AWS keeps the message as it would have been delivered and adds the attributes
    RequestID, ErrorCode and ErrorMessage.
    """
    text = subscription.attributes.get("RedrivePolicy")
    if sqs is None or not text:
        return
    target = sqs.queue_by_arn(str(loads_json(text).get("deadLetterTargetArn", "")))
    if target is None:
        _log.warning("SNS dead-letter queue of %s does not exist", subscription.arn)
        return
    attributes = {
        "RequestID": AttributeValue("String", str(uuid.uuid4())),
        "ErrorCode": AttributeValue("Number", str(error_code)),
        "ErrorMessage": AttributeValue("String", error_message),
    }
    if subscription.raw:
        for name, value in notification.attributes.items():
            attributes.setdefault(
                name, AttributeValue(value.data_type, value.string_value, value.binary_value)
            )
    group = (notification.group_id or "default") if target.fifo else notification.group_id
    dedup = notification.message_id if target.fifo else None
    try:
        sqs.send_message(
            target.name, body, message_attributes=attributes, group_id=group,
            deduplication_id=dedup,
        )  # fmt: skip
    except SqsError as error:
        _log.warning("SNS could not dead-letter a message: %s", error.message)


def _lambda_event(
    subscription: Subscription, notification: Notification, text: str, region: str, base_url: str
) -> dict[str, Any]:
    timestamp = datetime.strptime(notification.timestamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    record = create_sns_record(
        message=text,
        topic_arn=notification.topic_arn,
        subject=notification.subject,
        message_id=notification.message_id,
        timestamp=timestamp.replace(tzinfo=timezone.utc),
        message_attributes={
            name: _api_attribute(value) for name, value in notification.attributes.items()
        },
        subscription_arn=subscription.arn,
        signing_cert_url=signing_cert_url(region),
        unsubscribe_url=unsubscribe_url(base_url, subscription.arn),
    )
    return create_sns_event(record)


def _api_attribute(value: MessageAttribute) -> dict[str, Any]:
    if value.binary_value is not None:
        return {"DataType": value.data_type, "BinaryValue": value.binary_value}
    return {"DataType": value.data_type, "StringValue": value.string_value or ""}
