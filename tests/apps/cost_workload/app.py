"""A known workload for the cost report: one 256 MB function behind one route."""

from lambic import Lambic

app = Lambic("cost-workload")


@app.route("/")
def index():
    return {"hello": "world"}
