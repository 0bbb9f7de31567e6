"""Deploy refuses the SQS batching Lambda's CreateEventSourceMapping would refuse."""

from __future__ import annotations

import pytest

from lambic import Lambic
from lambic.deploy.errors import ConfigError
from lambic.deploy.resources import build_bindings


def test_a_batch_over_ten_without_window_is_refused_with_aws_message() -> None:
    app = Lambic("shop")

    @app.on_sqs_message(queue="jobs", batch_size=200)
    def work(event: object) -> None: ...

    with pytest.raises(
        ConfigError,
        match="Maximum batch window in seconds must be greater than 0 if maximum batch size "
        "is greater than 10",
    ):
        build_bindings(app)


def test_the_same_batch_with_a_window_deploys() -> None:
    app = Lambic("shop")

    @app.on_sqs_message(queue="jobs", batch_size=200, maximum_batching_window_in_seconds=1)
    def work(event: object) -> None: ...

    (binding,) = build_bindings(app)
    assert (binding.function, binding.batch_size, binding.batching_window) == ("work", 200, 1)
