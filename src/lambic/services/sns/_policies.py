"""SNS's JSON policy documents: the default topic policy, the effective delivery policy,
and JSON-aware attribute comparison for idempotent CreateTopic/Subscribe."""

from __future__ import annotations

import json
from typing import Any

from lambic._http_limits import loads_json


def default_policy(arn: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "SNS:GetTopicAttributes",
                    "SNS:SetTopicAttributes",
                    "SNS:AddPermission",
                    "SNS:RemovePermission",
                    "SNS:DeleteTopic",
                    "SNS:Subscribe",
                    "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish",
                ],
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }


def same_value(current: str | None, given: str) -> bool:
    """Attribute equality for idempotent calls; JSON values compare as JSON."""
    if current == given:
        return True
    if current is None or not given.lstrip().startswith("{"):
        return False
    try:
        return bool(loads_json(current) == loads_json(given))
    except ValueError:
        return False


def is_json_object(text: str) -> bool:
    try:
        return isinstance(loads_json(text), dict)
    except ValueError:
        return False


def attribute_default(name: str) -> str:
    return {"DisplayName": "", "ContentBasedDeduplication": "false"}.get(name, "")


EFFECTIVE_DELIVERY_POLICY = json.dumps(
    {
        "http": {
            "defaultHealthyRetryPolicy": {
                "minDelayTarget": 20,
                "maxDelayTarget": 20,
                "numRetries": 3,
                "numMaxDelayRetries": 0,
                "numNoDelayRetries": 0,
                "numMinDelayRetries": 0,
                "backoffFunction": "linear",
            },
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        }
    },
    separators=(",", ":"),
)
