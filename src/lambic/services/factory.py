"""Building the local services: one object per service, wired to each other.

`create_services(state_dir)` creates the seven services, each persisting under
`state_dir` (`<name>.sqlite3`, plus `s3-blobs/`) or in memory when `state_dir` is
None, and wires the cross-service hook (SNS delivers to SQS through the SQS engine
object). It returns a `ServiceSet`: one typed attribute per service, None for one not
asked for. `lambic services`, `lambic local` and the tests build their services here,
so they all get the same wiring; the edge's name -> service table is
`ServiceSet.by_name()`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lambic.services._deferred import DeferredServices
from lambic.services.base import Service, ServiceError

if TYPE_CHECKING:
    from lambic.project.identities import Identities
    from lambic.project.metering import Meter
    from lambic.project.sqlite import Durability
    from lambic.services.dynamodb import DynamoDBService
    from lambic.services.events import EventsService
    from lambic.services.kinesis import KinesisService
    from lambic.services.s3 import S3Service
    from lambic.services.sns import SnsService
    from lambic.services.sqs import SqsService
    from lambic.services.sts import StsService

# The order services are created in: SQS before SNS, which delivers into it.
SERVICE_NAMES = ("s3", "dynamodb", "sqs", "sns", "events", "sts", "kinesis")


@dataclass(frozen=True)
class ServiceSet:
    """The local services of one state directory; None for a service not built.

    >>> services = create_services(None, names=["s3"])
    >>> services.s3.engine.create_bucket("photos")
    True
    >>> sorted(services.by_name())
    ['s3']
    """

    s3: S3Service | None = None
    dynamodb: DynamoDBService | None = None
    sqs: SqsService | None = None
    sns: SnsService | None = None
    events: EventsService | None = None
    sts: StsService | None = None
    kinesis: KinesisService | None = None

    def by_name(self) -> dict[str, Service]:
        """The services built, by their edge name, in creation order (for dispatch)."""
        built: tuple[Service | None, ...] = (
            self.s3,
            self.dynamodb,
            self.sqs,
            self.sns,
            self.events,
            self.sts,
            self.kinesis,
        )
        return {service.name: service for service in built if service is not None}

    def close(self) -> None:
        """Close every service built (their databases; the bus keeps no state)."""
        for service in self.by_name().values():
            service.close()


def available_services() -> list[str]:
    """The services this build offers, in creation order."""
    return list(SERVICE_NAMES)


def create_services(
    state_dir: Path | None,
    *,
    names: Iterable[str] | None = None,
    durability: Durability = "normal",
    meter: Meter | None = None,
    identities: Identities | None = None,
) -> ServiceSet:
    """Create the named services (default: all) and wire them together; with a `meter`
    (`lambic.project.metering.create_meter`) each counts what AWS would bill; with
    `identities` (`lambic.project.identities`) S3 and STS know more than one account.

    >>> sorted(create_services(None, names=["sqs", "sns"]).by_name())
    ['sns', 'sqs']
    """
    # Imported here: `create_deferred_services` imports each only when it is built.
    from lambic.services import dynamodb, events, kinesis, s3, sns, sqs, sts

    wanted = set(names) if names is not None else set(SERVICE_NAMES)
    unknown = sorted(wanted - set(SERVICE_NAMES))
    if unknown:
        raise ServiceError(
            f"Unknown service {unknown[0]!r}; choose from {', '.join(SERVICE_NAMES)}"
        )
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
    d, m = durability, meter
    queues = sqs.create_service(state_dir, durability=d, meter=m) if "sqs" in wanted else None
    return ServiceSet(
        s3=(
            s3.create_service(state_dir, durability=d, meter=m, identities=identities)
            if "s3" in wanted
            else None
        ),
        dynamodb=(
            dynamodb.create_service(state_dir, durability=d, meter=m)
            if "dynamodb" in wanted
            else None
        ),
        sqs=queues,
        # docs/internals.md §2.1: SNS delivers to SQS subscribers through this engine.
        sns=(
            sns.create_service(state_dir, sqs=queues, durability=d, meter=m)
            if "sns" in wanted
            else None
        ),
        events=events.create_service(state_dir, meter=meter) if "events" in wanted else None,
        sts=(
            sts.create_service(state_dir, durability=d, identities=identities)
            if "sts" in wanted
            else None
        ),
        kinesis=(
            kinesis.create_service(state_dir, durability=d, meter=m)
            if "kinesis" in wanted
            else None
        ),
    )


def create_deferred_services(
    state_dir: Path | None,
    *,
    durability: Durability = "normal",
    meter: Meter | None = None,
    warm: bool | Collection[str] = True,
    identities: Identities | None = None,
) -> DeferredServices:
    """All the services of `create_services`, each built (imported, its database
    opened) when a request first needs it, and with `warm` the rest after the first
    answer (`services._deferred`): the first answer waits for nothing else. `warm`
    names the services to build then (True: all but Kinesis; False: none).

    A new service registers here as the others do: a builder that imports its package
    inside the function, so that offering it costs the edge nothing until it is used.
    """
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(warm, bool):
        warmed = {name for name in SERVICE_NAMES if name != "kinesis"} if warm else set()
    else:
        warmed = set(warm)
    deferred = DeferredServices(warm=bool(warmed))

    def build_s3() -> Service:
        from lambic.services import s3

        return s3.create_service(
            state_dir, durability=durability, meter=meter, identities=identities
        )

    def build_dynamodb() -> Service:
        from lambic.services import dynamodb

        return dynamodb.create_service(state_dir, durability=durability, meter=meter)

    def build_sqs() -> Service:
        from lambic.services import sqs

        return sqs.create_service(state_dir, durability=durability, meter=meter)

    def build_sns() -> Service:
        from lambic.services import sns
        from lambic.services.sqs import SqsService

        queues = deferred.get("sqs")
        # docs/internals.md §2.1: SNS delivers to SQS subscribers through this engine.
        return sns.create_service(
            state_dir,
            sqs=queues if isinstance(queues, SqsService) else None,
            durability=durability,
            meter=meter,
        )

    def build_events() -> Service:
        from lambic.services import events

        return events.create_service(state_dir, meter=meter)

    def build_sts() -> Service:
        from lambic.services import sts

        return sts.create_service(state_dir, durability=durability, identities=identities)

    def build_kinesis() -> Service:
        from lambic.services import kinesis

        return kinesis.create_service(state_dir, durability=durability, meter=meter)

    builders = {
        "s3": build_s3,
        "dynamodb": build_dynamodb,
        "sqs": build_sqs,
        "sns": build_sns,
        "events": build_events,
        "sts": build_sts,
        "kinesis": build_kinesis,
    }
    for name in SERVICE_NAMES:
        # Kinesis is not warmed by default: few apps use it, and building it (~10 ms of
        # CPU) would land before `lambic local`'s first gateway answer. Its first
        # request, or a Kinesis handler's event source, builds it.
        deferred.add(name, builders[name], warm=name in warmed)
    return deferred
