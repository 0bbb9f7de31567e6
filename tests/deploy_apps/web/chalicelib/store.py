"""A helper module in a local package: its boto3 use must reach the generated policy."""

import os

import boto3

USERS_TABLE = os.environ.get("USERS_TABLE", "users")
_dynamodb = boto3.resource("dynamodb")


def save_user(user_id, body):
    _dynamodb.Table(USERS_TABLE).put_item(Item={"id": user_id, **(body or {})})
