"""The MTA's Mercury extensions to GTFS-realtime, declared at run time for protobuf parsing.

`gtfs-realtime-bindings` ships the standard messages only. The MTA's alerts feed puts
each alert's type in an extension (field 1001 of `transit_realtime.Alert`, message
`MercuryAlert`, as in OneBusAway's gtfs-realtime-service-status.proto); without the
declaration protobuf keeps it as unknown bytes. Declaring it here, in the same
descriptor pool as the bindings, avoids shipping generated code. We declare the
fields we read as optional, so a feed that leaves one out still parses.
"""

from __future__ import annotations

from typing import Any


class ProtobufUnavailableError(RuntimeError):
    """The protobuf feed format needs the gtfs-realtime-bindings package."""


_EXTENSION: Any = None


def _declare() -> Any:
    global _EXTENSION
    if _EXTENSION is not None:
        return _EXTENSION
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool
        from google.transit import gtfs_realtime_pb2
    except ImportError as exc:
        raise ProtobufUnavailableError(
            "FEED_FORMAT=gtfs-protobuf needs gtfs-realtime-bindings; add it to requirements.txt "
            "and pip install it, or use FEED_FORMAT=gtfs-json"
        ) from exc
    pool = descriptor_pool.Default()
    try:
        extension = pool.FindExtensionByName("transit_realtime.mercury_alert")
    except KeyError:
        fdp = descriptor_pb2.FileDescriptorProto(
            name="trainstatus/mercury_alert.proto",
            package="transit_realtime",
            syntax="proto2",
            dependency=[gtfs_realtime_pb2.DESCRIPTOR.name],
        )
        field = descriptor_pb2.FieldDescriptorProto
        message = fdp.message_type.add(name="MercuryAlert")
        for name, number, kind in (
            ("created_at", 1, field.TYPE_UINT64),
            ("updated_at", 2, field.TYPE_UINT64),
            ("alert_type", 3, field.TYPE_STRING),
            ("display_before_active", 7, field.TYPE_UINT64),
        ):
            message.field.add(name=name, number=number, type=kind, label=field.LABEL_OPTIONAL)
        fdp.extension.add(
            name="mercury_alert",
            number=1001,
            type=field.TYPE_MESSAGE,
            label=field.LABEL_OPTIONAL,
            type_name=".transit_realtime.MercuryAlert",
            extendee=".transit_realtime.Alert",
        )
        pool.Add(fdp)
        extension = pool.FindExtensionByName("transit_realtime.mercury_alert")
    _EXTENSION = extension
    return extension


def parse_feed_message(raw: bytes) -> Any:
    """Parse a `FeedMessage`, with Mercury alert extensions decoded."""
    _declare()
    from google.transit import gtfs_realtime_pb2

    message = gtfs_realtime_pb2.FeedMessage()
    message.ParseFromString(raw)
    return message


def _mercury(alert: Any) -> Any:
    extension = _declare()
    return alert.Extensions[extension] if alert.HasExtension(extension) else None


def alert_type(alert: Any) -> str:
    mercury = _mercury(alert)
    return str(mercury.alert_type) if mercury is not None else ""


def updated_at(alert: Any) -> int:
    mercury = _mercury(alert)
    return int(mercury.updated_at) if mercury is not None else 0
