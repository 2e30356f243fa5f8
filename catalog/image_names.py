"""Names of the generated pictures (thumbnails, large views), remembered per process.

imagekit names each generated file after a hash of its spec (processors, format, options) and its
source, computed with a pure-Python pickler: about a quarter of a millisecond per picture URL,
which a product list pays 72 times. A name never changes for a given spec and source, so it is
computed once, with imagekit's own namer (the files already stored keep their names).
"""

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
