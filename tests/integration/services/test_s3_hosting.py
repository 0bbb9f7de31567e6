"""Browser GETs, bucket policies, virtual-host addressing and notification configurations."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambic.services.s3 import create_service
from lambic.services.server import EdgeServer


@pytest.fixture
def edge(start_edge: Any) -> EdgeServer:
    server: EdgeServer = start_edge({"s3": create_service(None)})
    return server


# What a public website bucket gets (see lambic.project.resources.public_read_policy),
# plus s3:ListBucket so a missing key answers 404 rather than S3's 403.
PUBLIC_SITE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::site/*",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["s3:ListBucket"],
            "Resource": "arn:aws:s3:::site",
        },
    ],
}


@pytest.fixture
def s3(edge: EdgeServer, make_client: Any) -> Iterator[Any]:
    client = make_client("s3", edge.url)
    client.create_bucket(Bucket="site")
    client.put_bucket_policy(Bucket="site", Policy=json.dumps(PUBLIC_SITE))
    yield client
    client.close()


def test_unsigned_reads_of_a_bucket_without_a_public_policy_get_403_access_denied(
    edge: EdgeServer, s3: Any
) -> None:
    s3.create_bucket(Bucket="private")
    s3.put_object(Bucket="private", Key="index.html", Body=b"secret", ContentType="text/html")
    for path in ("/private/index.html", "/private/", "/private/missing", "/private?list-type=2"):
        status, headers, body = _get(edge, path)
        assert status == 403, path
        assert headers["content-type"] == "application/xml"
        assert b"<Code>AccessDenied</Code>" in body and b"<Message>Access Denied</Message>" in body
    # Signed requests are not affected, and a bucket that does not exist says so first.
    assert s3.get_object(Bucket="private", Key="index.html")["Body"].read() == b"secret"
    assert b"<Code>NoSuchBucket</Code>" in _get(edge, "/nowhere/index.html")[2]


def test_a_get_object_only_policy_serves_objects_but_hides_missing_keys_with_403(
    edge: EdgeServer, s3: Any
) -> None:
    s3.create_bucket(Bucket="www")
    policy = {**PUBLIC_SITE, "Statement": [dict(PUBLIC_SITE["Statement"][0])]}
    policy["Statement"][0]["Resource"] = "arn:aws:s3:::www/*"
    s3.put_bucket_policy(Bucket="www", Policy=json.dumps(policy))
    s3.put_object(Bucket="www", Key="index.html", Body=b"home", ContentType="text/html")
    assert _get(edge, "/www/")[:1] == (200,) and _get(edge, "/www/")[2] == b"home"
    status, _, body = _get(edge, "/www/missing.html")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert json.loads(s3.get_bucket_policy(Bucket="www")["Policy"]) == policy
    s3.delete_bucket_policy(Bucket="www")
    assert _get(edge, "/www/index.html")[0] == 403
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket="www")
    assert exc.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


def test_a_malformed_policy_is_refused_with_malformed_policy(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket="site", Policy="not json")
    assert exc.value.response["Error"]["Code"] == "MalformedPolicy"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_reading_an_old_version_unsigned_needs_get_object_version(
    edge: EdgeServer, s3: Any
) -> None:
    s3.put_bucket_versioning(Bucket="site", VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket="site", Key="page.html", Body=b"old")["VersionId"]
    s3.put_object(Bucket="site", Key="page.html", Body=b"new")
    assert _get(edge, "/site/page.html")[2] == b"new"
    status, _, body = _get(edge, f"/site/page.html?versionId={old}")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body  # s3:GetObject only

    versions = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObjectVersion",
        "Resource": "arn:aws:s3:::site/*",
    }
    policy = {**PUBLIC_SITE, "Statement": [*PUBLIC_SITE["Statement"], versions]}
    s3.put_bucket_policy(Bucket="site", Policy=json.dumps(policy))
    assert _get(edge, f"/site/page.html?versionId={old}")[:3:2] == (200, b"old")


def test_a_deny_in_the_stored_policy_closes_what_an_allow_opens(edge: EdgeServer, s3: Any) -> None:
    s3.put_object(Bucket="site", Key="private/a.html", Body=b"secret")
    s3.put_object(Bucket="site", Key="public.html", Body=b"hello")
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::site/private/*"],
    }
    policy = {**PUBLIC_SITE, "Statement": [*PUBLIC_SITE["Statement"], deny]}
    s3.put_bucket_policy(Bucket="site", Policy=json.dumps(policy, indent=2))
    # Returned byte for byte as sent, and evaluated as stored.
    assert s3.get_bucket_policy(Bucket="site")["Policy"] == json.dumps(policy, indent=2)
    assert _get(edge, "/site/public.html")[:3:2] == (200, b"hello")
    assert _get(edge, "/site/private/a.html")[0] == 403


def test_the_public_access_block_governs_public_policies(edge: EdgeServer, s3: Any) -> None:
    s3.put_object(Bucket="site", Key="index.html", Body=b"home")
    assert _get(edge, "/site/index.html")[0] == 200
    s3.put_public_access_block(
        Bucket="site", PublicAccessBlockConfiguration={"RestrictPublicBuckets": True}
    )
    assert _get(edge, "/site/index.html")[0] == 403  # the public policy no longer counts
    assert s3.get_object(Bucket="site", Key="index.html")["Body"].read() == b"home"

    s3.put_public_access_block(
        Bucket="site", PublicAccessBlockConfiguration={"BlockPublicPolicy": True}
    )
    assert _get(edge, "/site/index.html")[0] == 200
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket="site", Policy=json.dumps(PUBLIC_SITE))
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # A policy granting only a named principal is not public.
    named = {**PUBLIC_SITE["Statement"][0], "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}
    s3.put_bucket_policy(Bucket="site", Policy=json.dumps({"Statement": [named]}))
    assert _get(edge, "/site/index.html")[0] == 403


def _get(edge: EdgeServer, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host} if host else {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_browser_get_serves_an_object_with_its_content_type(edge: EdgeServer, s3: Any) -> None:
    s3.put_object(Bucket="site", Key="index.html", Body=b"<h1>hi</h1>", ContentType="text/html")
    status, headers, body = _get(edge, "/site/index.html")
    assert (status, headers["content-type"], body) == (200, "text/html", b"<h1>hi</h1>")
    assert headers["x-amz-request-id"]


def test_bucket_and_folder_paths_serve_index_html_like_a_website_endpoint(
    edge: EdgeServer, s3: Any
) -> None:
    s3.put_object(Bucket="site", Key="index.html", Body=b"root", ContentType="text/html")
    s3.put_object(Bucket="site", Key="docs/index.html", Body=b"docs", ContentType="text/html")
    assert _get(edge, "/site/")[2] == b"root"
    status, headers, _ = _get(edge, "/site")
    assert (status, headers["location"]) == (302, "/site/")
    assert _get(edge, "/site/docs/")[2] == b"docs"
    status, headers, _ = _get(edge, "/site/docs")
    assert (status, headers["location"]) == (302, "/site/docs/")
    status, _, body = _get(edge, "/site/missing.html")
    assert status == 404
    assert b"<Code>NoSuchKey</Code>" in body


def test_virtual_host_style_addresses_the_bucket_from_the_host_header(
    edge: EdgeServer, s3: Any
) -> None:
    s3.put_object(Bucket="site", Key="a/b.txt", Body=b"vhost", ContentType="text/plain")
    for host in (
        f"site.localhost:{edge.port}",
        f"site.s3.localhost:{edge.port}",
        "site.s3.us-east-1.amazonaws.com",
    ):
        status, _, body = _get(edge, "/a/b.txt", host=host)
        assert (status, body) == (200, b"vhost"), host
    status, _, body = _get(edge, "/?list-type=2", host=f"site.localhost:{edge.port}")
    assert status == 200
    assert b"<Key>a/b.txt</Key>" in body


def test_notification_configuration_is_stored_and_returned(s3: Any) -> None:
    config = {
        "LambdaFunctionConfigurations": [
            {
                "Id": "thumbs",
                "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:thumbs",
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {
                    "Key": {
                        "FilterRules": [
                            {"Name": "prefix", "Value": "photos/"},
                            {"Name": "suffix", "Value": ".jpg"},
                        ]
                    }
                },
            }
        ],
        "QueueConfigurations": [
            {
                "QueueArn": "arn:aws:sqs:us-east-1:000000000000:deletes",
                "Events": ["s3:ObjectRemoved:Delete"],
            }
        ],
    }
    s3.put_bucket_notification_configuration(Bucket="site", NotificationConfiguration=config)
    got = s3.get_bucket_notification_configuration(Bucket="site")
    lambdas = got["LambdaFunctionConfigurations"]
    assert lambdas[0]["Id"] == "thumbs"
    assert lambdas[0]["Events"] == ["s3:ObjectCreated:*"]
    assert lambdas[0]["Filter"]["Key"]["FilterRules"] == [
        {"Name": "Prefix", "Value": "photos/"},
        {"Name": "Suffix", "Value": ".jpg"},
    ]
    assert got["QueueConfigurations"][0]["Id"]  # AWS generates an Id when none is given


def test_overlapping_rules_for_the_same_event_are_refused_and_nothing_changes(s3: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    overlapping = {
        "LambdaFunctionConfigurations": [
            {
                "LambdaFunctionArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"}]}},
            },
            {
                "LambdaFunctionArn": arn,
                "Events": ["s3:ObjectCreated:Put"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/raw/"}]}},
            },
        ]
    }
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_notification_configuration(
            Bucket="site", NotificationConfiguration=overlapping
        )
    error = exc.value.response["Error"]
    assert error["Code"] == "InvalidArgument"
    assert error["Message"].startswith("Configuration is ambiguously defined")
    got = s3.get_bucket_notification_configuration(Bucket="site")
    assert "LambdaFunctionConfigurations" not in got
    disjoint = {
        "LambdaFunctionConfigurations": [
            {
                "LambdaFunctionArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}},
            },
            {
                "LambdaFunctionArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".png"}]}},
            },
        ]
    }
    s3.put_bucket_notification_configuration(Bucket="site", NotificationConfiguration=disjoint)
    assert (
        len(s3.get_bucket_notification_configuration(Bucket="site")["LambdaFunctionConfigurations"])
        == 2
    )


def test_unsupported_sub_resources_answer_not_implemented(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_accelerate_configuration(
            Bucket="site", AccelerateConfiguration={"Status": "Enabled"}
        )
    assert exc.value.response["Error"]["Code"] == "NotImplemented"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def _options(edge: EdgeServer, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=5)
    try:
        conn.request("OPTIONS", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def test_cors_rules_answer_preflights_and_decorate_allowed_requests(
    edge: EdgeServer, s3: Any
) -> None:
    preflight = {
        "Origin": "http://localhost:8000",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type",
    }
    status, _ = _options(edge, "/site/upload.bin", preflight)
    assert status == 403  # no CORS configuration yet
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket="site")
    assert exc.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    s3.put_bucket_cors(
        Bucket="site",
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["http://localhost:*"],
                    "AllowedMethods": ["GET", "PUT"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )
    assert s3.get_bucket_cors(Bucket="site")["CORSRules"][0]["MaxAgeSeconds"] == 600
    status, headers = _options(edge, "/site/upload.bin", preflight)
    assert status == 200
    assert headers["access-control-allow-origin"] == "http://localhost:8000"
    assert headers["access-control-allow-methods"] == "GET, PUT"
    assert headers["access-control-max-age"] == "600"
    denied, _ = _options(edge, "/site/x", {**preflight, "Origin": "http://evil.example"})
    assert denied == 403
    s3.put_object(Bucket="site", Key="page.txt", Body=b"hi")
    conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=5)
    conn.request("GET", "/site/page.txt", headers={"Origin": "http://localhost:3000"})
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.getheader("Access-Control-Allow-Origin") == "http://localhost:3000"
    assert response.getheader("Access-Control-Expose-Headers") == "ETag"
    s3.delete_bucket_cors(Bucket="site")
    assert _options(edge, "/site/upload.bin", preflight)[0] == 403


def test_invalid_cors_method_is_invalid_request(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(
            Bucket="site",
            CORSConfiguration={
                "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]
            },
        )
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"


def test_a_request_naming_access_control_request_method_is_matched_on_that_method(
    edge: EdgeServer, s3: Any
) -> None:
    s3.put_bucket_cors(
        Bucket="site",
        CORSConfiguration={
            "CORSRules": [
                {"AllowedOrigins": ["*.example"], "AllowedMethods": ["GET"]},
                {"AllowedOrigins": ["*.put"], "AllowedMethods": ["PUT"]},
            ]
        },
    )

    def put(headers: dict[str, str]) -> tuple[int, str | None, str | None]:
        conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=5)
        conn.request("PUT", "/site/x", body=b"", headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        allow = response.getheader("Access-Control-Allow-Origin")
        return response.status, allow, response.getheader("Access-Control-Allow-Methods")

    # An unsigned PUT to a private bucket is refused either way; the CORS headers
    # follow the rule for the method the request names, else for PUT itself.
    named_get = {"Origin": "a.example", "Access-Control-Request-Method": "GET"}
    assert put(named_get) == (403, "a.example", "GET")
    assert put({"Origin": "a.example"}) == (403, None, None)
    assert put({"Origin": "b.put"}) == (403, "b.put", "PUT")
