"""The model's arithmetic: amounts are quantities x unit prices, the month is the
observed rate (or a stated one) scaled, the always-free tier comes off per pool."""

from __future__ import annotations

import pytest

from lambic.cost import CostError, Observed, Quantity, estimate, load_prices

HOUR = 3_600_000
PRICES = load_prices()


def observed(*quantities: Quantity, hours: float = 1.0) -> Observed:
    return Observed(0, int(hours * HOUR), list(quantities), 0, int(hours * HOUR))


def lam(function: str, requests: float, gb_seconds: float, arch: str = "x86_64") -> list[Quantity]:
    return [
        Quantity("lambda", function, "requests", requests, "lambda.requests"),
        Quantity("lambda", function, "gb_seconds", gb_seconds, f"lambda.gb_seconds.{arch}"),
    ]


def test_amounts_are_quantity_times_unit_price_and_the_month_scales_the_rate() -> None:
    result = estimate(
        observed(Quantity("sqs", "jobs", "requests", 1_000, "sqs.requests"), hours=2),
        PRICES,
        free_tier=False,
    )
    (line,) = result.lines
    assert line.unit_price == 0.40 and line.per == 1_000_000
    assert line.amount == pytest.approx(1_000 * 0.40 / 1_000_000)
    assert result.factor == pytest.approx(730 / 2)
    assert line.monthly_quantity == pytest.approx(1_000 * 365)
    assert line.monthly_billed == pytest.approx(365_000 * 0.40 / 1e6)


def test_the_always_free_tier_is_shared_by_a_pool() -> None:
    # Over a month: 300,000 GB-s on x86 and 300,000 on arm share Lambda's 400,000.
    quantities = [*lam("a", 0, 300_000 / 730), *lam("b", 0, 300_000 / 730, "arm64")]
    result = estimate(observed(*quantities), PRICES)
    gb = {line.resource: line for line in result.lines if line.metric == "gb_seconds"}
    assert gb["a"].monthly_quantity == pytest.approx(300_000)
    assert gb["a"].free_quantity + gb["b"].free_quantity == pytest.approx(400_000)
    billed = 300_000 + 300_000 - 400_000
    paid = gb["b"].monthly_billed / 0.0000133334 + gb["a"].monthly_billed / 0.0000166667
    assert paid == pytest.approx(billed)
    assert estimate(observed(*quantities), PRICES, free_tier=False).monthly_billed > (
        result.monthly_billed
    )


def test_twelve_month_offers_are_never_applied() -> None:
    q = Quantity("apigateway", "rest", "requests", 10, "apigateway.rest.requests")
    (line,) = estimate(observed(q), PRICES).lines
    assert line.free_quantity == 0 and line.monthly_billed == line.monthly_amount > 0


def test_a_stated_daily_rate_scales_by_the_api_requests_keeping_the_mix() -> None:
    api = Quantity("apigateway", "http", "requests", 50, "apigateway.http.requests")
    result = estimate(observed(api, *lam("a", 50, 5.0)), PRICES, per_day=1_000, free_tier=False)
    assert result.factor == pytest.approx(1_000 * 730 / 24 / 50)
    by = {(line.service, line.metric): line for line in result.lines}
    assert by[("apigateway", "requests")].monthly_quantity == pytest.approx(1_000 * 730 / 24)
    assert by[("lambda", "gb_seconds")].monthly_quantity == pytest.approx(5.0 * result.factor)
    with pytest.raises(CostError, match="No requests"):
        estimate(observed(Quantity("s3", "b", "tier1", 3, "s3.tier1")), PRICES, per_day=10)


def test_storage_is_priced_as_gb_months_of_the_average_size() -> None:
    gib_hours = 1024**3 * 2.0  # 1 GiB held for the 2 observed hours
    q = Quantity("s3", "b", "byte_hours", gib_hours, "s3.storage")
    (line,) = estimate(observed(q, hours=2), PRICES, free_tier=False).lines
    assert line.quantity == pytest.approx(2 / 730)  # GB-months in the window
    assert line.monthly_quantity == pytest.approx(1.0)  # 1 GB all month
    assert line.monthly_billed == pytest.approx(0.023)


def test_what_dominates_is_said_and_a_region_changes_the_prices() -> None:
    q = [
        Quantity("dynamodb", "t", "write_units", 1_000_000, "dynamodb.write_units"),
        Quantity("sqs", "jobs", "requests", 10, "sqs.requests"),
    ]
    result = estimate(observed(*q, hours=730), PRICES)
    assert result.dominant() is not None and result.dominant().resource == "t"  # type: ignore[union-attr]
    assert result.summary().startswith("DynamoDB write request units (t) dominates: $0.62")
    eu = estimate(observed(*q, hours=730), PRICES, region="eu-central-1")
    assert eu.lines[0].unit_price == 0.7625


def test_all_free_says_so_and_unknown_prices_are_listed() -> None:
    result = estimate(observed(*lam("a", 10, 1.0)), PRICES)
    assert result.monthly_billed == 0
    assert result.summary().startswith("Everything fits in the always-free tier")
    ws = Quantity("apigateway", "websocket", "messages", 5, "apigateway.websocket.messages")
    assert estimate(observed(ws), PRICES, region="eu-west-1").unpriced == [
        "apigateway.websocket.messages"
    ]


def test_json_view_carries_quantities_prices_amounts_and_totals() -> None:
    data = estimate(observed(*lam("a", 10, 1.0)), PRICES).to_dict()
    assert {"lines", "totals", "by_service", "by_function", "dominant", "summary"} <= set(data)
    line = data["lines"][0]
    assert line["amount"] == pytest.approx(line["quantity"] * line["unit_price"] / line["per"])
    assert data["by_function"]["a"]["amount"] == pytest.approx(data["totals"]["amount"])


def test_websocket_messages_and_connection_minutes_are_priced_by_api_gateways_table() -> None:
    messages = Quantity("apigateway", "websocket", "messages", 3e6, "apigateway.websocket.messages")
    minutes = Quantity(
        "apigateway",
        "websocket",
        "connection_minutes",
        2e6,
        "apigateway.websocket.connection_minutes",
    )
    result = estimate(observed(messages, minutes, hours=730), PRICES)
    by = {line.metric: line for line in result.lines}
    # $1.00 per million messages (first billion), $0.25 per million connection minutes;
    # their free tier is a 12-month offer, never applied.
    assert (by["messages"].unit_price, by["messages"].per) == (1.0, 1_000_000)
    assert by["messages"].monthly_billed == pytest.approx(3.00)
    assert (by["connection_minutes"].unit_price, by["connection_minutes"].per) == (0.25, 1_000_000)
    assert by["connection_minutes"].monthly_billed == pytest.approx(0.50)
    assert result.monthly_billed == pytest.approx(3.50)


def test_the_same_usage_is_priced_by_each_regions_table() -> None:
    q = [
        Quantity("dynamodb", "t", "write_units", 2_000_000, "dynamodb.write_units"),
        Quantity("dynamodb", "t", "read_units", 4_000_000, "dynamodb.read_units"),
        Quantity("s3", "b", "tier1", 10_000, "s3.tier1"),
        *lam("a", 3_000_000, 500_000),
    ]
    for region in PRICES.regions():
        result = estimate(observed(*q, hours=730), PRICES, region=region, free_tier=False)
        for line in result.lines:
            price = PRICES.price(line.price_key)
            assert line.unit_price == price.unit_price(region)
            assert line.amount == pytest.approx(line.quantity * line.unit_price / line.per)
            assert line.monthly_amount == pytest.approx(price.amount(region, line.quantity))
    eu = estimate(observed(*q, hours=730), PRICES, region="eu-central-1", free_tier=False)
    by_key = {line.price_key: line for line in eu.lines}
    assert by_key["dynamodb.write_units"].monthly_billed == pytest.approx(2 * 0.7625)
    assert by_key["dynamodb.read_units"].monthly_billed == pytest.approx(4 * 0.1525)
    assert by_key["s3.tier1"].monthly_billed == pytest.approx(10 * 0.0054)
    # The always-free allowances are the same in every region.
    free = estimate(observed(*q, hours=730), PRICES, region="ap-southeast-2")
    requests = next(line for line in free.lines if line.price_key == "lambda.requests")
    assert requests.free_quantity == 1_000_000
    assert requests.monthly_billed == pytest.approx(2 * 0.20)


def test_prices_never_checked_for_the_region_are_listed_as_unverified() -> None:
    q = [Quantity("dynamodb", "t", "write_units", 10, "dynamodb.write_units"),
         Quantity("sqs", "jobs", "requests", 10, "sqs.requests")]  # fmt: skip
    us = estimate(observed(*q), PRICES)
    assert us.unverified == ["sqs.requests"]  # SQS's us-east-1 figure is unchecked
    writes = next(line for line in us.lines if line.price_key == "dynamodb.write_units")
    assert writes.verified is not None and writes.verified.date == "2026-12-06"
    eu = estimate(observed(*q), PRICES, region="eu-west-1")
    assert eu.unverified == ["dynamodb.write_units", "sqs.requests"]
    data = eu.to_dict()
    assert data["unverified"] == ["dynamodb.write_units", "sqs.requests"]
    assert all(line["verified"] is None for line in data["lines"])
    assert us.to_dict()["lines"][0]["verified"] == {
        "date": "2026-12-06",
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    }
