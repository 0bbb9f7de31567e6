"""Bucket CORS: the configuration document, and answering browsers as S3 does.

A web page served from another origin (say the app on `http://localhost:8000`) that
uploads to a presigned URL needs the bucket to allow it. S3 answers an `OPTIONS`
preflight from the bucket's CORS rules (403 `AccessForbidden` when none matches or
none is configured) and adds `Access-Control-*` headers to actual requests carrying
an `Origin` that a rule allows; we mirror both. The first matching rule wins.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache

from lambic._http_limits import parse_xml
from lambic.services.s3.errors import S3Error

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
_MAX_RULES = 100


@dataclass(frozen=True)
class CorsRule:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None
    id: str | None = None

    def allows(self, origin: str, method: str, headers: list[str]) -> bool:
        return (
            any(_wildcard(pattern).fullmatch(origin) for pattern in self.origins)
            and method in self.methods
            and all(
                any(_wildcard(p.lower()).fullmatch(h.lower()) for p in self.headers)
                for h in headers
            )
        )

    def response_headers(self, origin: str, requested: list[str]) -> list[tuple[str, str]]:
        headers = [
            ("Access-Control-Allow-Origin", "*" if self.origins == ("*",) else origin),
            ("Access-Control-Allow-Methods", ", ".join(self.methods)),
        ]
        if requested:
            headers.append(("Access-Control-Allow-Headers", ", ".join(requested)))
        if self.expose:
            headers.append(("Access-Control-Expose-Headers", ", ".join(self.expose)))
        if self.max_age is not None:
            headers.append(("Access-Control-Max-Age", str(self.max_age)))
        headers.append(
            ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
        )
        return headers


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    # S3 allows at most one "*" in an origin or header pattern, matching any text.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def matching_rule(
    rules: tuple[CorsRule, ...], origin: str, method: str, headers: list[str]
) -> CorsRule | None:
    return next((rule for rule in rules if rule.allows(origin, method, headers)), None)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_cors(body: bytes) -> tuple[CorsRule, ...]:
    """Parse and validate a `CORSConfiguration` as PutBucketCors does."""
    try:
        root = parse_xml(body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML") from exc
    if _local(root.tag) != "CORSConfiguration":
        raise S3Error("MalformedXML")
    rules = [_parse_rule(element) for element in root if _local(element.tag) == "CORSRule"]
    if not rules or len(rules) > _MAX_RULES:
        raise S3Error("MalformedXML")
    return tuple(rules)


def _parse_rule(element: ET.Element) -> CorsRule:
    values: dict[str, list[str]] = {}
    for child in element:
        values.setdefault(_local(child.tag), []).append((child.text or "").strip())
    origins, methods = values.get("AllowedOrigin", []), values.get("AllowedMethod", [])
    if not origins or not methods:
        raise S3Error("MalformedXML")
    for method in methods:
        if method not in _METHODS:
            raise S3Error(
                "InvalidRequest",
                f"Found unsupported HTTP method in CORS config. Unsupported method is {method}",
            )
    max_age = values.get("MaxAgeSeconds", [None])[0]
    try:
        age = int(max_age) if max_age is not None else None
    except ValueError as exc:
        raise S3Error("MalformedXML") from exc
    return CorsRule(
        tuple(origins),
        tuple(methods),
        tuple(values.get("AllowedHeader", [])),
        tuple(values.get("ExposeHeader", [])),
        age,
        values.get("ID", [None])[0],
    )


def render_cors(rules: tuple[CorsRule, ...]) -> bytes:
    root = ET.Element("CORSConfiguration", xmlns=NS)
    for rule in rules:
        element = ET.SubElement(root, "CORSRule")
        if rule.id:
            ET.SubElement(element, "ID").text = rule.id
        for tag, items in (
            ("AllowedHeader", rule.headers),
            ("AllowedMethod", rule.methods),
            ("AllowedOrigin", rule.origins),
            ("ExposeHeader", rule.expose),
        ):
            for item in items:
                ET.SubElement(element, tag).text = item
        if rule.max_age is not None:
            ET.SubElement(element, "MaxAgeSeconds").text = str(rule.max_age)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)
