import os

import boto3

_dynamodb = boto3.resource("dynamodb")
STATUS_TABLE = os.environ.get("STATUS_TABLE", "status-default")


def get_status_table():
    return _dynamodb.Table(STATUS_TABLE)
