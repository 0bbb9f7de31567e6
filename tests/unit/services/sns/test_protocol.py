from __future__ import annotations

import xml.etree.ElementTree as ET

from lambic.services.sns.protocol import parse_form, render_error, render_result

NS = {"s": "http://sns.amazonaws.com/doc/2010-03-31/"}


def test_entry_maps_and_member_lists_become_dicts_and_lists() -> None:
    action, params = parse_form(
        [
            ("Action", "PublishBatch"),
            ("Version", "2010-03-31"),
            ("TopicArn", "arn:t"),
            ("PublishBatchRequestEntries.member.2.Id", "b"),
            ("PublishBatchRequestEntries.member.2.Message", "two"),
            ("PublishBatchRequestEntries.member.1.Id", "a"),
            ("PublishBatchRequestEntries.member.1.Message", "one"),
            ("PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name", "k"),
            (
                "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType",
                "String",
            ),
            (
                "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue",
                "v",
            ),
        ]
    )
    assert action == "PublishBatch"
    assert params == {
        "TopicArn": "arn:t",
        "PublishBatchRequestEntries": [
            {
                "Id": "a",
                "Message": "one",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "b", "Message": "two"},
        ],
    }


def test_attribute_entries_and_tag_members() -> None:
    _, params = parse_form(
        [
            ("Attributes.entry.1.key", "DisplayName"),
            ("Attributes.entry.1.value", "Hi"),
            ("Tags.member.1.Key", "env"),
            ("Tags.member.1.Value", "dev"),
        ]
    )
    assert params == {"Attributes": {"DisplayName": "Hi"}, "Tags": [{"Key": "env", "Value": "dev"}]}


def test_results_render_members_and_entries() -> None:
    root = ET.fromstring(
        render_result(
            "ListTopics", {"Topics": [{"TopicArn": "a"}, {"TopicArn": "b"}], "NextToken": "2"}, "r"
        )
    )
    arns = [e.text for e in root.findall("s:ListTopicsResult/s:Topics/s:member/s:TopicArn", NS)]
    assert arns == ["a", "b"]
    root = ET.fromstring(render_result("GetTopicAttributes", {"Attributes": {"k": "<v>"}}, "r"))
    entry = root.find("s:GetTopicAttributesResult/s:Attributes/s:entry", NS)
    assert entry is not None
    assert entry.findtext("s:value", namespaces=NS) == "<v>"


def test_errors_render_in_sns_namespace() -> None:
    root = ET.fromstring(render_error("NotFound", "Topic does not exist", True, "r"))
    assert root.findtext("s:Error/s:Code", namespaces=NS) == "NotFound"
    assert root.findtext("s:RequestId", namespaces=NS) == "r"
