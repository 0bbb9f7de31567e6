"""A WebSocket echo app with one HTTP route: what the deployer emits for WebSocket APIs."""

import boto3

from lambic import Lambic

app = Lambic("wsapp")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = boto3.session.Session()


@app.route("/")
def index():
    return {"hello": "world"}


@app.on_ws_connect()
def connect(event):
    return None


@app.on_ws_message()
def message(event):
    app.websocket_api.send(event.connection_id, event.body)


@app.on_ws_disconnect()
def disconnect(event):
    print("gone", event.connection_id)
