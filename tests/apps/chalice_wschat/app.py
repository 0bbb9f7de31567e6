"""A WebSocket chat written for Chalice, as Chalice's documentation writes one.

`from chalice import Chalice`: the real chalice package's `app.websocket_api`, whose
client is built with the API's AWS address. Under `lambic local` its calls must reach
the local WebSocket API all the same.

- `$connect` records the connection, its name (`?name=`), and where its API is.
- A text message is broadcast to everyone as {"from": name, "message": text}; a JSON
  message {"to": id, "text": ...} goes to one connection, and the sender hears
  {"gone": id} when that one has left (`WebsocketDisconnectedError`).
- A message on the SQS queue `chalicews-announcements` is broadcast by the queue
  handler, which has no WebSocket event: it configures `app.websocket_api` from the
  domain name and stage recorded at connect time.
"""

import json
import os

import boto3
from botocore.exceptions import ClientError
from chalice import Chalice, WebsocketDisconnectedError

app = Chalice(app_name="chalicews")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = boto3.session.Session()

_TABLE_NAME = os.environ["CONNECTIONS_TABLE"]
_dynamodb = boto3.resource("dynamodb")


def _table():
    table = _dynamodb.Table(_TABLE_NAME)
    try:
        _dynamodb.create_table(
            TableName=_TABLE_NAME,
            KeySchema=[{"AttributeName": "connection_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "connection_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
    return table


_connections = _table()


@app.on_ws_connect()
def connect(event):
    query = event.to_dict().get("queryStringParameters") or {}
    _connections.put_item(
        Item={
            "connection_id": event.connection_id,
            "name": query.get("name", "anonymous"),
            "domain_name": event.domain_name,
            "stage": event.stage,
        }
    )


@app.on_ws_message()
def message(event):
    try:
        whisper = json.loads(event.body)
    except ValueError:
        whisper = None
    if isinstance(whisper, dict) and "to" in whisper:
        try:
            app.websocket_api.send(whisper["to"], whisper.get("text", ""))
        except WebsocketDisconnectedError as exc:
            app.websocket_api.send(event.connection_id, json.dumps({"gone": exc.connection_id}))
        return
    sender = _connections.get_item(Key={"connection_id": event.connection_id}).get("Item") or {}
    _broadcast(sender.get("name", "anonymous"), event.body)


@app.on_ws_disconnect()
def disconnect(event):
    _connections.delete_item(Key={"connection_id": event.connection_id})


@app.on_sqs_message(queue="chalicews-announcements")
def announce(event):
    members = _members()
    if members:
        # No WebSocket event here: where the API is comes from what $connect recorded.
        app.websocket_api.configure(members[0]["domain_name"], members[0]["stage"])
    for record in event:
        _broadcast("announcer", record.body, members)


def _members():
    return _connections.scan()["Items"]


def _broadcast(sender, text, members=None):
    payload = json.dumps({"from": sender, "message": text})
    for member in members if members is not None else _members():
        try:
            app.websocket_api.send(member["connection_id"], payload)
        except WebsocketDisconnectedError:
            _connections.delete_item(Key={"connection_id": member["connection_id"]})
