"""Names and references in Lambic's Terraform JSON (`terraform.py`, `_terraform_declared.py`):
resource names Terraform accepts, literal strings, and the ARNs and attributes we interpolate.
"""

from __future__ import annotations

__all__ = ["PARTITION", "function_ref", "literal", "resource_arn", "tf_name"]

PARTITION = "${data.aws_partition.current.partition}"
_REGION = "${data.aws_region.current.name}"
_ACCOUNT = "${data.aws_caller_identity.current.account_id}"


def tf_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in name)
    return cleaned if cleaned[:1].isalpha() else f"r_{cleaned}"


def literal(text: str) -> str:
    """Escape `text` so Terraform reads it verbatim."""
    return text.replace("${", "$${").replace("%{", "%%{")


def function_ref(name: str, attribute: str = "arn") -> str:
    return f"${{aws_lambda_function.{name}.{attribute}}}"


def resource_arn(service: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{_REGION}:{_ACCOUNT}:{resource}"
