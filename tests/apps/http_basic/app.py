"""Routes, parameters, request data, responses and errors (differential case)."""

from decimal import Decimal

from lambic import (
    BadRequestError,
    ChaliceViewError,
    ConflictError,
    ForbiddenError,
    Lambic,
    MethodNotAllowedError,
    NotFoundError,
    RequestTimeoutError,
    Response,
    TooManyRequestsError,
    UnauthorizedError,
    UnprocessableEntityError,
)

app = Lambic(app_name="http-basic")

ERRORS = {
    "bad": BadRequestError,
    "unauthorized": UnauthorizedError,
    "forbidden": ForbiddenError,
    "notfound": NotFoundError,
    "notallowed": MethodNotAllowedError,
    "timeout": RequestTimeoutError,
    "conflict": ConflictError,
    "unprocessable": UnprocessableEntityError,
    "toomany": TooManyRequestsError,
    "view": ChaliceViewError,
}


@app.route("/")
def index():
    return {"hello": "world"}


@app.route("/text")
def text():
    return "plain string"


@app.route("/list")
def a_list():
    return [1, "two", {"three": 3}, None, True]


@app.route("/decimal")
def decimal_body():
    return {"price": Decimal("1.5")}


@app.route("/users/{user_id}/orders/{order_id}", methods=["GET", "PUT", "POST"])
def order(user_id, order_id):
    request = app.current_request
    return {
        "user_id": user_id,
        "order_id": order_id,
        "method": request.method,
        "path": request.path,
        "uri_params": request.uri_params,
        "json": request.json_body,
    }


@app.route("/echo", methods=["GET", "POST"], content_types=["application/json", "text/plain"])
def echo():
    request = app.current_request
    query = request.query_params
    return {
        "query_last": None if query is None else {k: query[k] for k in query},
        "query_all": None if query is None else {k: query.getlist(k) for k in query},
        "x_custom": request.headers.get("X-CUSTOM"),
        "has_x_custom": "x-custom" in request.headers,
        "raw": request.raw_body.decode("utf-8"),
        "stage_vars": request.stage_vars,
        "request": request.to_dict(),
    }


@app.route("/created", methods=["POST"])
def created():
    return Response(
        body={"id": 7},
        status_code=201,
        headers={"Location": "/things/7", "Set-Cookie": ["a=1; Path=/", "b=2; HttpOnly"]},
    )


@app.route("/empty", methods=["DELETE"])
def empty():
    return Response(body="", status_code=204)


@app.route("/errors/{kind}")
def errors(kind):
    raise ERRORS[kind](f"{kind} happened")


@app.route("/boom")
def boom():
    raise RuntimeError("unexpected")


@app.route("/bad-header")
def bad_header():
    return Response(body="x", headers={"X-Bad": "a\nb"})
