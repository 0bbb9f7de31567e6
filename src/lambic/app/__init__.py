"""The Lambic programming model: standard library only, importable on Python 3.10+.

It is copied into every deployment package. A user module defines
`app = Lambic("name")`; decorators fill the registry that the runtime and the deployer
read (docs/internals.md §1), and `app(event, context)` is the Lambda handler for every
HTTP route.
"""

from __future__ import annotations

from lambic.app.proxy_events import create_rest_event

__all__ = ["create_rest_event"]
