from __future__ import annotations

from pathlib import Path

import pytest

import lambic.services as services_package
from lambic.services import ServiceError, available_services, create_services


def test_creates_every_available_service_in_memory() -> None:
    built = create_services(None)
    try:
        assert list(built) == available_services()
        assert "s3" in built
        for name, service in built.items():
            assert service.name == name
    finally:
        for service in built.values():
            service.close()


def test_persists_each_service_under_the_state_directory(tmp_path: Path) -> None:
    built = create_services(tmp_path / "state", names=["s3"])
    built["s3"].close()
    assert (tmp_path / "state" / "s3.sqlite3").exists()
    assert (tmp_path / "state" / "s3-blobs").is_dir()


def test_unknown_service_name_is_refused_with_the_choices() -> None:
    with pytest.raises(ServiceError, match="choose from s3"):
        create_services(None, names=["s4"])


def test_facade_all_matches_what_it_exports() -> None:
    for name in services_package.__all__:
        assert getattr(services_package, name) is not None
    with pytest.raises(AttributeError):
        _ = services_package.not_a_thing  # type: ignore[attr-defined]
