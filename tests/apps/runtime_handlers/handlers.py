"""Plain Lambda handlers for the runtime's integration tests (one behaviour each)."""

import ctypes
import logging
import os
import sys
import time

INIT_PID = os.getpid()
print("init: handlers imported")

logger = logging.getLogger("handlers")


def hello(event, context):
    print("hello from", context.function_name)
    return {"event": event, "pid": os.getpid(), "init_pid": INIT_PID}


def environ(event, context):
    return dict(os.environ)


def describe_context(event, context):
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "identity": context.identity.cognito_identity_id,
        "client_context": None if context.client_context is None else context.client_context.custom,
        "cwd": os.getcwd(),
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
    }


def boom(event, context):
    raise ValueError("boom: " + str(event.get("why", "no reason")))


def chatty(event, context):
    print("to stdout")
    print("to stderr", file=sys.stderr)
    logger.warning("a warning\nsecond line")
    os.write(1, b"raw fd write\n")
    return "done"


def sleepy(event, context):
    print("going to sleep")
    time.sleep(event.get("seconds", 30))
    return "woke up"


def hog(event, context):
    blocks = []
    for _ in range(event.get("mb", 400)):
        blocks.append(b"x" * (1024 * 1024))
    time.sleep(1)
    return len(blocks)


def exit_hard(event, context):
    print("about to exit")
    os._exit(event.get("code", 3))


def segfault(event, context):
    ctypes.string_at(0)


def not_json(event, context):
    return {"when": object()}


def pid(event, context):
    time.sleep(event.get("hold", 0))
    return os.getpid()


def sched_policy(event, context):
    time.sleep(event.get("hold", 0))
    return os.sched_getscheduler(0)


def cpus(event, context):
    time.sleep(event.get("hold", 0))
    return sorted(os.sched_getaffinity(0))


not_callable = 42


def big_response(event, context):
    return "x" * (7 * 1024 * 1024)


def boto_client(event, context):
    import boto3

    client = boto3.client(event.get("service", "dynamodb"))
    credentials = client._request_signer._credentials
    return {
        "endpoint": client.meta.endpoint_url,
        "region": client.meta.region_name,
        "access_key": credentials.access_key,
    }


def files_a_client_reads(event, context):
    import os

    import boto3

    read = []
    # The default session's file loader: botocore's, or the zygote's (_model_data).
    loader = boto3._get_default_session()._session.get_component("data_loader")
    kind = type(loader.file_loader)
    original = kind.load_file

    def spy(self, path):
        read.append(os.path.basename(path))
        return original(self, path)

    kind.load_file = spy
    by_service = {}
    for service in event["services"]:
        boto3.client(service, region_name="us-east-1")
        by_service[service], read[:] = list(read), []
    return by_service


def search_path(event, context):
    return sys.path


def no_newline(event, context):
    sys.stdout.write("no newline at the end")
    return "ok"
