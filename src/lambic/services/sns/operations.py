"""SNS's API operations: nested query parameters in, a result dict (or None) out.

A result of None means the action answers with only `ResponseMetadata` (DeleteTopic,
SetTopicAttributes, ...), as AWS's XML does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from lambic.services.sns import _checks as check
from lambic.services.sns.engine import PENDING, SnsEngine
from lambic.services.sns.errors import SnsError, batch_error, invalid_parameter, missing_parameter
from lambic.services.sns.model import Subscription
from lambic.services.sns.platform import is_endpoint_arn

Params = Mapping[str, Any]
Result = dict[str, Any] | None
Operation = Callable[[SnsEngine, Params], Result]

_PAGE = 100
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None:
        raise missing_parameter(name)
    return str(value)


def _map(params: Params, name: str) -> dict[str, str]:
    value = params.get(name) or {}
    if not isinstance(value, Mapping):
        raise invalid_parameter(name)
    return {str(k): str(v) for k, v in value.items()}


def _tags(params: Params) -> dict[str, str]:
    tags = params.get("Tags") or []
    if not isinstance(tags, list):
        raise invalid_parameter("Tags")
    return {str(t.get("Key")): str(t.get("Value", "")) for t in tags if isinstance(t, Mapping)}


def _page(items: list[Any], params: Params) -> tuple[list[Any], str | None]:
    token = params.get("NextToken")
    start = 0
    if token:
        if not str(token).isdigit():
            raise invalid_parameter("NextToken")
        start = int(str(token))
    page = items[start : start + _PAGE]
    more = start + _PAGE < len(items)
    return page, str(start + _PAGE) if more else None


def create_topic(engine: SnsEngine, params: Params) -> Result:
    topic = engine.create_topic(
        _required(params, "Name"), _map(params, "Attributes"), _tags(params)
    )
    return {"TopicArn": topic.arn}


def delete_topic(engine: SnsEngine, params: Params) -> Result:
    engine.delete_topic(_required(params, "TopicArn"))
    return None


def list_topics(engine: SnsEngine, params: Params) -> Result:
    page, token = _page(engine.list_topics(), params)
    result: dict[str, Any] = {"Topics": [{"TopicArn": arn} for arn in page]}
    if token:
        result["NextToken"] = token
    return result


def get_topic_attributes(engine: SnsEngine, params: Params) -> Result:
    return {"Attributes": engine.get_topic_attributes(_required(params, "TopicArn"))}


def _set_attribute(
    params: Params, arn_param: str, setter: Callable[[str, str, str], None]
) -> Result:
    """Set*Attributes: one AttributeName; a missing AttributeValue sets the empty string."""
    setter(
        _required(params, arn_param),
        _required(params, "AttributeName"),
        str(params.get("AttributeValue") or ""),
    )
    return None


def set_topic_attributes(engine: SnsEngine, params: Params) -> Result:
    return _set_attribute(params, "TopicArn", engine.set_topic_attribute)


def _subscription_arn(subscription: Subscription, return_arn: bool) -> str:
    return subscription.arn if subscription.confirmed or return_arn else PENDING


def subscribe(engine: SnsEngine, params: Params) -> Result:
    subscription = engine.subscribe(
        _required(params, "TopicArn"),
        _required(params, "Protocol"),
        params.get("Endpoint"),
        _map(params, "Attributes"),
    )
    return_arn = str(params.get("ReturnSubscriptionArn", "false")).lower() == "true"
    return {"SubscriptionArn": _subscription_arn(subscription, return_arn)}


def confirm_subscription(engine: SnsEngine, params: Params) -> Result:
    subscription = engine.confirm_subscription(
        _required(params, "TopicArn"), _required(params, "Token")
    )
    return {"SubscriptionArn": subscription.arn}


def unsubscribe(engine: SnsEngine, params: Params) -> Result:
    engine.unsubscribe(_required(params, "SubscriptionArn"))
    return None


def _subscription_member(subscription: Subscription) -> dict[str, str]:
    return {
        "SubscriptionArn": _subscription_arn(subscription, False),
        "Owner": subscription.owner,
        "Protocol": subscription.protocol,
        "Endpoint": subscription.endpoint,
        "TopicArn": subscription.topic_arn,
    }


def _list(subscriptions: list[Subscription], params: Params) -> Result:
    page, token = _page(subscriptions, params)
    result: dict[str, Any] = {"Subscriptions": [_subscription_member(s) for s in page]}
    if token:
        result["NextToken"] = token
    return result


def list_subscriptions(engine: SnsEngine, params: Params) -> Result:
    return _list(engine.list_subscriptions(), params)


def list_subscriptions_by_topic(engine: SnsEngine, params: Params) -> Result:
    return _list(engine.list_subscriptions(_required(params, "TopicArn")), params)


def get_subscription_attributes(engine: SnsEngine, params: Params) -> Result:
    arn = _required(params, "SubscriptionArn")
    return {"Attributes": engine.get_subscription_attributes(arn)}


def set_subscription_attributes(engine: SnsEngine, params: Params) -> Result:
    return _set_attribute(params, "SubscriptionArn", engine.set_subscription_attribute)


def _publish_one(engine: SnsEngine, topic_arn: str, entry: Params) -> dict[str, str]:
    message_id, sequence = engine.publish(
        topic_arn,
        entry.get("Message"),
        subject=entry.get("Subject"),
        attributes=check.parse_attributes(entry.get("MessageAttributes")),
        structure=entry.get("MessageStructure"),
        group_id=entry.get("MessageGroupId"),
        deduplication_id=entry.get("MessageDeduplicationId"),
    )
    result = {"MessageId": message_id}
    if sequence is not None:
        result["SequenceNumber"] = sequence
    return result


def publish(engine: SnsEngine, params: Params) -> Result:
    topic_arn = params.get("TopicArn") or params.get("TargetArn")
    if not topic_arn:
        if params.get("PhoneNumber"):
            # SMS is not delivered locally; AWS would answer with a MessageId.
            return _sms(engine, params)
        raise invalid_parameter("TopicArn or TargetArn Reason: no value for required parameter")
    if not params.get("TopicArn") and is_endpoint_arn(str(topic_arn)):
        return _push(engine, str(topic_arn), params)
    return _publish_one(engine, str(topic_arn), params)


def _push(engine: SnsEngine, endpoint_arn: str, params: Params) -> Result:
    # The endpoint is checked first: a disabled one refuses any message, as on AWS.
    message_id = engine.platforms.publish(endpoint_arn)
    message = params.get("Message")
    if not message:
        raise invalid_parameter("Empty message")
    if check.message_size(str(message), {}) > check.MAX_MESSAGE_BYTES:
        raise invalid_parameter("Message too long")
    if params.get("MessageStructure") is not None:
        if params.get("MessageStructure") != "json":
            raise invalid_parameter("MessageStructure")
        check.parse_structure(str(message))
    return {"MessageId": message_id}


def _sms(engine: SnsEngine, params: Params) -> Result:
    if not params.get("Message"):
        raise invalid_parameter("Empty message")
    return {"MessageId": str(uuid.uuid4())}


def publish_batch(engine: SnsEngine, params: Params) -> Result:
    topic_arn = _required(params, "TopicArn")
    engine.get_topic(topic_arn)
    entries = params.get("PublishBatchRequestEntries") or []
    if not entries:
        raise batch_error("EmptyBatchRequest", "The batch request doesn't contain any entries")
    if len(entries) > 10:
        raise batch_error(
            "TooManyEntriesInBatchRequest",
            "The batch request contains more entries than permissible",
        )
    ids = [str(e.get("Id", "")) for e in entries]
    if len(set(ids)) != len(ids):
        raise batch_error(
            "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id"
        )
    if not all(_BATCH_ID.fullmatch(i) for i in ids):
        raise batch_error(
            "InvalidBatchEntryId",
            "The Id of a batch entry in a batch request doesn't abide by the specification",
        )
    total = sum(len(str(e.get("Message", "")).encode()) for e in entries)
    if total > check.MAX_MESSAGE_BYTES:
        raise batch_error(
            "BatchRequestTooLong",
            "The length of all the messages put together is more than the limit",
        )
    successful, failed = [], []
    for entry_id, entry in zip(ids, entries, strict=True):
        try:
            successful.append({"Id": entry_id, **_publish_one(engine, topic_arn, entry)})
        except SnsError as error:
            failed.append(
                {
                    "Id": entry_id,
                    "Code": error.code,
                    "Message": error.message,
                    "SenderFault": error.sender_fault,
                }
            )
    return {"Successful": successful, "Failed": failed}


def add_permission(engine: SnsEngine, params: Params) -> Result:
    engine.add_permission(
        _required(params, "TopicArn"),
        _required(params, "Label"),
        [str(a) for a in params.get("AWSAccountId") or []],
        [str(a) for a in params.get("ActionName") or []],
    )
    return None


def remove_permission(engine: SnsEngine, params: Params) -> Result:
    engine.remove_permission(_required(params, "TopicArn"), _required(params, "Label"))
    return None


def tag_resource(engine: SnsEngine, params: Params) -> Result:
    engine.tag_resource(_required(params, "ResourceArn"), _tags(params))
    return {}


def untag_resource(engine: SnsEngine, params: Params) -> Result:
    keys = params.get("TagKeys") or []
    engine.untag_resource(_required(params, "ResourceArn"), [str(k) for k in keys])
    return {}


def list_tags_for_resource(engine: SnsEngine, params: Params) -> Result:
    tags = engine.list_tags(_required(params, "ResourceArn"))
    return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


def create_platform_application(engine: SnsEngine, params: Params) -> Result:
    arn = engine.platforms.create_application(
        _required(params, "Name"), _required(params, "Platform"), _map(params, "Attributes")
    )
    return {"PlatformApplicationArn": arn}


def get_platform_application_attributes(engine: SnsEngine, params: Params) -> Result:
    arn = _required(params, "PlatformApplicationArn")
    return {"Attributes": engine.platforms.application_attributes(arn)}


def set_platform_application_attributes(engine: SnsEngine, params: Params) -> Result:
    engine.platforms.set_application_attributes(
        _required(params, "PlatformApplicationArn"), _map(params, "Attributes")
    )
    return None


def list_platform_applications(engine: SnsEngine, params: Params) -> Result:
    page, token = _page(engine.platforms.list_applications(), params)
    result: dict[str, Any] = {
        "PlatformApplications": [
            {"PlatformApplicationArn": arn, "Attributes": attributes} for arn, attributes in page
        ]
    }
    if token:
        result["NextToken"] = token
    return result


def delete_platform_application(engine: SnsEngine, params: Params) -> Result:
    engine.platforms.delete_application(_required(params, "PlatformApplicationArn"))
    return None


def create_platform_endpoint(engine: SnsEngine, params: Params) -> Result:
    custom = params.get("CustomUserData")
    arn = engine.platforms.create_endpoint(
        _required(params, "PlatformApplicationArn"),
        _required(params, "Token"),
        None if custom is None else str(custom),
        _map(params, "Attributes"),
    )
    return {"EndpointArn": arn}


def get_endpoint_attributes(engine: SnsEngine, params: Params) -> Result:
    endpoint = engine.platforms.endpoint(_required(params, "EndpointArn"))
    return {"Attributes": endpoint.attributes}


def set_endpoint_attributes(engine: SnsEngine, params: Params) -> Result:
    engine.platforms.set_endpoint_attributes(
        _required(params, "EndpointArn"), _map(params, "Attributes")
    )
    return None


def list_endpoints_by_platform_application(engine: SnsEngine, params: Params) -> Result:
    endpoints = engine.platforms.list_endpoints(_required(params, "PlatformApplicationArn"))
    page, token = _page(endpoints, params)
    result: dict[str, Any] = {
        "Endpoints": [{"EndpointArn": e.arn, "Attributes": e.attributes} for e in page]
    }
    if token:
        result["NextToken"] = token
    return result


def delete_endpoint(engine: SnsEngine, params: Params) -> Result:
    engine.platforms.delete_endpoint(_required(params, "EndpointArn"))
    return None


OPERATIONS: dict[str, Operation] = {
    "CreateTopic": create_topic,
    "DeleteTopic": delete_topic,
    "ListTopics": list_topics,
    "GetTopicAttributes": get_topic_attributes,
    "SetTopicAttributes": set_topic_attributes,
    "Subscribe": subscribe,
    "ConfirmSubscription": confirm_subscription,
    "Unsubscribe": unsubscribe,
    "ListSubscriptions": list_subscriptions,
    "ListSubscriptionsByTopic": list_subscriptions_by_topic,
    "GetSubscriptionAttributes": get_subscription_attributes,
    "SetSubscriptionAttributes": set_subscription_attributes,
    "Publish": publish,
    "PublishBatch": publish_batch,
    "AddPermission": add_permission,
    "RemovePermission": remove_permission,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "CreatePlatformApplication": create_platform_application,
    "GetPlatformApplicationAttributes": get_platform_application_attributes,
    "SetPlatformApplicationAttributes": set_platform_application_attributes,
    "ListPlatformApplications": list_platform_applications,
    "DeletePlatformApplication": delete_platform_application,
    "CreatePlatformEndpoint": create_platform_endpoint,
    "GetEndpointAttributes": get_endpoint_attributes,
    "SetEndpointAttributes": set_endpoint_attributes,
    "ListEndpointsByPlatformApplication": list_endpoints_by_platform_application,
    "DeleteEndpoint": delete_endpoint,
}

# SNS's operations (botocore's model) not served locally: AWS's NotImplemented, listed
# in docs/internals.md. An action SNS does not have at all is InvalidAction.
UNSERVED = frozenset(
    {
        "CheckIfPhoneNumberIsOptedOut",
        "CreateSMSSandboxPhoneNumber",
        "DeleteSMSSandboxPhoneNumber",
        "GetDataProtectionPolicy",
        "GetSMSAttributes",
        "GetSMSSandboxAccountStatus",
        "ListOriginationNumbers",
        "ListPhoneNumbersOptedOut",
        "ListSMSSandboxPhoneNumbers",
        "OptInPhoneNumber",
        "PutDataProtectionPolicy",
        "SetSMSAttributes",
        "VerifySMSSandboxPhoneNumber",
    }
)
