"""S3 versioning's state machine against a plain model of AWS's rules: random puts,
deletes, version deletes and status changes, then every key's versions, their order,
IsLatest and the current object must match."""

from __future__ import annotations

import random

import pytest

from lambic.services.s3 import create_service
from lambic.services.s3.engine import S3Engine
from lambic.services.s3.errors import S3Error
from lambic.services.s3.store import ObjectAttrs

# The model: key -> versions oldest first, each (version id, body or None for a marker).
Model = dict[str, list[tuple[str, bytes | None]]]


def _put(engine: S3Engine, model: Model, key: str, body: bytes, status: str | None) -> None:
    obj = engine.put_object("bkt", key, body, ObjectAttrs())
    versions = model.setdefault(key, [])
    if status != "Enabled":  # unversioned or Suspended: the write is the null version
        versions[:] = [v for v in versions if v[0] != "null"]
    versions.append((obj.version_id, body))


def _delete(engine: S3Engine, model: Model, key: str, status: str | None) -> None:
    deletion = engine.delete_object("bkt", key)
    versions = model.setdefault(key, [])
    if status is None:
        versions.clear()
        return
    if status == "Suspended":
        versions[:] = [v for v in versions if v[0] != "null"]
    assert deletion.version_id is not None
    versions.append((deletion.version_id, None))


def _check(engine: S3Engine, model: Model) -> None:
    page = engine.list_versions("bkt", max_keys=1000)
    listed = [(v.key, v.version_id, v.delete_marker, latest) for v, latest in page.versions]
    expected = [
        (key, vid, body is None, i == 0)
        for key in sorted(model)
        for i, (vid, body) in enumerate(reversed(model[key]))
    ]
    assert listed == expected
    for key, versions in model.items():
        if versions and versions[-1][1] is not None:
            assert engine.read(engine.head("bkt", key)) == versions[-1][1]
        else:
            with pytest.raises(S3Error):
                engine.head("bkt", key)
        for vid, body in versions:
            if body is not None:
                assert engine.read(engine.head("bkt", key, vid)) == body


@pytest.mark.parametrize("seed", range(4))
def test_random_operations_match_the_model(seed: int) -> None:
    rng = random.Random(seed)
    engine = create_service(None).engine
    engine.create_bucket("bkt")
    model: Model = {}
    status: str | None = None
    for step in range(100):
        key = rng.choice("abc")
        roll = rng.random()
        if roll < 0.08:
            status = rng.choice(["Enabled", "Suspended"])
            engine.put_versioning("bkt", status)
        elif roll < 0.55:
            _put(engine, model, key, f"{step}".encode(), status)
        elif roll < 0.75:
            _delete(engine, model, key, status)
        elif model.get(key):
            index = rng.randrange(len(model[key]))
            vid, _ = model[key].pop(index)
            engine.delete_object("bkt", key, version_id=vid)
        _check(engine, model)
