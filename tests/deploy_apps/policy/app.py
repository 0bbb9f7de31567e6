"""Every way of reaching AWS the policy analyser must follow."""

import os

import boto3

from chalicelib import db
from chalicelib.storage import archive, bucket_name
from chalicelib.tables import get_status_table
from lambic import Lambic

app = Lambic(app_name="policy")
sqs = boto3.client("sqs")
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/work-queue"
session = boto3.session.Session()
lam = session.client("lambda")


@app.route("/status/{line}")
def status(line):
    return get_status_table().get_item(Key={"line": line})


@app.route("/status", methods=["POST"])
def save():
    table = get_status_table()
    with table.batch_writer() as batch:
        batch.put_item(Item=app.current_request.json_body)
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody="saved")
    return {}


@app.route("/archive", methods=["POST"])
def do_archive():
    archive("report.csv", b"data")
    return {"bucket": bucket_name()}


@app.route("/users")
def users():
    return db.users.scan()


@app.lambda_function()
def fanout(event, context):
    lam.invoke(FunctionName=os.environ["WORKER_FUNCTION"], Payload=b"{}")
    boto3.client("events").put_events(Entries=[])
