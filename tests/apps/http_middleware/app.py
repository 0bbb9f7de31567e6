"""HTTP middleware, ChaliceUnhandledError and ConvertToMiddleware (differential case)."""

import functools

from lambic import ChaliceUnhandledError, ConvertToMiddleware, Lambic, Response

app = Lambic(app_name="http-middleware")
CALLS = []


@app.middleware("http")
def add_header(event, get_response):
    CALLS.append("outer")
    response = get_response(event)
    response.headers["X-Outer"] = "1"
    return response


@app.middleware("all")
def short_circuit(event, get_response):
    if event.headers.get("x-block") == "yes":
        return Response(body={"blocked": True}, status_code=403)
    return get_response(event)


def catch_unhandled(event, nxt):
    try:
        return nxt(event)
    except ChaliceUnhandledError as exc:
        return Response(body={"handled": str(exc)}, status_code=418)


app.register_middleware(catch_unhandled, "http")


def lambda_decorator(func):
    @functools.wraps(func)
    def wrapper(event, context):
        response = func(event, context)
        response.headers["X-Seen-Path"] = event["path"]
        return response

    return wrapper


app.register_middleware(ConvertToMiddleware(lambda_decorator))


@app.route("/hello")
def hello():
    return {"hello": "middleware"}


@app.route("/unhandled")
def unhandled():
    raise ChaliceUnhandledError("let middleware see it")


@app.route("/crash")
def crash():
    raise KeyError("missing")


@app.middleware("sqs")
def never_for_http(event, get_response):
    raise AssertionError("sqs middleware ran for an HTTP request")
