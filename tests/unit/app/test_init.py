from __future__ import annotations

import lambic
import lambic.app


def test_app_all_is_sorted_and_lists_exactly_the_reexports() -> None:
    exported = lambic.app.__all__
    assert exported == sorted(exported)
    submodules = {n for n, v in vars(lambic.app).items() if type(v).__name__ == "module"}
    public = {n for n in vars(lambic.app) if not n.startswith("_")} - submodules - {"annotations"}
    assert set(exported) == public


def test_lambic_all_is_sorted_and_lists_exactly_the_reexports() -> None:
    exported = lambic.__all__
    assert exported == sorted(exported)
    submodules = {n for n, v in vars(lambic).items() if type(v).__name__ == "module"}
    public = {n for n in vars(lambic) if not n.startswith("_")} - submodules - {"annotations"}
    assert set(exported) - {"__version__"} == public
    for name in exported:
        assert getattr(lambic, name) is not None


def test_lambic_reexports_the_programming_model() -> None:
    for name in (
        "Lambic",
        "Chalice",
        "Blueprint",
        "Response",
        "Request",
        "CORSConfig",
        "AuthResponse",
        "AuthRoute",
        "ConvertToMiddleware",
        "IAMAuthorizer",
        "CognitoUserPoolAuthorizer",
        "CustomAuthorizer",
        "BadRequestError",
        "TooManyRequestsError",
        "ChaliceViewError",
    ):
        assert getattr(lambic, name) is getattr(lambic.app, name)
