from __future__ import annotations

from lambic.deploy.planner import DesiredResource, Planner
from lambic.deploy.records import DeployedRecord, DeployedResource


def _desired(key: str, kind: str, **parts: str) -> DesiredResource:
    return DesiredResource(key, kind, tuple(parts.items()), spec=None)


def _record(*resources: tuple[str, str, dict[str, str]]) -> DeployedRecord:
    record = DeployedRecord("app", "dev", "us-east-1", "123456789012")
    for key, kind, parts in resources:
        record.resources[key] = DeployedResource(key, kind, parts, {})
    return record


def test_first_deploy_creates_in_dependency_order() -> None:
    desired = [
        _desired("schedule:tick", "binding", settings="s"),
        _desired("api", "rest_api", definition="d"),
        _desired("function:tick", "function", code="c"),
        _desired("role", "role", policy="p"),
    ]
    plan = Planner().plan(desired, None)
    assert [(s.action, s.key) for s in plan.steps] == [
        ("create", "role"),
        ("create", "function:tick"),
        ("create", "api"),
        ("create", "schedule:tick"),
    ]


def test_unchanged_hashes_give_an_empty_plan() -> None:
    record = _record(("role", "role", {"policy": "p"}), ("function:a", "function", {"code": "c"}))
    plan = Planner().plan(
        [_desired("role", "role", policy="p"), _desired("function:a", "function", code="c")], record
    )
    assert plan.is_empty
    assert plan.describe() == []


def test_only_changed_parts_are_updated() -> None:
    record = _record(("function:a", "function", {"code": "c1", "config": "x", "tags": "t"}))
    plan = Planner().plan(
        [_desired("function:a", "function", code="c1", config="y", tags="t")], record
    )
    [step] = plan.steps
    assert (step.action, step.changed) == ("update", frozenset({"config"}))
    assert plan.describe() == ["update function:a (config)"]


def test_removed_resources_are_deleted_dependents_first() -> None:
    record = _record(
        ("role", "role", {}),
        ("function:a", "function", {}),
        ("function:b", "function", {}),
        ("sqs:b", "binding", {}),
    )
    plan = Planner().plan([_desired("role", "role"), _desired("function:a", "function")], record)
    assert [(s.action, s.key) for s in plan.steps] == [
        ("delete", "sqs:b"),
        ("delete", "function:b"),
    ]


def test_a_resource_that_changed_kind_is_deleted_before_it_is_recreated() -> None:
    record = _record(("api", "rest_api", {"definition": "d"}))
    plan = Planner().plan([_desired("api", "http_api", routes="r")], record)
    assert [(s.action, s.kind) for s in plan.steps] == [
        ("delete", "rest_api"),
        ("create", "http_api"),
    ]


def _stage_with_data() -> DeployedRecord:
    return _record(
        ("role", "role", {}),
        ("table:t", "table", {}),
        ("bucket:b", "bucket", {}),
        ("function:a", "function", {}),
        ("api", "rest_api", {}),
        ("s3:a", "binding", {}),
    )


def test_delete_plan_with_data_removes_everything_in_reverse() -> None:
    plan = Planner().plan_delete(_stage_with_data(), include_data=True)
    keys = [s.key for s in plan.steps]
    assert keys[:3] == ["s3:a", "api", "function:a"]
    assert set(keys[3:]) == {"role", "table:t", "bucket:b"}
    assert plan.kept == ()
    # Only the stateful steps carry "data": the executor empties a bucket only then.
    assert {s.key for s in plan.steps if s.changed == {"data"}} == {"table:t", "bucket:b"}


def test_delete_plan_keeps_tables_and_buckets_by_default() -> None:
    plan = Planner().plan_delete(_stage_with_data())
    assert [s.key for s in plan.steps] == ["s3:a", "api", "function:a", "role"]
    assert plan.kept == ("table:t", "bucket:b")


def test_a_deploy_keeps_tables_buckets_and_queues_dropped_from_the_config() -> None:
    record = _record(
        ("table:t", "table", {}),
        ("bucket:b", "bucket", {}),
        ("queue:q", "queue", {}),
        ("topic:n", "topic", {}),
        ("s3:a", "binding", {}),
    )
    plan = Planner().plan([], record)
    # Stateless ones go; data stays until `lambic delete --include-data`.
    assert [(s.action, s.key) for s in plan.steps] == [("delete", "s3:a"), ("delete", "topic:n")]
    assert plan.kept == ("table:t", "bucket:b", "queue:q")
