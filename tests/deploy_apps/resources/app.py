"""Every kind of declared resource, each wired to a handler (issue 17's done-means app).

A route writes orders into the declared table; its stream, the queue (with a
dead-letter queue), the topic, an EventBridge rule and the Kinesis stream each invoke
a handler that records what it saw as an object in the audit bucket. The site bucket is a public
website.
"""

import json
import os
import uuid

import boto3

from lambic import Lambic

app = Lambic(app_name="shop")
TABLE = os.environ.get("TABLE_NAME", "shop-orders")
AUDIT = os.environ.get("AUDIT_BUCKET", "shop-audit")


def _record(kind, detail):
    key = f"{kind}/{uuid.uuid4()}.json"
    boto3.client("s3").put_object(Bucket=AUDIT, Key=key, Body=json.dumps(detail).encode())


@app.route("/orders", methods=["POST"])
def new_order():
    order = app.current_request.json_body
    boto3.resource("dynamodb").Table(TABLE).put_item(Item={"id": order["id"]})
    return {"id": order["id"]}


@app.on_sqs_message(queue="shop-jobs")
def on_job(event):
    for record in event:
        if record.body == "poison":
            raise ValueError("a poison message: the queue's redrive policy moves it aside")
        _record("sqs", record.body)


@app.on_sns_message(topic="shop-alerts")
def on_alert(event):
    _record("sns", event.message)


@app.on_cw_event({"source": ["shop.orders"]})
def on_order_event(event):
    _record("events", event.detail)


# The declared table's name: its stream ARN exists only once the table does, and
# each side resolves it (locally, and on AWS by the deployer, SAM or Terraform).
@app.on_dynamodb_record(stream_arn="shop-orders", starting_position="TRIM_HORIZON")
def on_order_change(event):
    for record in event:
        _record("dynamodb", record.keys)


# A declared Kinesis stream (two shards), named by its name.
@app.on_kinesis_record(stream="shop-clicks", starting_position="TRIM_HORIZON")
def on_click(event):
    for record in event:
        _record("kinesis", record.data.decode())
