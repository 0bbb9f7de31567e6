"""`@app.on_sns_message` handlers: lambda subscriptions on local SNS topics.

Data flow: on start, each handler's topic is created if missing and subscribed with
the function's ARN (protocol `lambda`); this app's subscriptions app.py no longer
declares are removed, as a redeploy removes them, while an existing one is kept as it
is (a FilterPolicy set on it survives restarts). On Publish the SNS engine applies
filter policies and calls `_on_delivery` with the Lambda `Records` event, which is
`accept()`ed into the durable queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambic.project.manifest import FunctionEntry
from lambic.runtime.event_sources.base import (
    ListeningSource,
    UnsupportedEventSourceError,
    accept,
    settings,
)
from lambic.services.sns import SnsEngine, SnsError

if TYPE_CHECKING:
    from lambic.services.sns.model import LambdaDelivery


class SnsSubscriptions(ListeningSource[SnsEngine]):
    """Keeps this app's lambda subscriptions and delivers their notifications."""

    async def start(self) -> None:
        wanted = {self._account.function_arn(f.name): self._topic_arn(f) for f in self._functions}
        self._targets = {self._account.function_arn(f.name): f.name for f in self._functions}
        prefix = self._account.function_arn("")
        for subscription in self._engine.list_subscriptions():
            endpoint = subscription.endpoint
            if subscription.protocol != "lambda" or not endpoint.startswith(prefix):
                continue
            if wanted.get(endpoint) != subscription.topic_arn:
                self._engine.unsubscribe(subscription.arn)
        for arn, topic_arn in wanted.items():
            self._engine.subscribe(topic_arn, "lambda", arn)
        if wanted:
            self._listen(
                self._engine.add_lambda_listener,
                self._engine.remove_lambda_listener,
                self._on_delivery,
            )

    def _topic_arn(self, function: FunctionEntry) -> str:
        topic = str(settings(function)["topic"])
        # A handler names its topic by name or ARN; the deployer creates a topic given
        # by name, and locally we create it either way so the app runs.
        name = topic.rsplit(":", 1)[-1] if topic.startswith("arn:") else topic
        try:
            return self._engine.create_topic(name).arn
        except SnsError as exc:
            raise UnsupportedEventSourceError(
                f"@app.on_sns_message names topic {topic!r}, which SNS refuses: {exc}"
            ) from exc

    def _on_delivery(self, delivery: LambdaDelivery) -> None:
        function = self._targets.get(delivery.function_arn)
        if function is not None:
            accept(self._queue, function, delivery.event, source="sns")
