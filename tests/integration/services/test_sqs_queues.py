"""SQS queue management through the edge with a real boto3 client (JSON protocol)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.sqs import create_service


@pytest.fixture
def sqs(start_edge: Any, make_client: Any) -> Any:
    edge = start_edge({"sqs": create_service(None)})
    return make_client("sqs", edge.url)


def _code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_create_queue_returns_a_url_on_the_edge_host_and_is_idempotent(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    assert url.endswith("/000000000000/orders")
    assert url.startswith(sqs.meta.endpoint_url)
    assert sqs.create_queue(QueueName="orders")["QueueUrl"] == url
    assert sqs.get_queue_url(QueueName="orders")["QueueUrl"] == url


def test_create_queue_with_different_attributes_fails_with_queue_already_exists(sqs: Any) -> None:
    sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "10"})
    sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "10"})
    with pytest.raises(sqs.exceptions.QueueNameExists) as caught:
        sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "20"})
    assert _code(caught.value) == "QueueAlreadyExists"
    assert caught.value.response["Error"]["QueryErrorCode"] == "QueueNameExists"


def test_unknown_queue_answers_non_existent_queue_with_both_codes(sqs: Any) -> None:
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as caught:
        sqs.get_queue_url(QueueName="missing")
    assert _code(caught.value) == "AWS.SimpleQueueService.NonExistentQueue"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"{sqs.meta.endpoint_url}/000000000000/missing", MessageBody="x")


@pytest.mark.parametrize(
    ("name", "attributes"),
    [
        ("bad name", {}),
        ("x" * 81, {}),
        ("jobs.fifo", {}),
        ("jobs", {"FifoQueue": "true"}),
    ],
)
def test_invalid_queue_names_are_rejected_with_invalid_parameter_value(
    sqs: Any, name: str, attributes: dict[str, str]
) -> None:
    with pytest.raises(ClientError) as caught:
        sqs.create_queue(QueueName=name, Attributes=attributes)
    assert _code(caught.value) == "InvalidParameterValue"
    assert "QueueUrls" not in sqs.list_queues()


def test_attribute_out_of_range_or_unknown_is_rejected(sqs: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "43201"})
    assert _code(caught.value) == "InvalidAttributeValue"
    with pytest.raises(ClientError) as caught:
        sqs.create_queue(QueueName="q", Attributes={"ContentBasedDeduplication": "true"})
    assert _code(caught.value) == "InvalidAttributeName"


def test_list_queues_filters_by_prefix_and_pages_with_next_token(sqs: Any) -> None:
    for name in ("alpha-1", "alpha-2", "alpha-3", "beta"):
        sqs.create_queue(QueueName=name)
    assert len(sqs.list_queues()["QueueUrls"]) == 4
    prefixed = sqs.list_queues(QueueNamePrefix="alpha")["QueueUrls"]
    assert [u.rsplit("/", 1)[1] for u in prefixed] == ["alpha-1", "alpha-2", "alpha-3"]
    first = sqs.list_queues(MaxResults=2)
    assert len(first["QueueUrls"]) == 2
    second = sqs.list_queues(MaxResults=2, NextToken=first["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in second["QueueUrls"]] == ["alpha-3", "beta"]
    assert "NextToken" not in second


def test_get_and_set_queue_attributes(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"
    assert attributes["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:q"
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert int(attributes["CreatedTimestamp"]) > 1_600_000_000
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"VisibilityTimeout": "45", "DelaySeconds": "2"}
    )
    some = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert some["Attributes"] == {"VisibilityTimeout": "45"}
    with pytest.raises(ClientError) as caught:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "901"})
    assert _code(caught.value) == "InvalidAttributeValue"
    delay = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])
    assert delay["Attributes"] == {"DelaySeconds": "2"}


def test_redrive_policy_is_validated_and_normalised(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    url = sqs.create_queue(QueueName="src", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    stored = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    assert json.loads(stored["Attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": 3,
    }
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [url]
    missing = json.dumps(
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nope", "maxReceiveCount": 1}
    )
    with pytest.raises(ClientError) as caught:
        sqs.create_queue(QueueName="other", Attributes={"RedrivePolicy": missing})
    assert _code(caught.value) == "InvalidParameterValue"


def test_tags_can_be_set_listed_and_removed(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q", tags={"team": "a"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "env"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


def test_delete_and_purge_queue(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="q")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=url)


def test_add_and_remove_permission_edit_the_queue_policy(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.add_permission(
        QueueUrl=url, Label="send", AWSAccountIds=["111122223333"], Actions=["SendMessage"]
    )
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    [statement] = policy["Statement"]
    assert statement["Sid"] == "send"
    assert statement["Action"] == ["SQS:SendMessage"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::111122223333:root"]}
    with pytest.raises(ClientError) as caught:
        sqs.add_permission(
            QueueUrl=url, Label="send", AWSAccountIds=["111122223333"], Actions=["SendMessage"]
        )
    assert _code(caught.value) == "InvalidParameterValue"
    sqs.remove_permission(QueueUrl=url, Label="send")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    with pytest.raises(ClientError) as caught:
        sqs.remove_permission(QueueUrl=url, Label="send")
    assert _code(caught.value) == "InvalidParameterValue"


def test_message_move_task_redrives_a_dead_letter_queue_to_its_source(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    src = sqs.create_queue(QueueName="src", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    sent = sqs.send_message(QueueUrl=src, MessageBody="retry me")
    sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    back = sqs.receive_message(QueueUrl=src)["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in back] == [(sent["MessageId"], "retry me")]
    with pytest.raises(ClientError) as caught:
        sqs.start_message_move_task(SourceArn=dlq_arn.replace(":dlq", ":nope"))
    assert _code(caught.value) == "ResourceNotFoundException"
    src_arn = dlq_arn.replace(":dlq", ":src")
    with pytest.raises(ClientError) as caught:
        sqs.start_message_move_task(SourceArn=src_arn)
    assert _code(caught.value) == "InvalidParameterValue"


def test_cancel_message_move_task_with_no_running_task_is_resource_not_found(sqs: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sqs.cancel_message_move_task(TaskHandle="not-a-running-task")
    assert _code(caught.value) == "ResourceNotFoundException"


def test_a_queue_url_without_a_queue_path_is_a_queue_that_does_not_exist(sqs: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sqs.get_queue_attributes(QueueUrl="http://whatever-incorrect-queue-address")
    assert _code(caught.value) == "AWS.SimpleQueueService.NonExistentQueue"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
