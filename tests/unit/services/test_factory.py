from __future__ import annotations

from pathlib import Path

import pytest

import lambic.services as services_package
from lambic.services import ServiceError, ServiceSet, available_services, create_services
from lambic.services.s3 import S3Service
from lambic.services.sqs import SqsService


def test_creates_every_available_service_in_memory() -> None:
    built = create_services(None)
    try:
        by_name = built.by_name()
        assert list(by_name) == available_services()
        assert isinstance(built.s3, S3Service)
        for name, service in by_name.items():
            assert service.name == name
    finally:
        built.close()


def test_names_select_the_services_built_and_leave_the_rest_none() -> None:
    built = create_services(None, names=["sqs"])
    try:
        assert isinstance(built.sqs, SqsService)
        assert (built.s3, built.dynamodb, built.sns, built.events) == (None, None, None, None)
        assert list(built.by_name()) == ["sqs"]
    finally:
        built.close()


def test_sns_delivers_into_the_sqs_engine_built_beside_it() -> None:
    built = create_services(None, names=["sqs", "sns"])
    try:
        assert built.sqs is not None and built.sns is not None
        built.sqs.engine.create_queue("inbox")
        topic = built.sns.engine.create_topic("news")
        built.sns.engine.subscribe(topic.arn, "sqs", built.sqs.engine.queue_arn("inbox"))
        built.sns.engine.publish(topic.arn, "hello")
        attributes = built.sqs.engine.get_queue_attributes("inbox")
        assert attributes["ApproximateNumberOfMessages"] == "1"
    finally:
        built.close()


def test_persists_each_service_under_the_state_directory(tmp_path: Path) -> None:
    built = create_services(tmp_path / "state", names=["s3"], durability="full")
    built.close()
    assert (tmp_path / "state" / "s3.sqlite3").exists()
    assert (tmp_path / "state" / "s3-blobs").is_dir()


def test_unknown_service_name_is_refused_with_the_choices() -> None:
    with pytest.raises(ServiceError, match="choose from s3"):
        create_services(None, names=["s4"])


def test_an_empty_service_set_serves_nothing() -> None:
    assert ServiceSet().by_name() == {}


def test_facade_all_matches_what_it_exports() -> None:
    for name in services_package.__all__:
        assert getattr(services_package, name) is not None
    with pytest.raises(AttributeError):
        _ = services_package.not_a_thing  # type: ignore[attr-defined]
