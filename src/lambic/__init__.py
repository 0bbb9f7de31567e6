"""Lambic: write serverless Python once, run it locally as a faithful cloud, deploy to AWS.

The programming model (`Lambic`, `Blueprint`, `Response`, the errors...) is re-exported
here from `lambic.app`, which uses only the standard library.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
