"""Lambic: AWS-wire-compatible local services (S3, DynamoDB, SQS, SNS) on one edge port."""
