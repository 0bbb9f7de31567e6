"""The shipped price table: dated, sourced, five regions, volume ladders, free tiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambic.cost import PriceError, load_prices

REGIONS = {"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"}


def test_the_shipped_table_is_dated_sourced_and_covers_five_regions() -> None:
    table = load_prices()
    assert table.date and table.currency == "USD" and table.month_hours == 730
    assert set(table.regions()) >= REGIONS
    for price in table.prices.values():
        assert price.sources and all(s.startswith("https://") for s in price.sources)


def test_lambda_prices_and_always_free_tier_are_awss() -> None:
    table = load_prices()
    requests = table.price("lambda.requests")
    assert requests.unit_price("us-east-1") == 0.20 and requests.per == 1_000_000
    assert requests.free is not None and requests.free.quantity == 1_000_000
    assert requests.free.kind == "always"
    x86, arm = table.price("lambda.gb_seconds.x86_64"), table.price("lambda.gb_seconds.arm64")
    assert x86.unit_price("us-east-1") == 0.0000166667
    assert arm.unit_price("us-east-1") == 0.0000133334
    assert x86.free is not None and arm.free is not None
    assert x86.free.pool == arm.free.pool and x86.free.quantity == 400_000
    # API Gateway's free tier is the 12-month offer, never always-free.
    rest = table.price("apigateway.rest.requests")
    assert rest.free is not None and rest.free.kind == "12-months"


def test_a_volume_ladder_prices_each_tier_at_its_own_rate() -> None:
    x86 = load_prices().price("lambda.gb_seconds.x86_64")
    # 6 billion GB-s at the first rate, the next billion at the second.
    amount = x86.amount("us-east-1", 7e9)
    assert amount == pytest.approx(6e9 * 0.0000166667 + 1e9 * 0.000015)
    # Starting where earlier usage left off moves up the ladder.
    assert x86.amount("us-east-1", 1e9, already=6e9) == pytest.approx(1e9 * 0.000015)


def test_a_region_without_a_price_is_an_error_naming_the_ones_there_are() -> None:
    with pytest.raises(PriceError, match="us-east-1"):
        load_prices().price("lambda.requests").unit_price("mars-north-1")
    with pytest.raises(PriceError, match="no price named"):
        load_prices().price("lambda.nothing")


def test_a_table_can_be_loaded_from_a_file_and_a_bad_one_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "date": "2030-01-01",
                "currency": "USD",
                "month_hours": 730,
                "prices": {
                    "sqs.requests": {
                        "description": "SQS",
                        "unit": "requests",
                        "per": 1_000_000,
                        "regions": {"us-east-1": [[100, 1.0], [None, 0.5]]},
                    }
                },
            }
        )
    )
    price = load_prices(path).price("sqs.requests")
    assert price.amount("us-east-1", 300) == pytest.approx(100 * 1.0 / 1e6 + 200 * 0.5 / 1e6)
    path.write_text("{")
    with pytest.raises(PriceError, match="Cannot read the price table"):
        load_prices(path)


def test_each_verified_figure_names_its_date_and_source_and_the_rest_are_marked() -> None:
    table = load_prices()
    checked = table.price("lambda.requests").verification("us-east-1")
    assert checked is not None and checked.date == "2026-12-06"
    assert checked.source == "https://aws.amazon.com/lambda/pricing/"
    for price in table.prices.values():
        for region, check in price.verified.items():
            assert region in price.regions
            assert check.source in price.sources and len(check.date) == 10
    # Regions other than us-east-1 were never checked against a source.
    for region in REGIONS - {"us-east-1"}:
        assert all(p.verification(region) is None for p in table.prices.values())
    # Nor were some us-east-1 figures: SQS is shipped unchecked.
    assert table.price("sqs.requests").verification("us-east-1") is None


def test_a_verification_for_a_region_without_a_price_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    entry = {
        "description": "SQS",
        "unit": "requests",
        "per": 1_000_000,
        "regions": {"us-east-1": 0.4},
        "verified": {"eu-west-1": {"date": "2030-01-01", "source": "https://example.com"}},
    }
    path.write_text(
        json.dumps(
            {"date": "2030-01-01", "currency": "USD", "month_hours": 730,
             "prices": {"sqs.requests": entry}}
        )
    )  # fmt: skip
    with pytest.raises(PriceError, match="verified names eu-west-1, which has no price"):
        load_prices(path)


def test_each_region_is_priced_on_its_own_figures_and_ladder() -> None:
    rest = load_prices().price("apigateway.rest.requests")
    # 400 million requests: 333 million at the first tier's rate, 67 at the next.
    assert rest.amount("us-east-1", 400e6) == pytest.approx(333 * 3.50 + 67 * 2.80)
    # The ladder starts where the month's earlier requests left off, per region too.
    assert rest.amount("eu-west-1", 100e6, already=300e6) == pytest.approx(33 * 3.50 + 67 * 2.80)
    # Frankfurt is shipped with one price for every tier.
    assert rest.amount("eu-central-1", 400e6) == pytest.approx(400 * 3.70)
    writes = load_prices().price("dynamodb.write_units")
    assert writes.amount("ap-southeast-2", 2e6) == pytest.approx(2 * 0.7116)
