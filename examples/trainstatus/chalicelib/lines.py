"""The subway's line groups, the status words, and the site's one rule.

The legacy MTA feed reported eleven line groups; the current GTFS-realtime alerts
feed reports individual routes. Both are mapped onto the eleven groups so the page
and the API look the same whichever feed is configured.
"""

from __future__ import annotations

from dataclasses import dataclass

# In the order the legacy feed listed them, which is the order riders know.
LINE_GROUPS: tuple[str, ...] = (
    "123",
    "456",
    "7",
    "ACE",
    "BDFM",
    "G",
    "JZ",
    "L",
    "NQR",
    "S",
    "SIR",
)

# GTFS route ids to the legacy group that covered them. The shuttles (42 St "GS",
# Franklin Av "FS", Rockaway Park "H") were all reported as "S"; W joined the NQR
# group when it returned in 2016; the Staten Island Railway is "SI" in GTFS.
ROUTE_TO_GROUP: dict[str, str] = {
    "1": "123",
    "2": "123",
    "3": "123",
    "4": "456",
    "5": "456",
    "6": "456",
    "6X": "456",
    "7": "7",
    "7X": "7",
    "A": "ACE",
    "C": "ACE",
    "E": "ACE",
    "B": "BDFM",
    "D": "BDFM",
    "F": "BDFM",
    "FX": "BDFM",
    "M": "BDFM",
    "G": "G",
    "J": "JZ",
    "Z": "JZ",
    "L": "L",
    "N": "NQR",
    "Q": "NQR",
    "R": "NQR",
    "W": "NQR",
    "GS": "S",
    "FS": "S",
    "H": "S",
    "SI": "SIR",
    "SIR": "SIR",
}

GOOD_SERVICE = "GOOD SERVICE"
PLANNED_WORK = "PLANNED WORK"
SERVICE_CHANGE = "SERVICE CHANGE"
DELAYS = "DELAYS"
SUSPENDED = "SUSPENDED"

# Worst wins when several alerts touch one group.
SEVERITY: dict[str, int] = {
    GOOD_SERVICE: 0,
    PLANNED_WORK: 1,
    SERVICE_CHANGE: 2,
    DELAYS: 3,
    SUSPENDED: 4,
}

# Mercury alert types that tell riders something without changing how trains run.
_INFORMATIONAL_ALERT_TYPES = frozenset(
    {
        "Station Notice",
        "Special Notice",
        "Extra Service",
        "No Scheduled Service",
        "Information Outage",
        "Weekday Service",
        "Weekend Service",
    }
)


def status_for_alert_type(alert_type: str) -> str:
    """Rank a Mercury alert type by its name onto the legacy status words.

    "Planned - ..." is scheduled work, even "Planned - Suspended": the legacy feed
    called all of it PLANNED WORK. Unplanned suspensions and any kind of delay are the
    worst news. An alert type we have never seen still changes service somehow, so it
    counts as a SERVICE CHANGE rather than being hidden from riders.
    """
    name = alert_type.strip()
    if name in _INFORMATIONAL_ALERT_TYPES:
        return GOOD_SERVICE
    lowered = name.lower()
    if lowered.startswith("planned"):
        return PLANNED_WORK
    if "suspended" in lowered:
        return SUSPENDED
    if "delay" in lowered or "slow" in lowered:
        return DELAYS
    return SERVICE_CHANGE


def worst(statuses: list[str]) -> str:
    """The most severe status; words outside the five (e.g. MINOR DELAYS) rank as DELAYS."""
    if not statuses:
        return GOOD_SERVICE
    return max(statuses, key=lambda s: SEVERITY.get(s, SEVERITY[DELAYS]))


def is_fucked(status: str) -> str:
    """The original site's rule: "NOPE" only for GOOD SERVICE, anything else "YUP"."""
    return "NOPE" if status == GOOD_SERVICE else "YUP"


@dataclass(frozen=True)
class LineStatus:
    """One line group's status in one snapshot."""

    line: str
    status: str

    @property
    def verdict(self) -> str:
        return is_fucked(self.status)

    def as_row(self) -> list[str]:
        """The `[line, status, "YUP"|"NOPE"]` triple stored in DynamoDB."""
        return [self.line, self.status, self.verdict]
