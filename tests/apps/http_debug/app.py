"""Unhandled exceptions with debug=True answer with a traceback (differential case)."""

from lambic import Lambic

app = Lambic(app_name="http-debug", debug=True)


@app.route("/boom")
def boom():
    raise ValueError("debug me")


@app.route("/ok")
def ok():
    return {"debug": app.debug}
