"""Several identities in the local cloud: a real `lambic services --identities FILE`
and boto3 clients of two accounts (and an IAM user of one), asserting what each user
sees: their own buckets, 403 for the other account's, access through ACL grants and
bucket policies, owners shown, ownership controls, STS's answer per key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests._support.clients import aws_client
from tests._support.services_process import ServicesProcess

ALICE = {
    "account_id": "111122223333",
    "canonical_user_id": "a" * 64,
    "display_name": "alice",
    "email": "alice@example.com",
    "access_keys": [{"access_key_id": "AKIAALICE", "secret_access_key": "alice-secret"}],
}
BOB = {
    "account_id": "444455556666",
    "canonical_user_id": "b" * 64,
    "display_name": "bob",
    "email": "bob@example.com",
    "access_keys": [
        {"access_key_id": "AKIABOB", "secret_access_key": "bob-secret"},
        {"access_key_id": "AKIACAROL", "secret_access_key": "carol-secret", "user_name": "carol"},
    ],
}
ALICE_KEYS = ("AKIAALICE", "alice-secret")
BOB_KEYS = ("AKIABOB", "bob-secret")
CAROL_KEYS = ("AKIACAROL", "carol-secret")
OTHER_KEYS = ("not-in-the-file", "anything")


def _write_identities(path: Path) -> Path:
    path.write_text(json.dumps({"accounts": [ALICE, BOB]}))
    return path


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServicesProcess]:
    base = tmp_path_factory.mktemp("identities")
    ids = _write_identities(base / "ids.json")
    running = ServicesProcess(base / "state", ["--identities", str(ids)])
    yield running
    running.stop()


@pytest.fixture
def alice(cloud: ServicesProcess) -> Iterator[Any]:
    client = aws_client("s3", cloud.url, keys=ALICE_KEYS)
    yield client
    client.close()


@pytest.fixture
def bob(cloud: ServicesProcess) -> Iterator[Any]:
    client = aws_client("s3", cloud.url, keys=BOB_KEYS)
    yield client
    client.close()


def _code(call: Any, **params: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


DENIED = (403, "AccessDenied")


def test_each_account_lists_only_its_own_buckets_and_is_shown_as_their_owner(
    alice: Any, bob: Any
) -> None:
    alice.create_bucket(Bucket="alice-photos")
    bob.create_bucket(Bucket="bob-notes")
    mine = alice.list_buckets()
    assert [b["Name"] for b in mine["Buckets"]] == ["alice-photos"]
    assert mine["Owner"] == {"ID": "a" * 64, "DisplayName": "alice"}
    assert [b["Name"] for b in bob.list_buckets()["Buckets"]] == ["bob-notes"]
    acl = alice.get_bucket_acl(Bucket="alice-photos")
    assert acl["Owner"] == {"ID": "a" * 64, "DisplayName": "alice"}
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]] == [
        ("a" * 64, "FULL_CONTROL")
    ]
    # Names are global: another account cannot take one.
    assert _code(bob.create_bucket, Bucket="alice-photos") == (409, "BucketAlreadyExists")


def test_another_account_is_refused_a_private_bucket_and_its_objects(alice: Any, bob: Any) -> None:
    alice.create_bucket(Bucket="private-a")
    alice.put_object(Bucket="private-a", Key="secret.txt", Body=b"alice only")
    assert _code(bob.get_object, Bucket="private-a", Key="secret.txt") == DENIED
    assert _code(bob.put_object, Bucket="private-a", Key="x", Body=b"y") == DENIED
    assert _code(bob.list_objects_v2, Bucket="private-a") == DENIED
    assert _code(bob.delete_bucket, Bucket="private-a") == DENIED
    assert _code(bob.get_bucket_acl, Bucket="private-a") == DENIED
    # A missing key is 403 too: only who may list learns that it does not exist.
    with pytest.raises(ClientError) as missing:
        bob.head_object(Bucket="private-a", Key="nothing")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    deleted = bob.delete_objects(Bucket="private-a", Delete={"Objects": [{"Key": "secret.txt"}]})
    assert [(e["Key"], e["Code"]) for e in deleted["Errors"]] == [("secret.txt", "AccessDenied")]
    assert alice.get_object(Bucket="private-a", Key="secret.txt")["Body"].read() == b"alice only"


def test_acl_grants_by_id_and_email_let_the_other_account_in(alice: Any, bob: Any) -> None:
    alice.create_bucket(Bucket="shared-a")
    alice.put_object(Bucket="shared-a", Key="doc", Body=b"for bob")
    alice.put_object_acl(Bucket="shared-a", Key="doc", GrantRead='id="' + "b" * 64 + '"')
    assert bob.get_object(Bucket="shared-a", Key="doc")["Body"].read() == b"for bob"
    assert _code(bob.put_object_acl, Bucket="shared-a", Key="doc", ACL="public-read") == DENIED
    # A grant by email is stored as the account's canonical user, as S3 resolves it.
    alice.put_bucket_acl(Bucket="shared-a", GrantRead='emailAddress="bob@example.com"')
    grants = alice.get_bucket_acl(Bucket="shared-a")["Grants"]
    assert [
        (g["Grantee"]["Type"], g["Grantee"]["ID"], g["Grantee"]["DisplayName"]) for g in grants
    ] == [("CanonicalUser", "b" * 64, "bob")]
    assert [o["Key"] for o in bob.list_objects_v2(Bucket="shared-a")["Contents"]] == ["doc"]
    assert _code(
        alice.put_bucket_acl, Bucket="shared-a", GrantRead='emailAddress="nobody@example.com"'
    ) == (400, "UnresolvableGrantByEmailAddress")
    assert _code(alice.put_bucket_acl, Bucket="shared-a", GrantRead='id="no-such-user"') == (
        400,
        "InvalidArgument",
    )


def test_a_bucket_policy_naming_an_account_lets_it_write_and_it_owns_what_it_writes(
    alice: Any, bob: Any
) -> None:
    alice.create_bucket(Bucket="dropbox-a")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                "Action": ["s3:PutObject", "s3:ListBucket"],
                "Resource": ["arn:aws:s3:::dropbox-a", "arn:aws:s3:::dropbox-a/*"],
            }
        ],
    }
    alice.put_bucket_policy(Bucket="dropbox-a", Policy=json.dumps(policy))
    bob.put_object(Bucket="dropbox-a", Key="from-bob", Body=b"hi")
    bob.put_object(
        Bucket="dropbox-a", Key="for-alice", Body=b"yours", ACL="bucket-owner-full-control"
    )
    listed = bob.list_objects(Bucket="dropbox-a")["Contents"]
    assert {o["Key"]: o["Owner"]["DisplayName"] for o in listed} == {
        "for-alice": "bob",
        "from-bob": "bob",
    }
    # Bob owns his object (ObjectWriter): the bucket owner reads it only when granted.
    assert _code(alice.get_object, Bucket="dropbox-a", Key="from-bob") == DENIED
    assert alice.get_object(Bucket="dropbox-a", Key="for-alice")["Body"].read() == b"yours"
    # ... but may always delete it from her bucket.
    alice.delete_object(Bucket="dropbox-a", Key="from-bob")
    # An IAM user of the named account is covered by the account principal.
    carol = aws_client("s3", alice.meta.endpoint_url, keys=CAROL_KEYS)
    carol.put_object(Bucket="dropbox-a", Key="from-carol", Body=b"c")
    carol.close()


def test_bucket_owner_enforced_gives_the_bucket_owner_every_upload_and_disables_acls(
    alice: Any, bob: Any
) -> None:
    alice.create_bucket(Bucket="enforced-a", ObjectOwnership="BucketOwnerEnforced")
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "444455556666"},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::enforced-a/*",
            }
        ]
    }
    alice.put_bucket_policy(Bucket="enforced-a", Policy=json.dumps(policy))
    bob.put_object(Bucket="enforced-a", Key="k", Body=b"v")
    assert alice.get_object(Bucket="enforced-a", Key="k")["Body"].read() == b"v"
    assert alice.get_object_acl(Bucket="enforced-a", Key="k")["Owner"]["ID"] == "a" * 64
    assert _code(bob.put_object, Bucket="enforced-a", Key="k2", Body=b"v", ACL="public-read") == (
        400,
        "AccessControlListNotSupported",
    )


def test_multipart_uploads_show_their_initiator(alice: Any, bob: Any) -> None:
    alice.create_bucket(Bucket="uploads-a", ACL="public-read-write")
    alice.create_multipart_upload(Bucket="uploads-a", Key="one")
    bob.create_multipart_upload(Bucket="uploads-a", Key="two")
    uploads = alice.list_multipart_uploads(Bucket="uploads-a")["Uploads"]
    assert {u["Key"]: (u["Initiator"]["ID"], u["Owner"]["DisplayName"]) for u in uploads} == {
        "one": ("a" * 64, "alice"),
        "two": ("b" * 64, "bob"),
    }


def test_keys_not_in_the_file_are_the_default_account(alice: Any, cloud: ServicesProcess) -> None:
    other = aws_client("s3", cloud.url, keys=OTHER_KEYS)
    other.create_bucket(Bucket="default-bucket")
    listed = other.list_buckets()
    assert "default-bucket" in [b["Name"] for b in listed["Buckets"]]
    assert listed["Owner"]["DisplayName"] == "webfile"
    assert _code(alice.list_objects_v2, Bucket="default-bucket") == DENIED
    other.close()


def test_a_configured_key_with_the_wrong_secret_is_refused(cloud: ServicesProcess) -> None:
    forged = aws_client("s3", cloud.url, keys=("AKIAALICE", "guessed"))
    assert _code(forged.list_buckets) == (403, "SignatureDoesNotMatch")
    forged.close()
    sts = aws_client("sts", cloud.url, keys=("AKIABOB", "guessed"))
    assert _code(sts.get_caller_identity) == (403, "SignatureDoesNotMatch")
    sts.close()


def test_sts_get_caller_identity_answers_each_keys_principal(cloud: ServicesProcess) -> None:
    def whoami(keys: tuple[str, str]) -> tuple[str, str, str]:
        sts = aws_client("sts", cloud.url, keys=keys)
        found = sts.get_caller_identity()
        sts.close()
        return found["Account"], found["Arn"], found["UserId"]

    assert whoami(ALICE_KEYS) == ("111122223333", "arn:aws:iam::111122223333:root", "111122223333")
    account, arn, user_id = whoami(CAROL_KEYS)
    assert (account, arn) == ("444455556666", "arn:aws:iam::444455556666:user/carol")
    assert user_id.startswith("AIDA")
    assert whoami(OTHER_KEYS)[0] == "000000000000"


def test_owners_survive_a_restart_and_state_from_before_identities_is_the_default_accounts(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    before = ServicesProcess(state)  # no identities: one account, as always
    try:
        anyone = aws_client("s3", before.url, keys=("first", "x"))
        anyone.create_bucket(Bucket="old-bucket")
        anyone.put_object(Bucket="old-bucket", Key="k", Body=b"old")
        # Without identities every key is the same account.
        second = aws_client("s3", before.url, keys=("second", "y"))
        assert second.get_object(Bucket="old-bucket", Key="k")["Body"].read() == b"old"
    finally:
        before.stop()
    ids = _write_identities(tmp_path / "ids.json")
    after = ServicesProcess(state, env={"LAMBIC_IDENTITIES": str(ids)})
    try:
        alice = aws_client("s3", after.url, keys=ALICE_KEYS)
        alice.create_bucket(Bucket="alice-bucket")
        assert _code(alice.get_object, Bucket="old-bucket", Key="k") == DENIED
        default = aws_client("s3", after.url, keys=("unknown", "z"))
        assert default.get_object(Bucket="old-bucket", Key="k")["Body"].read() == b"old"
        owner = default.get_bucket_acl(Bucket="old-bucket")["Owner"]["DisplayName"]
        assert owner == "webfile"
    finally:
        after.stop()
    again = ServicesProcess(state, ["--identities", str(ids)])
    try:
        alice = aws_client("s3", again.url, keys=ALICE_KEYS)
        assert [b["Name"] for b in alice.list_buckets()["Buckets"]] == ["alice-bucket"]
    finally:
        again.stop()


def test_require_auth_with_identities_refuses_keys_not_in_the_file(tmp_path: Path) -> None:
    ids = _write_identities(tmp_path / "ids.json")
    running = ServicesProcess(None, ["--identities", str(ids), "--require-auth"])
    try:
        stranger = aws_client("s3", running.url, keys=OTHER_KEYS)
        assert _code(stranger.list_buckets) == (403, "InvalidAccessKeyId")
        dynamodb = aws_client("dynamodb", running.url, keys=OTHER_KEYS)
        assert _code(dynamodb.list_tables) == (400, "UnrecognizedClientException")
        alice = aws_client("s3", running.url, keys=ALICE_KEYS)
        assert alice.list_buckets()["Buckets"] == []
    finally:
        running.stop()


def test_configured_keys_verify_what_botocore_signs_in_every_shape(
    alice: Any, cloud: ServicesProcess
) -> None:
    alice.create_bucket(Bucket="shapes-a")

    def unicode_metadata(**kwargs: Any) -> None:
        kwargs["params"]["headers"]["x-amz-meta-note"] = "caf\xe9"

    alice.meta.events.register("before-call.s3.PutObject", unicode_metadata)
    alice.put_object(Bucket="shapes-a", Key="meta", Body=b"x")
    assert alice.head_object(Bucket="shapes-a", Key="meta")["Metadata"] == {"note": "caf\xe9"}
    alice.meta.events.unregister("before-call.s3.PutObject", unicode_metadata)

    def with_date(**kwargs: Any) -> None:
        # With a Date header botocore signs it instead of X-Amz-Date.
        kwargs["params"]["headers"]["Date"] = formatdate(usegmt=True)

    alice.meta.events.register("before-call.s3.PutObject", with_date)
    alice.put_object(Bucket="shapes-a", Key="dated", Body=b"y")
    alice.meta.events.unregister("before-call.s3.PutObject", with_date)
    # A CORS preflight is never authenticated, even at a presigned URL.
    url = alice.generate_presigned_url("get_object", Params={"Bucket": "shapes-a", "Key": "meta"})
    assert requests.options(url, timeout=10).status_code == 400  # no Origin: BadRequest
    assert requests.get(url, timeout=10).content == b"x"


def test_an_anonymous_upload_belongs_to_the_bucket_owner(
    alice: Any, cloud: ServicesProcess
) -> None:
    alice.create_bucket(Bucket="inbox-a", ACL="public-read-write")
    anonymous = boto3.client(
        "s3",
        endpoint_url=cloud.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 0}),
    )
    anonymous.put_object(Bucket="inbox-a", Key="dropped", Body=b"d")
    anonymous.close()
    assert alice.get_object(Bucket="inbox-a", Key="dropped")["Body"].read() == b"d"
    assert alice.get_object_acl(Bucket="inbox-a", Key="dropped")["Owner"]["ID"] == "a" * 64
    # A browser form without a policy is anonymous too.
    files = {"file": ("form.txt", b"posted")}
    posted = requests.post(
        f"{cloud.url}/inbox-a", data={"key": "form.txt"}, files=files, timeout=10
    )
    assert posted.status_code == 204
    assert alice.get_object(Bucket="inbox-a", Key="form.txt")["Body"].read() == b"posted"


def test_bucket_owner_enforced_refuses_every_canned_acl_but_bucket_owner_full_control(
    alice: Any,
) -> None:
    alice.create_bucket(Bucket="strict-a", ObjectOwnership="BucketOwnerEnforced")
    alice.put_object(Bucket="strict-a", Key="k", Body=b"v", ACL="bucket-owner-full-control")
    refused = (400, "AccessControlListNotSupported")
    assert _code(alice.put_object, Bucket="strict-a", Key="p", Body=b"v", ACL="private") == refused
    assert _code(alice.put_bucket_acl, Bucket="strict-a", ACL="private") == refused
    source = {"Bucket": "strict-a", "Key": "k"}
    copy = alice.copy_object
    assert _code(copy, Bucket="strict-a", Key="c", CopySource=source, ACL="private") == refused
    assert [o["Key"] for o in alice.list_objects_v2(Bucket="strict-a")["Contents"]] == ["k"]


def test_a_copy_belongs_to_the_account_that_copied_it(alice: Any, bob: Any) -> None:
    alice.create_bucket(Bucket="shared-src")
    alice.put_object(Bucket="shared-src", Key="doc", Body=b"shared", ACL="public-read")
    bob.create_bucket(Bucket="bob-copies")
    bob.copy_object(
        Bucket="bob-copies", Key="doc", CopySource={"Bucket": "shared-src", "Key": "doc"}
    )
    acl = bob.get_object_acl(Bucket="bob-copies", Key="doc")
    # Bob's, private: neither the source's owner nor its public grant came along.
    assert acl["Owner"]["ID"] == "b" * 64
    assert [(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]] == [
        ("b" * 64, "FULL_CONTROL")
    ]
    assert bob.get_object(Bucket="bob-copies", Key="doc")["Body"].read() == b"shared"
    assert _code(alice.get_object, Bucket="bob-copies", Key="doc") == DENIED
