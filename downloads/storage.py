"""The private storage of sold files, and how a buyer gets one: a presigned URL on R2/S3, or a
short Django-signed link that streams the file from a local folder."""

from django.conf import settings
from django.core import signing
from django.core.files.storage import Storage, storages
from django.urls import reverse
from django.utils.http import content_disposition_header

FILE_LINK_SALT = "downloads.file"


def private_storage() -> Storage:
    return storages["private"]


def is_object_storage(storage: Storage) -> bool:
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def download_url(*, asset, event_id: int) -> str:
    """Where the browser fetches the file, valid for DOWNLOAD_LINK_SECONDS (at most 5 minutes)
    and saved under the asset's name."""
    storage = private_storage()
    seconds = settings.DOWNLOAD_LINK_SECONDS
    if is_object_storage(storage):
        return storage.url(
            asset.file_name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(
                    as_attachment=True, filename=asset.filename
                ),
                "ResponseContentType": asset.content_type,
            },
            expire=seconds,
        )
    token = signing.dumps({"event": event_id}, salt=FILE_LINK_SALT)
    return reverse("downloads:file", args=[token])


def event_id_from_link(token: str) -> int | None:
    try:
        data = signing.loads(token, salt=FILE_LINK_SALT, max_age=settings.DOWNLOAD_LINK_SECONDS)
    except signing.BadSignature:
        return None
    return data.get("event") if isinstance(data, dict) else None
