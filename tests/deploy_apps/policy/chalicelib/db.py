import boto3

users = boto3.resource("dynamodb").Table(f"{'users'}-table")
