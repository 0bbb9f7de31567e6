"""CORS headers on responses and errors (differential case)."""

from lambic import BadRequestError, CORSConfig, Lambic, Response

app = Lambic(app_name="http-cors")

custom = CORSConfig(
    allow_origin="https://example.com",
    allow_headers=["X-Special-Header"],
    max_age=600,
    expose_headers=["X-Special-Header"],
    allow_credentials=True,
)


@app.route("/open", methods=["GET", "POST"], cors=True)
def open_route():
    return {"open": True}


@app.route("/custom", methods=["GET", "PUT"], cors=custom)
def custom_route():
    return Response(body="custom", headers={"Access-Control-Allow-Origin": "https://override"})


@app.route("/custom-error", cors=custom)
def custom_error():
    raise BadRequestError("nope")


@app.route("/closed")
def closed():
    return {"cors": False}
