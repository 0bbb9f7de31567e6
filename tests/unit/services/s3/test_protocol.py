"""S3's routing imports a handler module by the first request it serves: a bucket
created and listed loads no object, multipart, settings or ACL code; the first
PutObject loads the object handlers and is answered as before."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from lambic.services.s3 import _settings, protocol

PROBE = textwrap.dedent(
    """
    import json, sys
    from tests._support.clients import aws_client
    from lambic.services.s3 import create_service
    from lambic.services.server import EdgeServer

    LAZY = [
        "_acls", "_attributes", "_multipart", "_objects", "_protection", "_settings",
        "_tagging", "encryption", "lifecycle", "multipart_checksums", "object_lock", "post",
    ]

    def loaded():
        return [m for m in LAZY if f"lambic.services.s3.{m}" in sys.modules]

    service = create_service(None)
    server = EdgeServer({"s3": service}).start()
    s3 = aws_client("s3", server.url)
    report = {}
    try:
        s3.create_bucket(Bucket="site")
        s3.list_objects_v2(Bucket="site")
        report["bucket"] = loaded()
        s3.put_object(Bucket="site", Key="index.html", Body=b"<h1>hi</h1>")
        report["body"] = s3.get_object(Bucket="site", Key="index.html")["Body"].read().decode()
        report["object"] = loaded()
    finally:
        s3.close()
        server.stop()
        service.close()
    print(json.dumps(report))
    """
)


def test_handler_modules_load_with_the_first_request_they_serve() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])

    assert report["bucket"] == []
    assert report["body"] == "<h1>hi</h1>"
    assert "_objects" in report["object"]
    assert not {"_multipart", "_settings", "post"} & set(report["object"])


def test_every_bucket_setting_is_routed() -> None:
    assert list(protocol.SETTING_NAMES) == list(_settings.SETTINGS)
