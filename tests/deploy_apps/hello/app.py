from lambic import Lambic

app = Lambic(app_name="hello")


@app.route("/")
def index():
    return {"hello": "world"}
