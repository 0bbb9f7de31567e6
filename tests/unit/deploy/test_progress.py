"""Progress lines and the deploy summary: names people recognise, AWS's URL formats."""

from __future__ import annotations

import pytest

from lambic.deploy.progress import deploy_summary, resource_line, website_url
from lambic.deploy.records import DeployedRecord, DeployedResource


@pytest.mark.parametrize(
    ("region", "url"),
    [
        ("us-east-1", "http://site.s3-website-us-east-1.amazonaws.com"),
        ("eu-west-1", "http://site.s3-website-eu-west-1.amazonaws.com"),
        ("us-east-2", "http://site.s3-website.us-east-2.amazonaws.com"),
        ("eu-central-1", "http://site.s3-website.eu-central-1.amazonaws.com"),
        ("cn-north-1", "http://site.s3-website.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_website_url_uses_the_dash_or_dot_form_aws_gives_the_region(region: str, url: str) -> None:
    assert website_url("site", region) == url


@pytest.mark.parametrize(
    ("key", "attrs", "label"),
    [
        (
            "s3:on_upload",
            {"type": "s3", "bucket": "uploads", "function_name": "app-dev-on_upload"},
            "S3 notification on bucket uploads -> app-dev-on_upload",
        ),
        (
            "sqs:worker",
            {
                "type": "mapping",
                "identity": "sqs:arn:aws:sqs:eu-west-1:1:jobs",
                "function_name": "w",
            },
            "SQS mapping jobs -> w",
        ),
        (
            "stream:on_order",
            {
                "type": "mapping",
                "identity": "dynamodb:arn:aws:dynamodb:r:1:table/orders/stream/2024-01-01T00:00"
                ":TRIM_HORIZON",
                "function_name": "f",
            },
            "DynamoDB stream mapping orders -> f",
        ),
        (
            "sns:on_alert",
            {"type": "sns", "topic": "arn:aws:sns:r:1:alerts", "function_name": "f"},
            "SNS subscription alerts -> f",
        ),
        ("schedule:tick", {"type": "rule", "rule": "f", "function_name": "f"}, "schedule rule f"),
        ("cloudwatch:on_ec2", {}, "cloudwatch binding -> on_ec2"),
    ],
)
def test_a_binding_is_labelled_by_its_source_and_function(
    key: str, attrs: dict[str, str], label: str
) -> None:
    assert DeployedResource(key, "binding", {}, attrs).label() == label


def test_an_api_label_gives_its_id_and_name_and_an_old_record_just_the_id() -> None:
    api = DeployedResource("api", "rest_api", {}, {"api_id": "a1b2c3", "name": "web"})
    assert api.label() == "REST API a1b2c3 (web)"
    old = DeployedResource("api", "http_api", {}, {"api_id": "a1b2c3"})
    assert old.label() == "HTTP API a1b2c3"


def test_lines_keep_the_action_in_a_fixed_width_column() -> None:
    assert resource_line("created", "role r") == "  created   role r"
    assert resource_line("unchanged", "role r") == "  unchanged role r"


def test_summary_counts_actions_and_lists_the_stage_urls() -> None:
    record = DeployedRecord("site", "prod", "eu-central-1", "1")
    for key, kind, attrs in [
        ("bucket:www", "bucket", {"bucket": "www", "index_document": "index.html"}),
        ("bucket:logs", "bucket", {"bucket": "logs", "index_document": None}),
        ("function:api_handler", "function", {"function_name": "site-prod"}),
    ]:
        record.resources[key] = DeployedResource(key, kind, {}, attrs)
    assert deploy_summary(record, {"function:api_handler": "updated"}) == [
        "Deployed site (prod): 1 updated, 2 unchanged",
        "  Website URL:  http://www.s3-website.eu-central-1.amazonaws.com",
        "  Logs:         lambic logs --stage prod",
    ]
    assert deploy_summary(record, {})[0] == (
        "No changes: 3 resources up to date in site (prod), eu-central-1"
    )
