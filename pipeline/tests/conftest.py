"""Photos for upload tests, made with Pillow at test time, and the users the pipeline serves."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.tests.factories import UserFactory
from downloads.tests.conftest import moto_url, s3_private  # noqa: F401  (S3 fixtures)
from pipeline.models import CaptureJob


def image_bytes(fmt: str = "JPEG", size=(64, 48), seed: int = 0, **options) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    if fmt == "HEIF":
        pillow_heif.from_pillow(Image.fromarray(pixels)).save(buffer, quality=80)
    else:
        Image.fromarray(pixels).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def photo(name: str = "IMG_0001.jpg", fmt: str = "JPEG", seed: int = 0, **options):
    content_types = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
    return SimpleUploadedFile(
        name,
        image_bytes(fmt, seed=seed, **options),
        content_type=content_types.get(fmt, "application/octet-stream"),
    )


def photos(count: int, **kwargs) -> list[SimpleUploadedFile]:
    return [photo(f"IMG_{n:04d}.jpg", seed=n, **kwargs) for n in range(1, count + 1)]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels in a few bytes: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def files_from(paths: list[Path]) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")
        for path in paths
    ]


@pytest.fixture(scope="session")
def twelve_photos(tmp_path_factory) -> list[Path]:
    """Twelve 640x480 photos of a textured object from an orbit of known camera poses."""
    from pipeline import synthetic

    return synthetic.make_photos(
        tmp_path_factory.mktemp("orbit"), count=12, size=(640, 480), seed=7
    )


@pytest.fixture
def pipeline_user():
    """Not staff, but given the permission to run 3D captures."""
    user = UserFactory(email="photographer@example.com")
    user.user_permissions.add(Permission.objects.get(codename="run_pipeline"))
    return user


@pytest.fixture
def succeeded_job(staff):
    """A job with results on the private storage, as a finished run leaves it."""
    job = CaptureJob.objects.create(
        created_by=staff,
        max_side=1600,
        status=CaptureJob.Status.SUCCEEDED,
        stage=CaptureJob.Stage.EXPORT,
        percent=100,
        photo_count=12,
        registered=12,
        points=3500,
    )
    job.model_file.save("model.glb", io.BytesIO(b"glTF-binary-model"), save=False)
    job.point_cloud.save("points.ply", io.BytesIO(b"ply\nformat ascii 1.0\n"), save=False)
    job.preview.save("preview.png", io.BytesIO(image_bytes("PNG")), save=False)
    job.save()
    return job
