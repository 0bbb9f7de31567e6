"""Routes with CORS, binary types, every kind of authorizer and an API key."""

from chalicelib.store import save_user
from lambic import (
    AuthResponse,
    CognitoUserPoolAuthorizer,
    CORSConfig,
    CustomAuthorizer,
    IAMAuthorizer,
    Lambic,
    Response,
)

app = Lambic(app_name="web")
app.api.binary_types.append("image/png")

iam = IAMAuthorizer()
cognito = CognitoUserPoolAuthorizer(
    "pool", provider_arns=["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"]
)
external = CustomAuthorizer(
    "external",
    authorizer_uri=(
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:123456789012:function:external-auth/invocations"
    ),
    ttl_seconds=60,
)
cors = CORSConfig(allow_origin="https://example.com", max_age=600)


@app.authorizer(ttl_seconds=30)
def token_auth(auth_request):
    return AuthResponse(routes=["*"], principal_id="user")


@app.route("/", cors=True)
def index():
    return {"hello": "world"}


@app.route("/users/{user_id}", methods=["GET", "PUT"], authorizer=token_auth, cors=cors)
def user(user_id):
    if app.current_request.method == "PUT":
        save_user(user_id, app.current_request.json_body)
    return {"user": user_id}


@app.route("/admin", authorizer=iam, api_key_required=True)
def admin():
    return {"admin": True}


@app.route("/profile", authorizer=cognito)
def profile():
    return {"profile": True}


@app.route("/external", authorizer=external)
def external_route():
    return {"external": True}


@app.route("/image", methods=["POST"], content_types=["image/png"])
def image():
    return Response(body=app.current_request.raw_body, headers={"Content-Type": "image/png"})
