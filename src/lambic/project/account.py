"""The local cloud's account: who and where every local resource is.

AWS names every resource by account and region (ARNs, queue URLs, SNS owners). The
local cloud has one account, the id every local AWS emulator uses, and defaults to
the region an unconfigured SDK would pick. Everything local that builds an ARN or a
URL takes these from here, so a function's ARN seen by an SNS subscription, the async
queue and a destination record always agree.

    >>> function_arn("trainstatus-dev-update_status")
    'arn:aws:lambda:us-east-1:000000000000:function:trainstatus-dev-update_status'
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_SERVICES_PORT",
    "LOCAL_ACCESS_KEY",
    "LOCAL_ACCOUNT_ID",
    "LOCAL_CANONICAL_USER_ID",
    "LOCAL_DISPLAY_NAME",
    "LOCAL_REGION",
    "function_arn",
]

#: The account id of every local resource (moto, LocalStack and MiniStack use it too).
LOCAL_ACCOUNT_ID = "000000000000"
#: The local account's S3 canonical user id and display name (bucket and object owner).
LOCAL_CANONICAL_USER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
LOCAL_DISPLAY_NAME = "webfile"
#: The region of the local cloud: the SDK's usual default.
LOCAL_REGION = "us-east-1"
#: The port of the local services' edge (LocalStack's, so existing settings work).
DEFAULT_SERVICES_PORT = 4566
#: Credentials handed to functions and local clients when the user set none; the
#: local services accept any key unless started with `--require-auth`. Other accounts
#: and their keys come from an identities file (`lambic.project.identities`).
LOCAL_ACCESS_KEY = "lambic-local"


def function_arn(
    deployed_name: str, *, region: str = LOCAL_REGION, account_id: str = LOCAL_ACCOUNT_ID
) -> str:
    """The ARN of a Lambda function by its deployed name (`<app>-<stage>-<name>`)."""
    return f"arn:aws:lambda:{region}:{account_id}:function:{deployed_name}"
