"""Checking uploaded photos before a job is made: how many, how big, and what they really are.

The type is read from the file's content (Pillow, with pillow-heif for the HEIC files phones
make), never from its name or the browser's word. Images larger than PIPELINE_MAX_PIXELS are
refused before they are decoded, which defuses decompression bombs.
"""

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

from pipeline.exceptions import PhotosRefused

pillow_heif.register_heif_opener()

# Pillow's format name -> the content type stored with the photo.
ACCEPTED = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # what some phones' JPEGs are (a JPEG with extra frames)
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
}
KINDS = "JPEG, PNG, WebP or HEIC"


@dataclass(frozen=True)
class CheckedPhoto:
    upload: UploadedFile
    name: str
    content_type: str
    size: int
    width: int
    height: int


def check_photos(uploads: Sequence[UploadedFile]) -> list[CheckedPhoto]:
    """The photos of one job, each identified, or PhotosRefused naming every bad file."""
    count = len(uploads)
    low, high = settings.PIPELINE_MIN_PHOTOS, settings.PIPELINE_MAX_PHOTOS
    if not low <= count <= high:
        raise PhotosRefused(
            f"Upload {low} to {high} photos: {count} received. A model needs photos taken all "
            "around the object, each overlapping the next.",
            code="photo_count",
            fields={"photos": [f"{count} photos: between {low} and {high} are needed."]},
        )

    per_file = settings.PIPELINE_MAX_PHOTO_MB * 1024 * 1024
    per_job = settings.PIPELINE_MAX_JOB_MB * 1024 * 1024
    total = sum(upload.size or 0 for upload in uploads)
    if total > per_job:
        raise PhotosRefused(
            f"The photos add up to {total / 1024 / 1024:.0f} MB; a job takes at most "
            f"{settings.PIPELINE_MAX_JOB_MB} MB. Upload fewer or smaller photos.",
            code="photos_too_large",
            fields={"photos": [f"At most {settings.PIPELINE_MAX_JOB_MB} MB in all."]},
        )

    checked, problems = [], []
    for upload in uploads:
        name = upload.name or "photo"
        if (upload.size or 0) > per_file:
            problems.append(f"{name}: larger than {settings.PIPELINE_MAX_PHOTO_MB} MB.")
            continue
        try:
            checked.append(_identify(upload, name))
        except ValueError as problem:
            problems.append(f"{name}: {problem}")
    if problems:
        raise PhotosRefused(
            "Some files cannot be used: " + " ".join(problems),
            code="invalid_photos",
            fields={"photos": problems},
        )
    return checked


def _identify(upload: UploadedFile, name: str) -> CheckedPhoto:
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than fails) between MAX_IMAGE_PIXELS and twice that.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                kind, (width, height) = image.format, image.size
                if kind not in ACCEPTED:
                    raise ValueError(f"a {kind} image; send {KINDS} photos.")
                if width * height > settings.PIPELINE_MAX_PIXELS:
                    raise ValueError(
                        f"{width}x{height} pixels is more than the "
                        f"{settings.PIPELINE_MAX_PIXELS // 1_000_000} megapixels accepted."
                    )
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(f"not a {KINDS} image, or a damaged or oversized one.") from None
    except (OSError, SyntaxError) as error:
        raise ValueError(f"a damaged image ({error}).") from None
    finally:
        upload.seek(0)
    return CheckedPhoto(
        upload=upload,
        name=name,
        content_type=ACCEPTED[kind],
        size=upload.size or 0,
        width=width,
        height=height,
    )
