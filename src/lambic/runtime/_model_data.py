"""How the zygote's boto3 reads botocore's data files (endpoints.json, each
service's model, rule set, resources...): into plain dicts, and a service model
without its prose.

botocore parses every file into `OrderedDict`s (what Python's dicts did not
guarantee when it was written) and keeps each service model's documentation: the
HTML that its docstrings and `help()` show. In the zygote that is the image every
environment shares and partly copies (docs/internals.md §3.1.0): on the flagship
(DynamoDB and S3) the endpoint data, two models and two rule sets are ~13.7 MB parsed
by botocore, ~6.5 MB here, and parsed in half the time. Plain dicts keep the file's
order; botocore reads the data by key and never asks for an `OrderedDict`'s own
methods. What goes is a service model's `documentation` of its operations, shapes
and their members (all read with `.get(..., "")`): the docstrings of the default
session's clients are empty; requests, responses, errors, paginators and waiters are
unchanged. A `boto3.session.Session()` the code makes itself has a loader of its own,
botocore's.

Imported only where boto3 is (the zygote's warm steps): botocore is boto3's.
"""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

from botocore.loaders import JSONFileLoader

__all__ = ["CompactFileLoader", "install"]

# The extensions botocore's own file loader tries, in its order.
_OPENERS = ((".json", open), (".json.gz", gzip.open))


class CompactFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore is untyped
    """botocore's `JSONFileLoader` reading into plain dicts, models without prose."""

    def load_file(self, file_path: str) -> Any:
        for extension, opener in _OPENERS:
            path = file_path + extension
            if os.path.isfile(path):
                with opener(path, "rb") as stream:
                    return without_prose(json.loads(stream.read()))
        return None


def without_prose(data: Any) -> Any:
    """A service model (a dict with "operations" and "shapes") without the
    documentation of its operations, shapes and their members; anything else as is.
    Other fields named "documentation" stay: botocore reads some by index (a service's
    clientContextParams)."""
    if not (isinstance(data, dict) and "shapes" in data and "operations" in data):
        return data
    for operation in data["operations"].values():
        operation.pop("documentation", None)
    for shape in data["shapes"].values():
        shape.pop("documentation", None)
        for member in shape.get("members", {}).values():
            member.pop("documentation", None)
    return data


def install(loader: Any) -> None:
    """Make `loader` (a botocore session's "data_loader", before it loads anything)
    read files with `CompactFileLoader`."""
    loader.file_loader = CompactFileLoader()
