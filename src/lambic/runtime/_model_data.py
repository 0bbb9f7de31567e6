"""How the zygote's boto3 reads botocore's data files (endpoints.json, each
service's model, rule set, resources...): into plain dicts, a service model without
its prose, the endpoint data's services packed until read.

botocore parses every file into `OrderedDict`s (what Python's dicts did not
guarantee when it was written) and keeps each service model's documentation: the
HTML that its docstrings and `help()` show. In the zygote that is the image every
environment shares and partly copies (docs/internals.md §3.1.0): on the flagship
(DynamoDB and S3) the endpoint data, two models and two rule sets are ~13.7 MB parsed
by botocore, ~3 MB here, and parsed in half the time. Plain dicts keep the file's
order; botocore reads the data by key and never asks for an `OrderedDict`'s own
methods. What goes is the prose of a service model's operations, shapes and members
(`PROSE_LEFT_OUT` stands in for it): the docstrings and `help()` of the default
session's clients say so instead; requests, responses, errors, paginators and waiters
are unchanged. A `boto3.session.Session()` the code makes itself has a loader of its own,
botocore's.

The endpoint data (endpoints.json) describes ~1,200 services in 8 partitions, ~4 MB
as dicts, of which a client reads its own service's entry: each partition's
"services" is a `PackedServices`, every entry marshalled and unpacked the first time
it is read (then kept: botocore writes into the entries it resolves). Packed in a
short-lived fork where the process has one thread: parsed in the zygote itself, the
freed parse left holes in the image that every environment's allocations then
filled, copying those pages (measured: the zygote's image -2.7 MB, the environment's
own +4.2 MB; packed in a fork, -3.4 MB in total).

Imported only where boto3 is (the zygote's warm steps): botocore is boto3's.
"""

from __future__ import annotations

import gzip
import json
import marshal
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from botocore.loaders import JSONFileLoader

from lambic.runtime._descriptors import fork_with_pipe

__all__ = [
    "PROSE_LEFT_OUT",
    "CompactFileLoader",
    "PackedServices",
    "install",
    "packed_endpoints",
    "without_prose",
]

Opener = Callable[[str, str], IO[bytes]]

# The extensions botocore's own file loader tries, in its order.
_OPENERS: tuple[tuple[str, Opener], ...] = ((".json", open), (".json.gz", gzip.open))  # type: ignore[assignment]

#: The name botocore loads its endpoint data by (`load_data("endpoints")`).
ENDPOINTS = "endpoints"


class CompactFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore is untyped
    """botocore's `JSONFileLoader` reading into plain dicts, models without prose,
    the endpoint data packed."""

    def load_file(self, file_path: str) -> Any:
        for extension, opener in _OPENERS:
            path = file_path + extension
            if os.path.isfile(path):
                if os.path.basename(file_path) == ENDPOINTS:
                    return packed_endpoints(path, opener)
                with opener(path, "rb") as stream:
                    return without_prose(json.loads(stream.read()))
        return None


#: What a service model's operations, shapes and members document instead of their
#: prose: botocore's docstrings need some text where the model had some (a parameter's
#: section is only made for documented shapes, and its hooks for auto-populated
#: parameters, such as S3's checksums, write into that section).
PROSE_LEFT_OUT = (
    "<p>(Left out of the boto3 that lambic local preloads into execution environments;"
    " see the service's API reference.)</p>"
)


def without_prose(data: Any) -> Any:
    """A service model (a dict with "operations" and "shapes") with the documentation
    of its operations, shapes and their members replaced by `PROSE_LEFT_OUT`; anything
    else as is. Other fields named "documentation" stay: botocore reads some by index
    (a service's clientContextParams)."""
    if not (isinstance(data, dict) and "shapes" in data and "operations" in data):
        return data
    for operation in data["operations"].values():
        _leave_out_prose(operation)
    for shape in data["shapes"].values():
        _leave_out_prose(shape)
        for member in shape.get("members", {}).values():
            _leave_out_prose(member)
    return data


def _leave_out_prose(node: dict[str, Any]) -> None:
    if "documentation" in node:
        node["documentation"] = PROSE_LEFT_OUT


class PackedServices(Mapping[str, Any]):
    """A partition's "services" of the endpoint data: each entry marshalled until it
    is first read, then that dict (botocore's resolver writes into what it reads, so
    a second read must see the same object, as with a dict)."""

    __slots__ = ("_packed", "_unpacked")

    def __init__(self, packed: dict[str, bytes]) -> None:
        self._packed = packed
        self._unpacked: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        try:
            return self._unpacked[name]
        except KeyError:
            entry = self._unpacked[name] = marshal.loads(self._packed[name])
            return entry

    def __contains__(self, name: object) -> bool:
        return name in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def __repr__(self) -> str:
        return f"PackedServices({len(self._packed)} services)"


def _pack(path: str, opener: Opener) -> bytes:
    """The endpoint data at `path`, every partition's services marshalled one by one."""
    with opener(path, "rb") as stream:
        data = json.loads(stream.read())
    for partition in data.get("partitions", ()):
        services = partition.get("services")
        if isinstance(services, dict):
            partition["services"] = {name: marshal.dumps(e) for name, e in services.items()}
    return marshal.dumps(data)


def _pack_in_fork(path: str, opener: Opener) -> bytes | None:
    """`_pack` run in a fork of this process, so that its garbage is the fork's; None
    when the fork failed (the caller packs here)."""
    try:
        pid, reading, writing = fork_with_pipe()
    except OSError:
        return None
    if pid == 0:  # pragma: no cover - the fork: pack, write, leave without cleanup
        code = 1
        try:
            os.close(reading)
            with os.fdopen(writing, "wb") as out:
                out.write(_pack(path, opener))
            code = 0
        finally:
            os._exit(code)
    os.close(writing)
    with os.fdopen(reading, "rb") as stream:
        packed = stream.read()
    _, status = os.waitpid(pid, 0)
    return packed if status == 0 else None


def packed_endpoints(path: str, opener: Opener = open) -> Any:
    """The endpoint data at `path` (botocore's endpoints.json) with `PackedServices`."""
    single = hasattr(os, "fork") and threading.active_count() == 1
    packed = (_pack_in_fork(path, opener) if single else None) or _pack(path, opener)
    data = marshal.loads(packed)
    for partition in data.get("partitions", ()):
        if isinstance(partition.get("services"), dict):
            partition["services"] = PackedServices(partition["services"])
    return data


def install(loader: Any) -> None:
    """Make `loader` (a botocore session's "data_loader", before it loads anything)
    read files with `CompactFileLoader`."""
    loader.file_loader = CompactFileLoader()
