"""What the app would cost on AWS: a price table, the quantities that ran, the model.

Data flow: the stage's log store (`usage`: Lambda invocations; `metered`: everything
else, see `lambic.project.metering`) → `read_quantities` (SQL aggregates over a
window) → `estimate` with `load_prices()` (the dated price table shipped as
`prices.json`) → `Estimate`: lines with quantities, unit prices and amounts, the
month projected at the observed or a stated rate, with and without the free tier,
and what dominates. `lambic cost` prints an `Estimate`; the console shows the same.

    observed = read_quantities(conn, since_ms=0, until_ms=now_ms)
    print(estimate(observed, load_prices(), region="eu-west-1").summary())

`stage_estimate(project_dir, stage, ...)` does all of it for a project's stage.
"""

from lambic.cost.model import CostError, Estimate, Line, estimate
from lambic.cost.prices import FreeTier, Price, PriceError, PriceTable, load_prices
from lambic.cost.quantities import Observed, Quantity, price_key, read_quantities
from lambic.cost.stage import stage_estimate

__all__ = [
    "CostError",
    "Estimate",
    "FreeTier",
    "Line",
    "Observed",
    "Price",
    "PriceError",
    "PriceTable",
    "Quantity",
    "estimate",
    "load_prices",
    "price_key",
    "read_quantities",
    "stage_estimate",
]
