"""A real S3 API for the private storage: moto's server, started on loopback for the session,
with a fresh bucket per test. moto does not check signatures or expiry: tests assert those
properties on the presigned URL itself."""

import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.support import free_port

ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stderr.read().decode(errors="replace")[-2000:]
                pytest.fail(f"moto_server did not start on {url}:\n{output}")
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def s3_private(moto_url: str, settings):
    """The private storage on a fresh bucket of moto's S3, configured like R2 in production."""
    bucket = f"private-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "endpoint_url": moto_url,
                "region_name": "us-east-1",
                "signature_version": "s3v4",
                "addressing_style": "path",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": settings.DOWNLOAD_LINK_SECONDS,
                "file_overwrite": False,
                "custom_domain": None,
            },
        },
    }
    return client, bucket
