"""Middleware around event handlers, by event type (differential case).

Every handler returns what it saw, so the test can compare the two frameworks.
"""

import functools

from lambic import ConvertToMiddleware, Lambic

app = Lambic(app_name="event-middleware")


@app.middleware("all")
def everywhere(event, get_response):
    result = get_response(event)
    result["all"] = type(event).__name__
    return result


@app.middleware("sqs")
def sqs_only(event, get_response):
    result = get_response(event)
    result["sqs_middleware"] = [record.body for record in event]
    return result


@app.middleware("s3")
def s3_only(event, get_response):
    result = get_response(event)
    result["s3_middleware"] = event.key
    return result


@app.middleware("scheduled")
def scheduled_only(event, get_response):
    result = get_response(event)
    result["scheduled_middleware"] = event.resources
    return result


@app.middleware("sns")
def sns_only(event, get_response):
    result = get_response(event)
    result["sns_middleware"] = event.subject
    return result


@app.middleware("pure_lambda")
def pure_only(event, get_response):
    result = get_response(event)
    result["pure_middleware"] = sorted(event.to_dict())
    return result


def stamp(func):
    @functools.wraps(func)
    def wrapper(event, context):
        result = func(event, context)
        result["converted_keys"] = sorted(event)
        return result

    return wrapper


app.register_middleware(ConvertToMiddleware(stamp), "sqs")


@app.on_sqs_message(queue="jobs", batch_size=5)
def jobs(event):
    return {"bodies": [r.body for r in event], "ids": [r.receipt_handle for r in event]}


@app.on_s3_event(bucket="photos", events=["s3:ObjectCreated:*"])
def photos(event):
    return {"bucket": event.bucket, "key": event.key}


@app.schedule("rate(5 minutes)")
def every_five(event):
    return {"source": event.source, "detail_type": event.detail_type}


@app.on_sns_message(topic="alerts")
def alerts(event):
    return {"message": event.message, "subject": event.subject}


@app.lambda_function(name="raw")
def raw(event, context):
    return {"raw": event}
