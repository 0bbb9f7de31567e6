"""WebSocket echo app for the runtime's integration tests.

Every event is appended as one JSON line to $OUT_DIR/<route>.jsonl. A client that
connects with `?deny=1` is refused (403), `?crash=1` makes $connect raise; the
message "boom" makes the message handler raise, "info" answers GetConnection's
identity, "plain" answers through a plain boto3 client, "close" closes the connection
from the server side.
"""

import json
import os

import boto3

from lambic import Lambic

app = Lambic("wsecho")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = boto3.session.Session()


def _record(route, event):
    with open(os.path.join(os.environ["OUT_DIR"], route + ".jsonl"), "a") as out:
        out.write(json.dumps(event.to_dict()) + "\n")


@app.on_ws_connect()
def connect(event):
    _record("connect", event)
    query = event.to_dict().get("queryStringParameters") or {}
    if "crash" in query:
        raise RuntimeError("connect crashed")
    if "deny" in query:
        return {"statusCode": 403}
    return None


@app.on_ws_message()
def message(event):
    _record("message", event)
    if event.body == "boom":
        raise RuntimeError("boom")
    if event.body == "info":
        info = app.websocket_api.info(event.connection_id)
        app.websocket_api.send(event.connection_id, json.dumps(info["Identity"]))
        return
    if event.body == "plain":
        # No endpoint_url: AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI from the runtime.
        client = boto3.client("apigatewaymanagementapi")
        client.post_to_connection(ConnectionId=event.connection_id, Data=b"plain boto3")
        return
    if event.body == "close":
        app.websocket_api.close(event.connection_id)
        return
    app.websocket_api.send(event.connection_id, "echo:" + event.body)


@app.on_ws_disconnect()
def disconnect(event):
    _record("disconnect", event)
