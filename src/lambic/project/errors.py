"""The project layer's exceptions: the project cannot be read as it stands.

```
ProjectError            root: no app.py, no `app` in it, a syntax or import error
│                       while reading the app, or an unreadable project directory
└── ConfigError         .lambic/config.json is unreadable or a key is ill-typed;
                        the message names the key's JSON path
```

Every layer above (runtime, deploy, the CLI) reads projects through this package, so
these are the only classes for those two failures; each layer re-exports them beside
its own root (`lambic.runtime.errors`, `lambic.deploy.errors`) and the CLI catches
them once with the other layers' roots.
"""

from __future__ import annotations

__all__ = ["ConfigError", "ProjectError"]


class ProjectError(Exception):
    """The project cannot be loaded; the message is one line saying what to fix."""


class ConfigError(ProjectError):
    """`.lambic/config.json` is invalid; the message names the key path and the fix."""
