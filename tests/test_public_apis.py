"""The apps stay on the public APIs of Django and its libraries: private machinery (the SQL
compiler and its converters, building model instances from rows by hand, overriding a
library's copying) breaks silently on an upgrade or a model change."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ["accounts", "catalog", "config", "downloads", "orders", "payments", "pipeline"]
# `Model.from_db()` is internal; `refresh_from_db()` is public.
INTERNALS = re.compile(
    r"SQLCompiler|get_converters|apply_converters|get_col\(|(?<!refresh_)from_db\("
    r"|set_cached_value|__deepcopy__"
)


def app_sources() -> list[Path]:
    return [
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]


def test_no_app_module_reaches_into_internals():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in app_sources()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if INTERNALS.search(line)
    ]

    assert len(app_sources()) > 50  # the apps were found
    assert found == []
