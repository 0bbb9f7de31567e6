"""ConsumedCapacity as DynamoDB reports it (ReturnConsumedCapacity TOTAL / INDEXES).

Units follow the documented rules: a write costs one unit per 1 KB (rounded up) of
the larger of the old and new item, a read one unit per 4 KB, halved for eventually
consistent reads; transactions cost double. On-demand tables report the same units.
"""

from __future__ import annotations

import math
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
    return float(max(1, math.ceil(size / 1024)))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


class Capacity:
    """Units consumed by one request against one table (and its indexes)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.table = 0.0
        self.gsis: dict[str, float] = {}
        self.lsis: dict[str, float] = {}

    def add_index(self, name: str, kind: str, units: float) -> None:
        target = self.gsis if kind == "GSI" else self.lsis
        target[name] = target.get(name, 0.0) + units

    def render(self, mode: str) -> dict[str, Any] | None:
        if mode == "NONE":
            return None
        total = self.table + sum(self.gsis.values()) + sum(self.lsis.values())
        result: dict[str, Any] = {"TableName": self.table_name, "CapacityUnits": total}
        if mode == "INDEXES":
            result["Table"] = {"CapacityUnits": self.table}
            if self.gsis:
                result["GlobalSecondaryIndexes"] = {
                    name: {"CapacityUnits": units} for name, units in self.gsis.items()
                }
            if self.lsis:
                result["LocalSecondaryIndexes"] = {
                    name: {"CapacityUnits": units} for name, units in self.lsis.items()
                }
        return result
