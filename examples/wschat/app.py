"""wschat: a WebSocket chat room, an announcement queue, and a protected admin route.

    lambic local --project-dir examples/wschat
    # WebSocket: ws://127.0.0.1:8001 ...
    websocat 'ws://127.0.0.1:8001/?name=ann'        # any WebSocket client

- `$connect` records the connection (and the name from `?name=`) in the DynamoDB table
  declared in .lambic/config.json; `$disconnect` removes it.
- Each message is broadcast to every connection as {"from": name, "message": text}.
- A message on the SQS queue `wschat-announcements` is broadcast too, from "announcer":
  the queue handler reaches the clients through the same `app.websocket_api`, with
  the API's domain and stage recorded at connect time.
- `GET /connections` lists who is connected; a built-in authorizer protects it
  (`Authorization: Bearer <ADMIN_TOKEN>`). `GET /` is public.
"""

import json
import os

import boto3

from lambic import AuthResponse, Lambic, WebsocketDisconnectedError

app = Lambic("wschat")
# Chalice marks WebSockets experimental; the opt-in is required, as in Chalice.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = boto3.session.Session()

_table = boto3.resource("dynamodb").Table(os.environ["CONNECTIONS_TABLE"])


@app.authorizer()
def admin_token(auth_request):
    if auth_request.token == f"Bearer {os.environ['ADMIN_TOKEN']}":
        return AuthResponse(routes=["/connections"], principal_id="admin")
    return AuthResponse(routes=[], principal_id="anonymous")


@app.route("/")
def index():
    return {"room": "wschat"}


@app.route("/connections", authorizer=admin_token)
def connections():
    return {"connections": [item["name"] for item in _members()]}


@app.on_ws_connect()
def connect(event):
    query = event.to_dict().get("queryStringParameters") or {}
    _table.put_item(
        Item={
            "connection_id": event.connection_id,
            "name": query.get("name", "anonymous"),
            # Where this connection's API is, for handlers that get no WebSocket event.
            "domain_name": event.domain_name,
            "stage": event.stage,
        }
    )


@app.on_ws_message()
def message(event):
    sender = _table.get_item(Key={"connection_id": event.connection_id}).get("Item") or {}
    _broadcast(sender.get("name", "anonymous"), event.body)


@app.on_ws_disconnect()
def disconnect(event):
    _table.delete_item(Key={"connection_id": event.connection_id})


@app.on_sqs_message(queue="wschat-announcements")
def announce(event):
    for record in event:
        _broadcast("announcer", record.body)


def _members():
    response = _table.scan()
    items = response["Items"]
    while "LastEvaluatedKey" in response:
        response = _table.scan(ExclusiveStartKey=response["LastEvaluatedKey"])
        items += response["Items"]
    return items


def _broadcast(sender, text):
    payload = json.dumps({"from": sender, "message": text})
    for member in _members():
        app.websocket_api.configure(member["domain_name"], member["stage"])
        try:
            app.websocket_api.send(member["connection_id"], payload)
        except WebsocketDisconnectedError:
            # Gone without a $disconnect (API Gateway runs it on a best-effort basis).
            _table.delete_item(Key={"connection_id": member["connection_id"]})
