"""Mappings the request object exposes: multi-value query params, case-free headers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["CaseInsensitiveMapping", "MultiDict"]


class MultiDict(MutableMapping[str, Any]):
    """Key -> list of values; `d[key]` is the LAST value, `d.getlist(key)` all of them.

    API Gateway puts the last value of a repeated query key in its single-value map;
    Chalice's `MultiDict` answers the same, and we mirror it.

        >>> MultiDict({"a": ["1", "2"]})["a"]
        '2'
    """

    __slots__ = ("_dict",)

    def __init__(self, mapping: dict[str, list[Any]] | None) -> None:
        self._dict: dict[str, list[Any]] = {} if mapping is None else mapping

    def __getitem__(self, key: str) -> Any:
        try:
            return self._dict[key][-1]
        except IndexError:
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        self._dict[key] = [value]

    def __delitem__(self, key: str) -> None:
        del self._dict[key]

    def getlist(self, key: str) -> list[Any]:
        """Every value given for `key`, in request order."""
        return list(self._dict[key])

    def __len__(self) -> int:
        return len(self._dict)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __repr__(self) -> str:
        return f"MultiDict({self._dict})"

    def __str__(self) -> str:
        return repr(self)


class CaseInsensitiveMapping(Mapping[str, Any]):
    """Read-only mapping whose keys match whatever their case (HTTP header names).

    Keys are stored lower-cased, as Chalice stores them.
    """

    __slots__ = ("_dict",)

    def __init__(self, mapping: Mapping[str, Any] | None) -> None:
        self._dict: dict[str, Any] = {k.lower(): v for k, v in mapping.items()} if mapping else {}

    def __getitem__(self, key: str) -> Any:
        return self._dict[key.lower()]

    def get(self, key: str, default: Any = None) -> Any:
        return self._dict.get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __repr__(self) -> str:
        return f"CaseInsensitiveMapping({self._dict!r})"
