"""Blueprints with URL and name prefixes (differential case)."""

from lambic import Blueprint, Lambic, NotFoundError

app = Lambic(app_name="http-blueprints")
users = Blueprint(__name__)

USERS = {"1": "ada", "2": "grace"}


@users.route("/")
def list_users():
    return sorted(USERS.values())


@users.route("/{user_id}", methods=["GET", "DELETE"])
def user(user_id):
    if user_id not in USERS:
        raise NotFoundError(f"no user {user_id}")
    request = users.current_request
    return {"name": USERS[user_id], "method": request.method, "path": request.path}


@users.middleware("http")
def tag(event, get_response):
    response = get_response(event)
    response.headers["X-Blueprint"] = "users"
    return response


app.register_blueprint(users, url_prefix="/users", name_prefix="users_")


@app.route("/")
def index():
    return {"routes": sorted(app.routes)}
