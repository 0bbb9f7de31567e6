"""One handler for every event source, plus a plain Lambda function."""

import os

from chalicelib.notify import publish_alert
from lambic import Cron, Lambic, Rate

app = Lambic(app_name="events")


@app.schedule(Rate(5, unit=Rate.MINUTES), description="every five minutes")
def every_five(event):
    publish_alert("tick")


@app.schedule(Cron(0, 12, "*", "*", "?", "*"))
def noon(event):
    return None


@app.on_s3_event(bucket="uploads", events=["s3:ObjectCreated:*"], prefix="in/", suffix=".csv")
def on_upload(event):
    return None


@app.on_sqs_message(queue="jobs", batch_size=5, maximum_batching_window_in_seconds=2)
def on_job(event):
    return None


@app.on_sns_message(topic="alerts")
def on_alert(event):
    return None


@app.on_cw_event({"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]})
def on_ec2(event):
    return None


# A stream ARN carries the stream's creation time, so it is configuration, not code.
@app.on_dynamodb_record(
    stream_arn=os.environ.get(
        "ORDERS_STREAM_ARN",
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000",
    ),
    batch_size=50,
    starting_position="TRIM_HORIZON",
)
def on_order(event):
    return None


@app.on_kinesis_record(stream="clicks", batch_size=25)
def on_click(event):
    return None


@app.lambda_function(name="worker")
def worker(event, context):
    return {"ok": True}
