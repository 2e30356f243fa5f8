"""Names of the generated pictures (thumbnails, large views), remembered per process.

imagekit names each generated file after a hash of its spec (processors, format, options) and its
source, computed with a pure-Python pickler: about a quarter of a millisecond per picture URL,
which a product list pays 72 times. A name never changes for a given spec and source, so it is
computed once, with imagekit's own namer (the files already stored keep their names).
"""

from django.core.files.storage import Storage
from django.db.models import Model
from imagekit.cachefiles import namers

MAX_REMEMBERED = 20_000  # about 3 MB; the whole set is dropped when full

_names: dict[tuple[type, str], str] = {}


def source_name_as_path(generator) -> str:
    source = getattr(generator.source, "name", None)
    if not source:
        return namers.source_name_as_path(generator)
    key = (type(generator), source)  # imagekit makes one spec class per image field
    name = _names.get(key)
    if name is None:
        if len(_names) >= MAX_REMEMBERED:
            _names.clear()
        name = _names[key] = namers.source_name_as_path(generator)
    return name


# (model, spec, source name) -> (storage, file name, URL when the storage's URLs do not expire)
_pictures: dict[tuple[type, str, str], tuple[Storage, str, str | None]] = {}


def picture_url(model: type[Model], spec: str, source_name: str) -> str:
    """The URL of the picture `spec` (an imagekit spec field of `model`) of the stored image
    `source_name`, as `instance.<spec>.url` gives it, without a model instance.

    Product lists read their pictures' names as plain values. The spec's file name is worked out
    once per picture, and so is its URL, unless the storage signs URLs for a limited time.
    """
    key = (model, spec, source_name)
    found = _pictures.get(key)
    if found is not None:
        storage, name, url = found
        return url or storage.url(name)
    if len(_pictures) >= MAX_REMEMBERED:
        _pictures.clear()
    source_field = vars(model)[spec].source_field_name
    picture = getattr(model(**{source_field: source_name}), spec)
    url = picture.url  # the first time through imagekit, which may make the file (its strategy)
    signed = getattr(picture.storage, "querystring_auth", False)
    _pictures[key] = (picture.storage, picture.name, None if signed else url)
    return url
