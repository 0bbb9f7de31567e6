"""SNS's semantics: topics, subscriptions, filter policies, fan-out to subscribers.

Publish flow: check the message → assign an id (FIFO: deduplicate, sequence) → for
each confirmed subscription whose filter policy accepts it → deliver:
- `sqs`: straight into the SQS engine, in process, committed before Publish returns;
- `lambda`: to every listener registered with `add_lambda_listener` (the runtime's
  event sources), with the Lambda event AWS would send;
- `http`/`https`: POSTed on a worker thread, to loopback addresses only. Like AWS,
  an HTTP subscription starts pending: we POST a `SubscriptionConfirmation` whose
  `SubscribeURL` (a GET on the edge port) or `ConfirmSubscription` confirms it.
- `email`, `email-json`, `sms`, `application`, `firehose`: accepted and listed, but
  nothing is delivered locally.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lambic._http_limits import loads_json
from lambic.project.account import LOCAL_ACCOUNT_ID, LOCAL_REGION
from lambic.services._metering import Meter, chunks_64k
from lambic.services.sns import _checks as check
from lambic.services.sns import _delivery as delivery
from lambic.services.sns import _policies as policies
from lambic.services.sns.errors import (
    SnsError,
    invalid_parameter,
    subscription_not_found,
    topic_not_found,
)
from lambic.services.sns.filters import parse_filter_policy
from lambic.services.sns.model import (
    LambdaDelivery,
    MessageAttribute,
    Notification,
    Subscription,
    Topic,
)
from lambic.services.sns.platform import Platforms, PlatformStore
from lambic.services.sns.store import SnsStore
from lambic.services.sqs import SqsEngine

DEDUP_WINDOW_MS = 5 * 60 * 1000
PENDING = "pending confirmation"
_AUTO_CONFIRMED = frozenset({"sqs", "lambda", "sms", "application", "firehose"})

LambdaListener = Callable[[LambdaDelivery], None]


class SnsEngine:
    """Topics and subscriptions of one account and region, persisted in an `SnsStore`.

    >>> topic = engine.create_topic("alerts")
    >>> engine.subscribe(topic.arn, "sqs", queue_arn)
    >>> engine.publish(topic.arn, "hello")
    """

    def __init__(
        self,
        store: SnsStore,
        *,
        sqs: SqsEngine | None = None,
        region: str = LOCAL_REGION,
        account: str = LOCAL_ACCOUNT_ID,
        clock: Callable[[], float] = time.time,
        http: delivery.HttpSender | None = None,
        base_url: str = "http://localhost:4566",
    ) -> None:
        self.region = region
        self.account = account
        # Where SubscribeURL/UnsubscribeURL point; the service updates it from the Host
        # header clients use, so the links work from where the client runs.
        self.base_url = base_url
        self._store = store
        self._sqs = sqs
        self._clock = clock
        #: Counts deliveries by protocol when set (`SnsService` sets it).
        self.meter: Meter | None = None
        self._http = http or delivery.HttpSender()
        self._lock = threading.RLock()
        self._topics = {topic.arn: topic for topic in store.load_topics()}
        self._subscriptions = {sub.arn: sub for sub in store.load_subscriptions()}
        # Subscriptions per topic, in creation order: Publish reads only its topic's.
        self._by_topic: dict[str, dict[str, Subscription]] = {}
        for sub in self._subscriptions.values():
            self._by_topic.setdefault(sub.topic_arn, {})[sub.arn] = sub
        self._deleted: dict[str, int] = {}
        self._lambda_listeners: list[LambdaListener] = []
        #: Mobile push: platform applications and endpoints, on the same database.
        self.platforms = Platforms(
            PlatformStore(store.conn), lock=self._lock, region=region, account=account
        )

    def close(self) -> None:
        self._http.close()
        with self._lock:
            self._store.close()

    def add_lambda_listener(self, listener: LambdaListener) -> None:
        """Call `listener(LambdaDelivery)` for each notification to a lambda subscription."""
        self._lambda_listeners.append(listener)

    def remove_lambda_listener(self, listener: LambdaListener) -> None:
        self._lambda_listeners.remove(listener)

    # Topics -------------------------------------------------------------------------

    def topic_arn(self, name: str) -> str:
        return f"arn:aws:sns:{self.region}:{self.account}:{name}"

    def get_topic(self, arn: str) -> Topic:
        topic = self._topics.get(arn)
        if topic is None:
            raise topic_not_found()
        return topic

    def create_topic(
        self,
        name: str,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Topic:
        given = {str(k): str(v) for k, v in (attributes or {}).items()}
        fifo = given.get("FifoTopic", "false").lower() == "true"
        if name.endswith(".fifo") and not fifo:
            raise invalid_parameter("Topic Name")
        check.check_topic_name(name, fifo)
        for key in given:
            if key != "FifoTopic" and key not in check.TOPIC_SETTABLE:
                raise invalid_parameter("AttributeName")
            if key == "ContentBasedDeduplication" and not fifo:
                raise invalid_parameter(
                    "Attributes Reason: ContentBasedDeduplication is only valid for FIFO topics"
                )
        if fifo:
            given["FifoTopic"] = "true"
            given.setdefault("ContentBasedDeduplication", "false")
        else:
            given.pop("FifoTopic", None)
        arn = self.topic_arn(name)
        with self._lock:
            existing = self._topics.get(arn)
            if existing is not None:
                if any(
                    not policies.same_value(
                        existing.attributes.get(k, policies.attribute_default(k)), v
                    )
                    for k, v in given.items()
                ):
                    raise invalid_parameter(
                        "Attributes Reason: Topic already exists with different attributes"
                    )
                return existing
            topic = Topic(arn, name, given, dict(tags or {}))
            self._store.save_topic(topic)
            self._topics[arn] = topic
            return topic

    def delete_topic(self, arn: str) -> None:
        # AWS answers success for a topic that does not exist; DeleteTopic is idempotent.
        with self._lock:
            if arn not in self._topics:
                return
            self._store.delete_topic(arn)
            del self._topics[arn]
            for sub_arn in self._by_topic.pop(arn, {}):
                del self._subscriptions[sub_arn]

    def list_topics(self) -> list[str]:
        return list(self._topics)

    def get_topic_attributes(self, arn: str) -> dict[str, str]:
        topic = self.get_topic(arn)
        subs = list(self._by_topic.get(arn, {}).values())
        attributes = {
            "Policy": json.dumps(policies.default_policy(arn, self.account), separators=(",", ":")),
            "Owner": self.account,
            "SubscriptionsPending": str(sum(not s.confirmed for s in subs)),
            "TopicArn": arn,
            "EffectiveDeliveryPolicy": policies.EFFECTIVE_DELIVERY_POLICY,
            "SubscriptionsConfirmed": str(sum(s.confirmed for s in subs)),
            "DisplayName": "",
            "SubscriptionsDeleted": str(self._deleted.get(arn, 0)),
        }
        attributes.update(topic.attributes)
        return attributes

    def set_topic_attribute(self, arn: str, name: str, value: str) -> None:
        with self._lock:
            topic = self.get_topic(arn)
            if name not in check.TOPIC_SETTABLE:
                raise invalid_parameter("AttributeName")
            if name == "ContentBasedDeduplication":
                if not topic.fifo:
                    raise invalid_parameter(
                        "ContentBasedDeduplication Reason: only valid for FIFO topics"
                    )
                value = value.lower()
            if (
                name in ("Policy", "DeliveryPolicy")
                and value
                and not policies.is_json_object(value)
            ):
                raise invalid_parameter(f"{name}: failed to parse JSON")
            topic.attributes[name] = value
            self._store.save_topic(topic)

    def add_permission(
        self, arn: str, label: str, accounts: Iterable[str], actions: Iterable[str]
    ) -> None:
        """Add a statement to the topic's Policy, as AddPermission does."""
        with self._lock:
            topic = self.get_topic(arn)
            policy = self._policy(topic)
            if any(statement.get("Sid") == label for statement in policy["Statement"]):
                raise invalid_parameter("Statement already exists")
            policy["Statement"].append(
                {
                    "Sid": label,
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
                    "Action": [f"SNS:{action}" for action in actions],
                    "Resource": arn,
                }
            )
            topic.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
            self._store.save_topic(topic)

    def remove_permission(self, arn: str, label: str) -> None:
        with self._lock:
            topic = self.get_topic(arn)
            policy = self._policy(topic)
            kept = [st for st in policy["Statement"] if st.get("Sid") != label]
            if len(kept) == len(policy["Statement"]):
                raise invalid_parameter(f"Label Reason: no statement with Sid {label}")
            policy["Statement"] = kept
            topic.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
            self._store.save_topic(topic)

    def _policy(self, topic: Topic) -> dict[str, Any]:
        try:
            policy = loads_json(topic.attributes.get("Policy", ""))
        except ValueError:
            policy = None
        if isinstance(policy, dict) and isinstance(policy.get("Statement"), list):
            return policy
        return policies.default_policy(topic.arn, self.account)

    def _resource(self, arn: str) -> Topic:
        topic = self._topics.get(arn)
        if topic is None:
            raise SnsError("ResourceNotFound", "Resource does not exist", status=404)
        return topic

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        with self._lock:
            topic = self._resource(arn)
            topic.tags.update(tags)
            self._store.save_topic(topic)

    def untag_resource(self, arn: str, keys: Iterable[str]) -> None:
        with self._lock:
            topic = self._resource(arn)
            for key in keys:
                topic.tags.pop(key, None)
            self._store.save_topic(topic)

    def list_tags(self, arn: str) -> dict[str, str]:
        return dict(self._resource(arn).tags)

    # Subscriptions ------------------------------------------------------------------

    def get_subscription(self, arn: str) -> Subscription:
        subscription = self._subscriptions.get(arn)
        if subscription is None:
            raise subscription_not_found()
        return subscription

    def subscribe(
        self,
        topic_arn: str,
        protocol: str,
        endpoint: str | None,
        attributes: Mapping[str, str] | None = None,
    ) -> Subscription:
        """Subscribe an endpoint; sqs and lambda are confirmed at once, http(s) pend."""
        with self._lock:
            topic = self.get_topic(topic_arn)
            endpoint = self._check_endpoint(protocol, endpoint)
            if protocol == "sqs" and endpoint.endswith(".fifo") and not topic.fifo:
                # AWS repeats the prefix in this one message (moto's AWS-verified test).
                raise invalid_parameter(
                    "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed "
                    "to standard SNS topics"
                )
            normalised = {
                name: self._check_subscription_attribute(name, value, attributes or {})
                for name, value in (attributes or {}).items()
            }
            for existing in list(self._by_topic.get(topic_arn, {}).values()):
                if (existing.topic_arn, existing.protocol, existing.endpoint) == (
                    topic_arn,
                    protocol,
                    endpoint,
                ):
                    if any(
                        not policies.same_value(existing.attributes.get(k), v)
                        for k, v in normalised.items()
                    ):
                        raise invalid_parameter(
                            "Attributes Reason: Subscription already exists with different "
                            "attributes"
                        )
                    return existing
            subscription = Subscription(
                arn=f"{topic_arn}:{uuid.uuid4()}",
                topic_arn=topic_arn,
                protocol=protocol,
                endpoint=endpoint,
                owner=self.account,
                attributes=normalised,
                confirmed=protocol in _AUTO_CONFIRMED,
                token=secrets.token_hex(64),
            )
            self._store.save_subscription(subscription, int(self._clock() * 1000))
            self._subscriptions[subscription.arn] = subscription
            self._by_topic.setdefault(topic_arn, {})[subscription.arn] = subscription
        if protocol in ("http", "https"):
            self._send_confirmation(subscription)
        return subscription

    def _check_endpoint(self, protocol: str, endpoint: str | None) -> str:
        if protocol not in check.PROTOCOLS:
            raise invalid_parameter(f"Amazon SNS does not support this protocol string: {protocol}")
        if not endpoint:
            raise invalid_parameter("Endpoint")
        if protocol == "sqs" and not endpoint.startswith("arn:aws:sqs:"):
            raise invalid_parameter("SQS endpoint ARN")
        if protocol == "lambda" and not endpoint.startswith("arn:aws:lambda:"):
            raise invalid_parameter("Lambda endpoint ARN")
        if protocol in ("http", "https"):
            if not endpoint.lower().startswith(f"{protocol}://"):
                raise invalid_parameter("Endpoint must match the specified protocol")
            if not delivery.is_loopback_url(endpoint):
                raise invalid_parameter(
                    "Endpoint Reason: Lambic delivers HTTP notifications to loopback addresses "
                    "(127.0.0.1, localhost) only"
                )
        return endpoint

    def _check_subscription_attribute(
        self, name: str, value: str, context: Mapping[str, str]
    ) -> str:
        value = str(value)
        if name not in check.SUBSCRIPTION_SETTABLE:
            raise invalid_parameter("AttributeName")
        if name == "RawMessageDelivery":
            if value.lower() not in ("true", "false"):
                raise invalid_parameter(
                    f"RawMessageDelivery: Invalid value [{value}]. Must be true or false."
                )
            return value.lower()
        if name == "FilterPolicyScope" and value not in ("MessageAttributes", "MessageBody"):
            raise invalid_parameter(
                f"FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody "
                "or MessageAttributes"
            )
        if name == "FilterPolicy":
            parse_filter_policy(value, context.get("FilterPolicyScope", "MessageAttributes"))
        if name == "RedrivePolicy" and value:
            check.check_redrive_policy(value)
        if (
            name in ("DeliveryPolicy", "ReplayPolicy")
            and value
            and not policies.is_json_object(value)
        ):
            raise invalid_parameter(f"{name}: failed to parse JSON")
        return value

    def _send_confirmation(
        self, subscription: Subscription, *, unsubscribing: bool = False
    ) -> None:
        message_id = str(uuid.uuid4())
        body = delivery.confirmation_message(
            subscription,
            message_id,
            self.region,
            self.base_url,
            self._clock(),
            unsubscribing=unsubscribing,
        )
        headers = delivery.http_headers(body["Type"], message_id, subscription.topic_arn)
        self._http.send(subscription.endpoint, headers, json.dumps(body).encode())

    def confirm_subscription(self, topic_arn: str, token: str) -> Subscription:
        with self._lock:
            self.get_topic(topic_arn)
            for subscription in list(self._by_topic.get(topic_arn, {}).values()):
                if subscription.topic_arn == topic_arn and subscription.token == token:
                    if not subscription.confirmed:
                        subscription.confirmed = True
                        self._store.save_subscription(subscription, int(self._clock() * 1000))
                    return subscription
        raise invalid_parameter("Token")

    def unsubscribe(self, arn: str) -> None:
        if arn == PENDING or not arn.startswith("arn:aws:sns:"):
            raise invalid_parameter("SubscriptionArn")
        with self._lock:
            subscription = self._subscriptions.pop(arn, None)
            if subscription is None:
                return
            self._by_topic.get(subscription.topic_arn, {}).pop(arn, None)
            self._store.delete_subscription(arn)
            topic = subscription.topic_arn
            self._deleted[topic] = self._deleted.get(topic, 0) + 1
        if subscription.protocol in ("http", "https") and subscription.confirmed:
            self._send_confirmation(subscription, unsubscribing=True)

    def list_subscriptions(self, topic_arn: str | None = None) -> list[Subscription]:
        if topic_arn is None:
            return list(self._subscriptions.values())
        self.get_topic(topic_arn)
        return list(self._by_topic.get(topic_arn, {}).values())

    def get_subscription_attributes(self, arn: str) -> dict[str, str]:
        subscription = self.get_subscription(arn)
        attributes = {
            "Owner": subscription.owner,
            "RawMessageDelivery": "false",
            "TopicArn": subscription.topic_arn,
            "Endpoint": subscription.endpoint,
            "Protocol": subscription.protocol,
            "PendingConfirmation": str(not subscription.confirmed).lower(),
            "ConfirmationWasAuthenticated": str(subscription.confirmed).lower(),
            "SubscriptionArn": subscription.arn,
            "SubscriptionPrincipal": f"arn:aws:iam::{self.account}:user/lambic",
        }
        if subscription.protocol in ("http", "https"):
            attributes["EffectiveDeliveryPolicy"] = policies.EFFECTIVE_DELIVERY_POLICY
        attributes.update(subscription.attributes)
        if "FilterPolicy" in subscription.attributes:
            attributes.setdefault("FilterPolicyScope", "MessageAttributes")
        return attributes

    def set_subscription_attribute(self, arn: str, name: str, value: str) -> None:
        with self._lock:
            subscription = self.get_subscription(arn)
            merged = {**subscription.attributes, name: value}
            normalised = self._check_subscription_attribute(name, value, merged)
            if name == "FilterPolicyScope" and "FilterPolicy" in subscription.attributes:
                parse_filter_policy(subscription.attributes["FilterPolicy"], normalised)
            subscription.attributes[name] = normalised
            self._store.save_subscription(subscription, int(self._clock() * 1000))

    # Publishing ---------------------------------------------------------------------

    def publish(
        self,
        topic_arn: str,
        message: str | None,
        *,
        subject: str | None = None,
        attributes: Mapping[str, MessageAttribute] | None = None,
        structure: str | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> tuple[str, str | None]:
        """Publish and fan out; returns (MessageId, SequenceNumber for FIFO topics)."""
        attrs = dict(attributes or {})
        with self._lock:
            topic = self.get_topic(topic_arn)
            messages = self._check_publish(topic, message, subject, attrs, structure, group_id)
            default = messages["default"]
            now_ms = int(self._clock() * 1000)
            sequence: str | None = None
            if topic.fifo:
                if deduplication_id is None:
                    if topic.attributes.get("ContentBasedDeduplication") != "true":
                        raise invalid_parameter(
                            "The topic should either have ContentBasedDeduplication enabled or "
                            "MessageDeduplicationId provided explicitly"
                        )
                    deduplication_id = hashlib.sha256(default.encode()).hexdigest()
                duplicate = self._store.find_duplicate(topic_arn, deduplication_id, now_ms)
                if duplicate is not None:
                    return duplicate
                sequence = str(10_000_000_000_000_000_000 + self._store.next_sequence(topic_arn))
            elif deduplication_id is not None:
                raise invalid_parameter(
                    "MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                    "parameter that is not valid for this topic type"
                )
            message_id = str(uuid.uuid4())
            if topic.fifo and deduplication_id is not None and sequence is not None:
                self._store.record_dedup(
                    topic_arn, deduplication_id, message_id, sequence, now_ms + DEDUP_WINDOW_MS
                )
            notification = Notification(
                message_id, topic_arn, default, subject, delivery.iso_ms(now_ms / 1000), attrs,
                group_id, deduplication_id, sequence,
            )  # fmt: skip
            targets = list(self._by_topic.get(topic_arn, {}).values())
        for subscription in targets:
            if subscription.confirmed:
                text = messages.get(subscription.protocol, default)
                if delivery.accepts(subscription, notification, text):
                    if self.meter is not None:
                        # Billed per 64 KB chunk delivered; to Lambda and SQS for free.
                        self.meter.add(
                            "sns",
                            topic_arn.rsplit(":", 1)[-1],
                            f"deliveries_{subscription.protocol}",
                            chunks_64k(len(text.encode())),
                        )
                    delivery.deliver(
                        subscription,
                        notification,
                        text,
                        sqs=self._sqs,
                        http=self._http,
                        lambda_listeners=self._lambda_listeners,
                        region=self.region,
                        base_url=self.base_url,
                    )
        return message_id, sequence

    def _check_publish(
        self,
        topic: Topic,
        message: str | None,
        subject: str | None,
        attributes: Mapping[str, MessageAttribute],
        structure: str | None,
        group_id: str | None,
    ) -> dict[str, str]:
        if message is None:
            raise SnsError(
                "ValidationError",
                "1 validation error detected: Value null at 'message' failed to satisfy "
                "constraint: Member must not be null",
            )
        if not message:
            raise invalid_parameter("Empty message")
        check.check_subject(subject)
        if check.message_size(message, attributes) > check.MAX_MESSAGE_BYTES:
            raise invalid_parameter("Message too long")
        if structure is not None and structure != "json":
            raise invalid_parameter("MessageStructure")
        messages = check.parse_structure(message) if structure == "json" else {"default": message}
        if group_id is not None:
            check.check_group_id("MessageGroupId", group_id)
        elif topic.fifo:
            raise invalid_parameter("The MessageGroupId parameter is required for FIFO topics")
        return messages
