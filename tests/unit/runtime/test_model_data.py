"""The zygote's botocore data loader (`_model_data`): the same data as botocore's but a
service model's prose, in plain dicts, and clients built from it work end to end."""

from __future__ import annotations

import copy
import marshal
import pydoc
from collections import OrderedDict
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.loaders import Loader
from botocore.regions import EndpointResolver

from lambic.pytest_plugin import ServicesEndpoint
from lambic.runtime import _model_data

#: botocore's endpoint data, as installed.
ENDPOINTS_JSON = str(Path(botocore.__file__).parent / "data" / "endpoints.json")


def _types(data: Any) -> set[type]:
    """Every container type in `data`."""
    if isinstance(data, dict):
        return {type(data)}.union(*(_types(v) for v in data.values()))
    if isinstance(data, list):
        return {list}.union(*(_types(v) for v in data))
    return set()


def _without_prose(model: dict[str, Any]) -> dict[str, Any]:
    """`model` with every "documentation" outside clientContextParams and the
    service's own replaced by the note."""
    stripped = copy.deepcopy(model)

    def walk(node: Any, keep: bool) -> None:
        if isinstance(node, dict):
            if "documentation" in node and not keep:
                node["documentation"] = _model_data.PROSE_LEFT_OUT
            for key, value in node.items():
                walk(value, keep or key == "clientContextParams")
        elif isinstance(node, list):
            for value in node:
                walk(value, False)

    for key, value in stripped.items():
        walk(value, key == "clientContextParams")
    return stripped


@pytest.fixture
def loaders() -> tuple[Any, Any]:
    """botocore's loader and one reading through `_model_data` (with boto3's data
    directory, as a boto3 session's loader has)."""
    boto3_data = [str(Path(boto3.__file__).parent / "data")]
    compact = Loader(extra_search_paths=boto3_data)
    _model_data.install(compact)
    return Loader(extra_search_paths=boto3_data), compact


@pytest.mark.parametrize(
    ("name", "kind"),
    [("s3", "service-2"), ("dynamodb", "service-2"), ("sqs", "service-2")],
)
def test_a_service_model_is_botocores_without_its_prose(
    loaders: tuple[Any, Any], name: str, kind: str
) -> None:
    theirs, ours = (loader.load_service_model(name, kind) for loader in loaders)
    assert ours == _without_prose(theirs)
    assert _types(ours) <= {dict, list}
    assert OrderedDict in _types(theirs)  # what the plain dicts replace
    # What botocore reads by index stays: a service's client context parameters.
    assert all(
        "documentation" in p and p["documentation"] != _model_data.PROSE_LEFT_OUT
        for p in ours.get("clientContextParams", {}).values()
    )
    assert set(ours["operations"]) == set(theirs["operations"])


@pytest.mark.parametrize(
    "load",
    [
        lambda loader: loader.load_data("partitions"),
        lambda loader: loader.load_service_model("s3", "endpoint-rule-set-1"),
        lambda loader: loader.load_service_model("dynamodb", "resources-1"),
        lambda loader: loader.load_service_model("dynamodb", "waiters-2"),
        lambda loader: loader.load_service_model("s3", "paginators-1"),
    ],
    ids=["partitions", "rule set", "resources", "waiters", "paginators"],
)
def test_other_files_are_botocores_in_plain_dicts(loaders: tuple[Any, Any], load: Any) -> None:
    theirs, ours = (load(loader) for loader in loaders)
    assert ours == theirs
    assert _types(ours) <= {dict, list}


def test_the_endpoint_data_resolves_as_botocores(loaders: tuple[Any, Any]) -> None:
    """Every service of every partition: its regions, its endpoint in two regions
    (with FIPS too), its data, through botocore's resolver over either data."""
    theirs, ours = (EndpointResolver(loader.load_data("endpoints")) for loader in loaders)
    assert ours._endpoint_data == theirs._endpoint_data
    for partition in theirs._endpoint_data["partitions"]:
        name = partition["partition"]
        regions = list(partition["regions"])[:2]
        packed = next(p for p in ours._endpoint_data["partitions"] if p["partition"] == name)
        assert isinstance(packed["services"], _model_data.PackedServices)
        for service in partition["services"]:
            assert ours.get_available_endpoints(service, name) == theirs.get_available_endpoints(
                service, name
            )
            assert ours.get_service_endpoints_data(
                service, name
            ) == theirs.get_service_endpoints_data(service, name)
            for region in regions:
                for fips in (False, True):
                    assert _resolved(ours, service, region, fips) == _resolved(
                        theirs, service, region, fips
                    ), (service, region, fips)
        assert "no-such-service" not in packed["services"]
        assert ours.construct_endpoint("no-such-service", regions[0]) == theirs.construct_endpoint(
            "no-such-service", regions[0]
        )


def _resolved(resolver: EndpointResolver, service: str, region: str, fips: bool) -> Any:
    try:
        return resolver.construct_endpoint(service, region, use_fips_endpoint=fips)
    except botocore.exceptions.EndpointVariantError as error:
        return str(error)


def test_a_service_entry_is_unpacked_once() -> None:
    """botocore writes into the entries it resolves: a second read sees the same dict."""
    services = _model_data.PackedServices({"s3": marshal.dumps({"endpoints": {}})})
    assert services["s3"] is services["s3"]
    assert "s3" in services and "sqs" not in services and len(services) == 1
    assert services.get("sqs") is None and list(services) == ["s3"]


def test_the_fork_packs_what_this_process_would() -> None:
    in_fork = _model_data._pack_in_fork(ENDPOINTS_JSON, open)
    assert in_fork is not None
    assert marshal.loads(in_fork) == marshal.loads(_model_data._pack(ENDPOINTS_JSON, open))


def test_packing_stays_in_this_process_when_it_cannot_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_fork() -> int:
        raise OSError("fork refused")

    monkeypatch.setattr(_model_data.threading, "active_count", lambda: 1)
    monkeypatch.setattr(_model_data.os, "fork", no_fork)
    data = _model_data.packed_endpoints(ENDPOINTS_JSON)
    aws = data["partitions"][0]
    assert isinstance(aws["services"], _model_data.PackedServices)
    assert "us-east-1" in aws["services"]["dynamodb"]["endpoints"]


def test_a_missing_file_is_missing(loaders: tuple[Any, Any]) -> None:
    assert _model_data.CompactFileLoader().load_file("/nonexistent/service-2") is None
    with pytest.raises(botocore.exceptions.UnknownServiceError):
        loaders[1].load_service_model("no-such-service", "service-2")


def test_clients_from_the_compact_data_call_the_services(lambic_services: ServicesEndpoint) -> None:
    """What an environment's code does with the zygote's session: S3 (client context
    parameters, checksums, a paginator) and DynamoDB (a resource, a waiter), against
    real local services."""
    core = botocore.session.get_session()
    _model_data.install(core.get_component("data_loader"))
    session = boto3.session.Session(botocore_session=core, region_name=lambic_services.region)
    s3 = session.client("s3", endpoint_url=lambic_services.url)
    s3.create_bucket(Bucket="compact")
    s3.put_object(Bucket="compact", Key="a/1", Body=b"one", ChecksumAlgorithm="SHA256")
    assert s3.get_object(Bucket="compact", Key="a/1")["Body"].read() == b"one"
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="compact", Prefix="a/")
    assert [o["Key"] for page in pages for o in page.get("Contents", [])] == ["a/1"]
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="compact", Key="missing")

    dynamodb = session.resource("dynamodb", endpoint_url=lambic_services.url)
    table = dynamodb.create_table(
        TableName="compact",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    table.put_item(Item={"pk": "k", "n": 1})
    assert table.get_item(Key={"pk": "k"})["Item"] == {"pk": "k", "n": 1}

    # The prose is what goes: help() says so where it was (S3's auto-populated
    # checksum parameters included, whose hooks write into their documentation).
    for method in (s3.get_object, s3.put_object, table.put_item):
        shown = pydoc.render_doc(method)
        assert "lambic local" in shown and "Retrieves an object" not in shown
    full = boto3.client("s3", region_name="us-east-1")
    assert "Retrieves an object" in pydoc.render_doc(full.get_object)
