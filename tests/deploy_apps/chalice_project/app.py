"""A Chalice project exactly as Chalice writes one: `from chalice import Chalice`,
`.chalice/config.json`, `chalicelib/`. Lambic must serve, invoke, package and deploy it
without a file changed. Handlers record what they received via chalicelib."""

import os

from chalice import Chalice, Rate

from chalicelib import records

app = Chalice(app_name="chaliceproj")


@app.route("/")
def index():
    return {
        "greeting": os.environ["GREETING"],
        "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
    }


@app.route("/users/{name}", methods=["PUT"])
def put_user(name):
    return {"name": name, "body": app.current_request.json_body}


@app.schedule(Rate(1, unit=Rate.HOURS))
def hourly(event):
    records.record("schedule", {"time": event.time})


@app.on_s3_event(bucket="chalice-uploads", events=["s3:ObjectCreated:*"])
def uploaded(event):
    records.record("s3", {"bucket": event.bucket, "key": event.key})


@app.on_sqs_message(queue="chalice-jobs", batch_size=1)
def job(event):
    for record in event:
        records.record("sqs", {"body": record.body})


@app.lambda_function()
def add(event, context):
    return {"sum": event["a"] + event["b"]}
