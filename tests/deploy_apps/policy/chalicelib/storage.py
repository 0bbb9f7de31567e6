import os

from boto3 import client


class Archiver:
    def __init__(self):
        self.s3 = client("s3")

    def put(self, key, body):
        self.s3.put_object(Bucket=bucket_name(), Key=key, Body=body)
        paginator = self.s3.get_paginator("list_objects_v2")
        return list(paginator.paginate(Bucket=bucket_name(), Prefix=key))


def bucket_name():
    return os.getenv("ARCHIVE_BUCKET", "archive-default")


_archiver = Archiver()


def archive(key, body):
    _archiver.put(key, body)
    client("s3").upload_file("/tmp/x", "reports-bucket", key)
