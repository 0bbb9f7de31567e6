"""`@app.on_s3_event` handlers: bucket notification rules, fed by the S3 engine.

Data flow: on start, each handler becomes a `CloudFunctionConfiguration` rule (Id
`lambic-<function>`) in its bucket's notification configuration, beside the user's
own rules, validated as PutBucketNotificationConfiguration validates it. On each
committed create/delete the S3 engine calls `_on_object_event` on the edge thread with
the rules that change fires already matched (`ObjectEvent.rules`); each of ours
becomes one S3 event record, `accept()`ed into the durable queue before the PutObject
response is written. Nothing is parsed or read back per object event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambic.app.event_payloads import create_s3_event, create_s3_record
from lambic.runtime.event_sources.base import (
    ListeningSource,
    UnsupportedEventSourceError,
    accept,
    settings,
)
from lambic.services.s3 import NotificationConfiguration, NotificationRule, S3Engine, S3Error

if TYPE_CHECKING:
    from lambic.services.s3 import ObjectEvent

# Rules this runtime writes carry this Id prefix, so a restart replaces its own rules
# and leaves the user's alone.
RULE_ID_PREFIX = "lambic-"
_LAMBDA_RULE = "CloudFunctionConfiguration"


class S3Notifications(ListeningSource[S3Engine]):
    """Keeps this app's notification rules in their buckets and delivers what they fire."""

    async def start(self) -> None:
        rules = self._rules_by_bucket()
        self._remove_stale_rules(set(rules))
        for bucket, ours in rules.items():
            self._install(bucket, ours)
        if rules:
            self._listen(
                self._engine.add_listener, self._engine.remove_listener, self._on_object_event
            )

    def _rules_by_bucket(self) -> dict[str, list[NotificationRule]]:
        by_bucket: dict[str, list[NotificationRule]] = {}
        for function in self._functions:
            source = settings(function)
            arn = self._account.function_arn(function.name)
            self._targets[arn] = function.name
            by_bucket.setdefault(str(source["bucket"]), []).append(
                NotificationRule(
                    kind=_LAMBDA_RULE,
                    id=f"{RULE_ID_PREFIX}{function.name}",
                    target_arn=arn,
                    events=tuple(source.get("events") or ("s3:ObjectCreated:*",)),
                    prefix=str(source.get("prefix") or ""),
                    suffix=str(source.get("suffix") or ""),
                )
            )
        return by_bucket

    def _install(self, bucket: str, ours: list[NotificationRule]) -> None:
        # The handler names its bucket in code; locally we create it if missing (on
        # AWS the deploy would fail instead), so the app runs with no setup.
        try:
            self._engine.create_bucket(bucket)
        except S3Error as exc:
            raise UnsupportedEventSourceError(
                f"@app.on_s3_event names bucket {bucket!r}, which S3 refuses: {exc}"
            ) from exc
        current = self._engine.notification_configuration(bucket)
        kept = [rule for rule in current.rules if not rule.id.startswith(RULE_ID_PREFIX)]
        try:
            self._engine.replace_notification(
                bucket, NotificationConfiguration((*kept, *ours), current.eventbridge)
            )
        except S3Error as exc:
            names = ", ".join(rule.id.removeprefix(RULE_ID_PREFIX) for rule in ours)
            raise UnsupportedEventSourceError(
                f"S3 rejected the notification rules for bucket {bucket!r} ({names}): "
                f"{exc}. Give the handlers prefixes/suffixes that do not overlap."
            ) from exc

    def _remove_stale_rules(self, buckets_in_use: set[str]) -> None:
        """Drop this app's rules from buckets no handler names any more (as a redeploy
        would), so a handler moved to another bucket leaves nothing behind."""
        ours = self._account.function_arn("")
        for bucket in self._engine.list_buckets():
            if bucket.name in buckets_in_use:
                continue
            current = self._engine.notification_configuration(bucket.name)
            kept = tuple(
                rule
                for rule in current.rules
                if not (rule.id.startswith(RULE_ID_PREFIX) and rule.target_arn.startswith(ours))
            )
            if len(kept) != len(current.rules):
                self._engine.replace_notification(
                    bucket.name, NotificationConfiguration(kept, current.eventbridge)
                )

    def _on_object_event(self, event: ObjectEvent) -> None:
        for rule in event.rules:
            function = self._targets.get(rule.target_arn)
            if rule.kind != _LAMBDA_RULE or function is None:
                continue
            record = create_s3_record(
                bucket=event.bucket,
                key=event.key,
                event_name=event.event_name,
                size=event.size,
                etag=event.etag,
                version_id=event.version_id,
                sequencer=event.sequencer,
                region=self._account.region,
                source_ip=event.source_ip,
                request_id=event.request_id or None,
                configuration_id=rule.id,
            )
            accept(self._queue, function, create_s3_event([record]), source="s3")
