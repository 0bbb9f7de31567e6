"""ConsumedCapacity as DynamoDB reports it (ReturnConsumedCapacity TOTAL / INDEXES).

Units follow the documented rules: a write costs one unit per 1 KB (rounded up) of
the larger of the old and new item, a read one unit per 4 KB, halved for eventually
consistent reads; transactions cost double. On-demand tables report the same units.
"""

from __future__ import annotations

from typing import Any

from lambic.services.dynamodb.errors import ValidationError

_MODES = frozenset({"TOTAL", "INDEXES", "NONE"})


def capacity_mode(request: dict[str, Any]) -> str:
    mode = request.get("ReturnConsumedCapacity", "NONE")
    if mode not in _MODES:
        raise ValidationError(
            f"1 validation error detected: Value '{mode}' at 'returnConsumedCapacity' failed to "
            "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
        )
    return str(mode)


def write_units(size: int) -> float:
    return float((size + 1023) // 1024 or 1)  # per started 1 KB, at least one


def read_units(size: int, consistent: bool) -> float:
    units = (size + 4095) // 4096 or 1  # per started 4 KB, at least one
    return float(units) if consistent else units / 2


class Capacity:
    """Units consumed by one request against one table (and its indexes).

    Built for every metered request (the meter asks for TOTAL when the client did
    not), so it is kept cheap: slots, and index totals created by the first index.
    """

    __slots__ = ("gsis", "lsis", "table", "table_name")

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.table = 0.0
        self.gsis: dict[str, float] | None = None
        self.lsis: dict[str, float] | None = None

    def add_index(self, name: str, kind: str, units: float) -> None:
        if kind == "GSI":
            if self.gsis is None:
                self.gsis = {}
            target = self.gsis
        else:
            if self.lsis is None:
                self.lsis = {}
            target = self.lsis
        target[name] = target.get(name, 0.0) + units

    def render(self, mode: str) -> dict[str, Any] | None:
        if mode == "NONE":
            return None
        gsis, lsis = self.gsis, self.lsis
        total = self.table
        if gsis:
            total += sum(gsis.values())
        if lsis:
            total += sum(lsis.values())
        result: dict[str, Any] = {"TableName": self.table_name, "CapacityUnits": total}
        if mode == "INDEXES":
            result["Table"] = {"CapacityUnits": self.table}
            if gsis:
                result["GlobalSecondaryIndexes"] = {
                    name: {"CapacityUnits": units} for name, units in gsis.items()
                }
            if lsis:
                result["LocalSecondaryIndexes"] = {
                    name: {"CapacityUnits": units} for name, units in lsis.items()
                }
        return result
