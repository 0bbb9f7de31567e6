"""The handler's context object."""

from __future__ import annotations

import time

from lambic.runtime.context import LambdaContext


def make(deadline_ms: int, **kwargs: object) -> LambdaContext:
    return LambdaContext(
        aws_request_id="req",
        function_name="app-dev",
        invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:app-dev",
        memory_limit_in_mb=256,
        log_group_name="/aws/lambda/app-dev",
        log_stream_name="2026/01/01/[$LATEST]abc",
        deadline_ms=deadline_ms,
        **kwargs,  # type: ignore[arg-type]
    )


def test_remaining_time_counts_down_to_the_deadline_and_stops_at_zero() -> None:
    now_ms = int(time.time() * 1000)
    assert 2900 <= make(now_ms + 3000).get_remaining_time_in_millis() <= 3000
    assert make(now_ms - 50).get_remaining_time_in_millis() == 0


def test_memory_limit_is_a_string_as_in_the_python_runtime() -> None:
    assert make(0).memory_limit_in_mb == "256"


def test_client_context_exposes_client_custom_and_env() -> None:
    ctx = make(
        0,
        client_context={"client": {"app_title": "t"}, "custom": {"k": 1}, "env": {"e": "v"}},
    )
    assert ctx.client_context is not None
    assert ctx.client_context.client is not None and ctx.client_context.client.app_title == "t"
    assert ctx.client_context.custom == {"k": 1} and ctx.client_context.env == {"e": "v"}
    assert make(0).client_context is None
    assert make(0).identity.cognito_identity_id is None
