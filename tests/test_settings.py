"""Production settings refuse to start unsafe and pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "Zy8-Qw3_Lp0vNx7Rt5Us2Mb9Hc4Gd1Fe6Ja"


def run_prod(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.prod", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"ALLOWED_HOSTS": "shop.example.com"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": "shop.example.com", "SECRET_KEY": "short"}, "SECRET_KEY"),
        (
            {"ALLOWED_HOSTS": "shop.example.com", "SECRET_KEY": "django-insecure-" + "x" * 60},
            "SECRET_KEY",
        ),
        ({"SECRET_KEY": GOOD_KEY}, "ALLOWED_HOSTS"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "shop.example.com", "DEBUG": "1"}, "DEBUG"),
    ],
)
def test_production_refuses_to_start_unsafe(env, complaint):
    result = run_prod("check", **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_production_passes_the_deployment_checks_without_warnings():
    result = run_prod(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="shop.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_plans_a_query_run_often_once(settings):
    from django.db import connection

    from catalog.models import Product

    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    for _ in range(threshold + 1):
        Product.objects.filter(slug="a-tree").exists()

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any(
        'FROM "catalog_product" WHERE "catalog_product"."slug" = $' in text for text in prepared
    ), prepared


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "True 5"), ({"DATABASE_PREPARE_THRESHOLD": "0"}, "None None")],
)
def test_prepared_statements_can_be_turned_off_for_a_pooler(env, expected):
    result = run_prod(
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; "
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="shop.example.com",
        DATABASE_URL="postgres://shop@db.example.com:5432/store",
        **env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()
