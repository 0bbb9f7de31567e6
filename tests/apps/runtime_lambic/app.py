import os

from lambic.app import Lambic

app = Lambic("runtime-demo")


@app.route("/")
def index():
    return {"hello": "world", "stage_var": os.environ.get("GREETING")}


@app.route("/users/{user_id}", methods=["GET", "PUT"], cors=True)
def user(user_id):
    return {"user": user_id}


@app.lambda_function(name="worker")
def worker(event, context):
    app.log.error("worker saw %s", event)
    return {"worker": event, "memory": context.memory_limit_in_mb}
