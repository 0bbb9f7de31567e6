"""`lambic invoke` against the local cloud: one function writes to S3, one shows its AWS_* env."""

import os

import boto3

from lambic import Lambic

app = Lambic("invoke-local")


@app.lambda_function(name="put_object")
def put_object(event, context):
    print(f"putting {event['key']}")
    boto3.client("s3").put_object(Bucket="invoke-local-data", Key=event["key"], Body=b"written")
    return {"written": event["key"]}


@app.lambda_function(name="aws_environment")
def aws_environment(event, context):
    return {key: value for key, value in os.environ.items() if key.startswith("AWS_")}
