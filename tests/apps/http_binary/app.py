"""Binary request and response bodies (differential case)."""

from lambic import Lambic, Response

app = Lambic(app_name="http-binary")
app.api.binary_types.append("application/vnd.custom")

PNG = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF])


@app.route("/image")
def image():
    return Response(body=PNG, headers={"Content-Type": "image/png"})


@app.route("/upload", methods=["POST"], content_types=["application/octet-stream"])
def upload():
    body = app.current_request.raw_body
    return {"size": len(body), "first": body[0], "last": body[-1]}


@app.route("/custom")
def custom():
    return Response(body=b"\x00\x01custom", headers={"Content-Type": "application/vnd.custom"})


@app.route("/json")
def json_route():
    return {"not": "binary"}
