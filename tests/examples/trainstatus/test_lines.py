from __future__ import annotations

import pytest

from chalicelib.lines import is_fucked, status_for_alert_type, worst


def test_only_good_service_is_nope() -> None:
    assert is_fucked("GOOD SERVICE") == "NOPE"
    for status in ("PLANNED WORK", "SERVICE CHANGE", "DELAYS", "SUSPENDED", "MINOR DELAYS"):
        assert is_fucked(status) == "YUP"


@pytest.mark.parametrize(
    ("alert_type", "status"),
    [
        ("Delays", "DELAYS"),
        ("Expect Delays", "DELAYS"),
        ("Severe Delays", "DELAYS"),
        ("Slow Speeds", "DELAYS"),
        ("Suspended", "SUSPENDED"),
        ("Part Suspended", "SUSPENDED"),
        ("Planned - Suspended", "PLANNED WORK"),
        ("Planned - Stops Skipped", "PLANNED WORK"),
        ("Reduced Service", "SERVICE CHANGE"),
        ("Boarding Change", "SERVICE CHANGE"),
        ("Something New", "SERVICE CHANGE"),
        ("Station Notice", "GOOD SERVICE"),
        ("No Scheduled Service", "GOOD SERVICE"),
    ],
)
def test_alert_types_are_ranked_by_name(alert_type: str, status: str) -> None:
    assert status_for_alert_type(alert_type) == status


def test_worst_status_wins_and_unknown_words_rank_as_delays() -> None:
    assert worst(["GOOD SERVICE", "PLANNED WORK", "SERVICE CHANGE"]) == "SERVICE CHANGE"
    assert worst(["DELAYS", "SUSPENDED"]) == "SUSPENDED"
    assert worst(["MINOR DELAYS", "SERVICE CHANGE"]) == "MINOR DELAYS"
    assert worst([]) == "GOOD SERVICE"
