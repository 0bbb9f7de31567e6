from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambic.deploy.deployable import load_deployable
from lambic.deploy.errors import ConfigError
from lambic.deploy.sam import build_sam
from lambic.project.config import DEFAULT_RUNTIME

# cfn-lint's console script, run with this interpreter.
_CFN_LINT = (
    "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
)


def _template(project: Path, stage: str = "dev") -> dict[str, Any]:
    return build_sam(load_deployable(project, stage).graph)


def _cfn_lint(template: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "sam.json"
    path.write_text(json.dumps(template))
    return subprocess.run(
        [sys.executable, "-c", _CFN_LINT, "--format", "parseable", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


APPS_AND_STAGES = [
    ("hello", "dev"),
    ("hello", "http"),
    ("web", "dev"),
    ("web", "prod"),
    ("events", "dev"),
    ("policy", "dev"),
    ("trainstatus", "dev"),
    ("chalice_project", "dev"),
    ("chalice_project", "prod"),
    ("resources", "dev"),
    ("websocket", "dev"),
    ("wschat", "dev"),
]


def test_every_template_passes_cfn_lint_without_errors(
    copy_app: Callable[[str], Path], tmp_path: Path
) -> None:
    # One cfn-lint run for all templates: each run spends seconds loading its schemas.
    paths = []
    for app, stage in APPS_AND_STAGES:
        path = tmp_path / f"{app}-{stage}.json"
        path.write_text(json.dumps(_template(copy_app(app), stage)))
        paths.append(str(path))
    result = subprocess.run(
        [sys.executable, "-c", _CFN_LINT, "--format", "parseable", *paths],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert errors == [], result.stdout + result.stderr
    assert result.returncode & 2 == 0, result.stdout + result.stderr  # bit 2: an error


def test_cfn_lint_check_catches_a_broken_template(
    copy_app: Callable[[str], Path], tmp_path: Path
) -> None:
    template = _template(copy_app("hello"))
    template["Resources"]["APIHandler"]["Properties"]["MemorySize"] = "lots"
    assert _cfn_lint(template, tmp_path).returncode & 2


def test_functions_carry_stage_settings_and_per_function_overrides(
    copy_app: Callable[[str], Path],
) -> None:
    resources = _template(copy_app("web"))["Resources"]
    api = resources["APIHandler"]["Properties"]
    assert (api["Handler"], api["Runtime"], api["MemorySize"], api["Timeout"]) == (
        "app.app",
        DEFAULT_RUNTIME,
        256,
        30,
    )
    assert api["Environment"]["Variables"] == {"USERS_TABLE": "users", "STAGE": "dev"}
    auth = resources["TokenAuth"]["Properties"]
    assert (auth["Handler"], auth["MemorySize"], auth["ReservedConcurrentExecutions"]) == (
        "app.token_auth",
        128,
        5,
    )
    assert resources["TokenAuthInvokePermission"]["Properties"]["Principal"] == (
        "apigateway.amazonaws.com"
    )


def test_lambda_architecture_becomes_sams_architectures(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("web")
    config_path = project / ".lambic" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["dev"]["lambda_functions"]["token_auth"]["lambda_architecture"] = "arm64"
    config_path.write_text(json.dumps(config))
    resources = _template(project)["Resources"]
    assert resources["TokenAuth"]["Properties"]["Architectures"] == ["arm64"]
    assert resources["APIHandler"]["Properties"]["Architectures"] == ["x86_64"]


def test_rest_api_body_proxies_every_route_to_the_api_function(
    copy_app: Callable[[str], Path],
) -> None:
    body = _template(copy_app("web"))["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    integration = body["paths"]["/users/{user_id}"]["put"]["x-amazon-apigateway-integration"]
    assert integration["type"] == "aws_proxy"
    assert integration["httpMethod"] == "POST"
    assert "${APIHandler.Arn}" in integration["uri"]["Fn::Sub"]
    assert body["x-amazon-apigateway-binary-media-types"][-1] == "image/png"
    assert body["x-amazon-apigateway-api-key-source"] == "HEADER"
    assert body["paths"]["/admin"]["get"]["security"] == [{"api_key": []}, {"sigv4": []}]
    preflight = body["paths"]["/users/{user_id}"]["options"]["x-amazon-apigateway-integration"]
    assert preflight["type"] == "mock"
    params = preflight["responses"]["default"]["responseParameters"]
    assert params["method.response.header.Access-Control-Allow-Origin"] == "'https://example.com'"
    assert "options" not in body["paths"]["/admin"]


def test_http_api_stage_routes_each_path_with_payload_v2(copy_app: Callable[[str], Path]) -> None:
    project = copy_app("hello")
    with (project / "app.py").open("a") as source:
        source.write(
            '\n\n@app.route("/users/{uid}", methods=["PUT"])\ndef put(uid):\n    return {}\n'
        )
    template = _template(project, "http")
    assert template["Resources"]["HttpAPI"]["Type"] == "AWS::Serverless::HttpApi"
    events = template["Resources"]["APIHandler"]["Properties"]["Events"].values()
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events}
    assert routes == {("GET", "/"), ("PUT", "/users/{uid}")}
    assert {e["Properties"]["PayloadFormatVersion"] for e in events} == {"2.0"}
    assert "RestAPI" not in template["Resources"]


def test_http_api_refuses_routes_it_could_not_protect(copy_app: Callable[[str], Path]) -> None:
    with pytest.raises(ConfigError, match=r"authorizer or API key.*\"api_gateway_type\": \"rest\""):
        load_deployable(copy_app("web"), "http")


def test_declared_table_and_bucket_become_cloudformation_resources(
    copy_app: Callable[[str], Path],
) -> None:
    resources = _template(copy_app("trainstatus"))["Resources"]
    table = resources["TableTrainstatus"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in table["Properties"]["KeySchema"]] == ["date", "time"]
    bucket = resources["BucketTrainstatusSite"]["Properties"]
    assert bucket["BucketName"] == "trainstatus-site"
    assert bucket["WebsiteConfiguration"] == {"IndexDocument": "index.html"}
    # The flagship's page is public (PublicRead): see the resources app's test.
    assert resources["BucketTrainstatusSitePolicy"]["Type"] == "AWS::S3::BucketPolicy"


def test_event_sources_become_sam_events_with_their_settings(
    copy_app: Callable[[str], Path],
) -> None:
    resources = _template(copy_app("events"))["Resources"]

    def event(function: str) -> dict[str, Any]:
        [only] = resources[function]["Properties"]["Events"].values()
        return only

    assert event("EveryFive") == {
        "Type": "Schedule",
        "Properties": {"Schedule": "rate(5 minutes)", "Description": "every five minutes"},
    }
    assert event("OnJob")["Properties"]["BatchSize"] == 5
    assert event("OnJob")["Properties"]["MaximumBatchingWindowInSeconds"] == 2
    upload = event("OnUpload")["Properties"]
    assert upload["Filter"] == {
        "S3Key": {
            "Rules": [{"Name": "prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".csv"}]
        }
    }
    assert resources["BucketUploads"]["Type"] == "AWS::S3::Bucket"
    assert event("OnOrder")["Properties"]["StartingPosition"] == "TRIM_HORIZON"
    assert event("OnEc2")["Type"] == "CloudWatchEvent"
    assert event("OnAlert")["Type"] == "SNS"
    assert "Events" not in resources["Worker"]["Properties"]
    assert resources["OnJob"]["Properties"]["ReservedConcurrentExecutions"] == 2


def test_declared_resources_become_their_cloudformation_types_and_handlers_refer_to_them(
    copy_app: Callable[[str], Path],
) -> None:
    resources = _template(copy_app("resources"))["Resources"]
    table = resources["TableShopOrders"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    stream = resources["OnOrderChange"]["Properties"]["Events"]["OnOrderChangeEvent3"]
    assert stream["Properties"]["Stream"] == {"Fn::GetAtt": ["TableShopOrders", "StreamArn"]}
    jobs = resources["QueueShopJobs"]["Properties"]
    assert jobs["VisibilityTimeout"] == 3
    assert jobs["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["QueueShopJobsDlq", "Arn"]},
        "maxReceiveCount": 1,
    }
    queue_event = resources["OnJob"]["Properties"]["Events"]["OnJobEvent0"]["Properties"]
    assert queue_event["Queue"] == {"Fn::GetAtt": ["QueueShopJobs", "Arn"]}
    topic_event = resources["OnAlert"]["Properties"]["Events"]["OnAlertEvent1"]["Properties"]
    assert topic_event["Topic"] == {"Ref": "TopicShopAlerts"}
    assert resources["TopicShopAlerts"]["Properties"] == {
        "TopicName": "shop-alerts",
        "DisplayName": "Shop alerts",
    }
    assert resources["TopicShopAlertsSubscription0"]["Properties"] == {
        "TopicArn": {"Ref": "TopicShopAlerts"},
        "Protocol": "sqs",
        "Endpoint": {"Fn::GetAtt": ["QueueShopAlertsCopy", "Arn"]},
        "RawMessageDelivery": True,
    }
    # The subscribed queue lets only that topic send to it.
    statement = resources["QueueShopAlertsCopyPolicy"]["Properties"]["PolicyDocument"]["Statement"][
        0
    ]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": [{"Ref": "TopicShopAlerts"}]}}
    assert resources["BusShopBus"]["Properties"] == {"Name": "shop-bus"}
    assert resources["StreamShopClicks"] == {
        "Type": "AWS::Kinesis::Stream",
        "Properties": {
            "Name": "shop-clicks",
            "ShardCount": 2,
            "RetentionPeriodHours": 48,
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        },
    }
    click = resources["OnClick"]["Properties"]["Events"]["OnClickEvent4"]
    assert click["Type"] == "Kinesis"
    assert click["Properties"]["Stream"] == {"Fn::GetAtt": ["StreamShopClicks", "Arn"]}


def test_a_public_website_bucket_gets_block_public_access_off_and_a_get_object_policy(
    copy_app: Callable[[str], Path],
) -> None:
    template = _template(copy_app("resources"))
    site = template["Resources"]["BucketShopSite"]["Properties"]
    assert site["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    assert site["CorsConfiguration"] == {
        "CorsRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "MaxAge": 300}]
    }
    policy = template["Resources"]["BucketShopSitePolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "BucketShopSite"}
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "PublicReadGetObject",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::shop-site/*",
        }
    ]
    # The private bucket gets neither.
    assert "BucketShopAuditPolicy" not in template["Resources"]
    assert (
        "PublicAccessBlockConfiguration"
        not in template["Resources"]["BucketShopAudit"]["Properties"]
    )
    assert template["Outputs"]["BucketShopSiteWebsiteURL"] == {
        "Value": {"Fn::GetAtt": ["BucketShopSite", "WebsiteURL"]}
    }


def test_websocket_api_is_an_apigatewayv2_websocket_api_with_one_route_per_handler(
    copy_app: Callable[[str], Path],
) -> None:
    template = _template(copy_app("websocket"))
    resources = template["Resources"]
    api = resources["WebsocketAPI"]
    assert api["Type"] == "AWS::ApiGatewayV2::Api"
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = {
        r["Properties"]["RouteKey"]: name
        for name, r in resources.items()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }
    assert routes == {
        "$connect": "WebsocketConnectRoute",
        "$default": "WebsocketMessageRoute",
        "$disconnect": "WebsocketDisconnectRoute",
    }
    assert resources["WebsocketConnect"]["Properties"]["Handler"] == "app.connect"
    assert resources["WebsocketAPIStage"]["Properties"]["StageName"] == "api"
    permission = resources["WebsocketMessageInvokePermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    statement = resources["WebsocketAPIManageConnections"]["Properties"]["PolicyDocument"][
        "Statement"
    ][0]
    assert statement["Action"] == ["execute-api:ManageConnections"]
    template_text, values = statement["Resource"]["Fn::Sub"]
    assert template_text.endswith(":${ApiId}/api/*/@connections/*")
    assert values == {"ApiId": {"Ref": "WebsocketAPI"}}
    assert "WebsocketConnectEndpointURL" in template["Outputs"]


def test_websocket_app_without_the_opt_in_is_refused_with_chalices_message(
    copy_app: Callable[[str], Path],
) -> None:
    project = copy_app("websocket")
    app_py = project / "app.py"
    app_py.write_text(
        app_py.read_text().replace('app.experimental_feature_flags.update(["WEBSOCKETS"])\n', "")
    )
    with pytest.raises(ConfigError, match=r"experimental_feature_flags\.update"):
        _template(project)
