"""The private storage of sold files, and how a buyer gets one: a presigned URL on R2/S3, or a
short Django-signed link that streams the file from a local folder."""

from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import reverse
from django.utils.functional import LazyObject, empty
from django.utils.http import content_disposition_header

FILE_LINK_SALT = "downloads.file"


def private_storage() -> Storage:
    return storages["private"]


class _PrivateFiles(LazyObject):
    """The private storage for model file fields, looked up on first use (a field keeps its
    storage object for good, so it must not be resolved when the models load)."""

    def _setup(self) -> None:
        self._wrapped = storages["private"]


PRIVATE_FILES = _PrivateFiles()


def private_files() -> Storage:
    """`storage=` of FileFields whose files are private."""
    return PRIVATE_FILES


@receiver(setting_changed)
def _forget_private_files(*, setting: str, **kwargs) -> None:
    if setting == "STORAGES":
        PRIVATE_FILES._wrapped = empty


def is_object_storage(storage: Storage) -> bool:
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def private_file_url(
    name: str, *, filename: str, content_type: str, local_url: Callable[[], str]
) -> str:
    """A link to a private file that works for DOWNLOAD_LINK_SECONDS (at most 5 minutes) and
    saves it as `filename`: presigned on R2/S3; on a local folder, `local_url()` (a signed link
    to a view that streams the file)."""
    storage = private_storage()
    if is_object_storage(storage):
        return storage.url(
            name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(
                    as_attachment=True, filename=filename
                ),
                "ResponseContentType": content_type,
            },
            expire=settings.DOWNLOAD_LINK_SECONDS,
        )
    return local_url()


def download_url(*, asset, event_id: int) -> str:
    """Where the browser fetches a bought file."""
    return private_file_url(
        asset.file_name,
        filename=asset.filename,
        content_type=asset.content_type,
        local_url=lambda: reverse(
            "downloads:file", args=[signing.dumps({"event": event_id}, salt=FILE_LINK_SALT)]
        ),
    )


def read_file_link(token: str, salt: str) -> dict | None:
    """The payload of a signed file link made with `salt`, while it is valid (at most
    DOWNLOAD_LINK_SECONDS old)."""
    try:
        data = signing.loads(token, salt=salt, max_age=settings.DOWNLOAD_LINK_SECONDS)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) else None


def event_id_from_link(token: str) -> int | None:
    data = read_file_link(token, FILE_LINK_SALT)
    return data.get("event") if data else None
