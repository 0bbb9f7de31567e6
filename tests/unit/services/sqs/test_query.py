from __future__ import annotations

import xml.etree.ElementTree as ET

from lambic.services.sqs._query import parse_form, render_error, render_result


def test_flattened_members_become_the_json_protocols_shapes() -> None:
    action, params = parse_form(
        [
            ("Action", "SendMessageBatch"),
            ("Version", "2012-11-05"),
            ("QueueUrl", "http://h/000000000000/q"),
            ("SendMessageBatchRequestEntry.2.Id", "b"),
            ("SendMessageBatchRequestEntry.2.MessageBody", "two"),
            ("SendMessageBatchRequestEntry.1.Id", "a"),
            ("SendMessageBatchRequestEntry.1.MessageBody", "one"),
            ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Name", "k"),
            ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType", "String"),
            ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue", "v"),
        ]
    )
    assert action == "SendMessageBatch"
    assert params == {
        "QueueUrl": "http://h/000000000000/q",
        "Entries": [
            {
                "Id": "a",
                "MessageBody": "one",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "b", "MessageBody": "two"},
        ],
    }


def test_attribute_maps_and_name_lists_are_collected_in_index_order() -> None:
    _, params = parse_form(
        [
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "10"),
            ("AttributeName.2", "B"),
            ("AttributeName.1", "A"),
            ("TagKey.1", "env"),
        ]
    )
    assert params == {
        "Attributes": {"VisibilityTimeout": "10"},
        "AttributeNames": ["A", "B"],
        "TagKeys": ["env"],
    }


def test_results_render_as_namespaced_xml_with_escaped_text() -> None:
    body = render_result(
        "ReceiveMessage",
        {"Messages": [{"Body": "a\r\n<b>", "Attributes": {"SenderId": "x"}}]},
        "rid",
    )
    root = ET.fromstring(body)
    ns = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
    message = root.find("q:ReceiveMessageResult/q:Message", ns)
    assert message is not None
    assert message.findtext("q:Body", namespaces=ns) == "a\r\n<b>"
    assert message.findtext("q:Attribute/q:Name", namespaces=ns) == "SenderId"
    assert root.findtext("q:ResponseMetadata/q:RequestId", namespaces=ns) == "rid"


def test_errors_render_as_error_response() -> None:
    root = ET.fromstring(render_error("Code.X", "went <wrong>", False, "rid"))
    ns = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
    assert root.findtext("q:Error/q:Type", namespaces=ns) == "Receiver"
    assert root.findtext("q:Error/q:Message", namespaces=ns) == "went <wrong>"
