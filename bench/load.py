"""The store under load: shoppers' pages and API reads against the bare endpoint of the same
server, buyers placing orders, queries per request and the memory of the web workers.

Set up like production, on loopback: PostgreSQL and Redis from DATABASE_URL and REDIS_URL, but a
database and a Redis database of the benchmark's own (`<name>_bench` and db 14 unless
BENCH_DATABASE_URL / BENCH_REDIS_URL say otherwise; the Redis database is flushed). The catalogue
is seeded with `seed_demo --reset --products N` when it does not have N products yet; buyer
accounts, a shipping method and a pool of variants with stock that never runs out are added.
The server is gunicorn with two workers and the production settings, with static files
collected, behind one (pretended) proxy: wrk names one of 10,000 client addresses in each
request's X-Forwarded-For and every buyer has its own, so per-client rate limits cost what they
cost for real shoppers. The rate limits themselves are lifted: buyers order far faster than people.

Reads are measured with wrk (one thread, `--connections`), each scenario for `--duration`
seconds after a discarded `--warmup` run of the same requests, each run going on through the
scenario's paths where the one before stopped: category pages, the product list API over the
same categories, product pages and the product API over ~200 products, and search pages over
~20 words. The bare endpoint `/health/live` of the same server answers without
touching the database or the cache, so its throughput is what the machine, the client and
gunicorn allow. Each scenario's seconds are split into `--rounds` runs, each followed by a bare
run as long (bare, A, bare, A, bare, A, bare, B, bare, ...): a run's ratio is its requests per
second over the mean of the two bare runs around it, and the scenario's ratio is the median of
its runs' ratios, so that the machine's own ups and downs (a shared machine's are large) weigh
as little as they can. The reads run with the page cache (the default, `warm`) and again with
PAGE_CACHE_SECONDS=0 (`off`), each pass on a restarted server. wrk counts the page cache's
answers (its X-Cache header, hit or miss) in every run.

A sale is when the cache matters most: shoppers read while others buy, and every order moves
stock. The `sale` pass reads category pages, the product list API and product pages over
~2,000 products (as shoppers spread over a real catalogue) with the page cache on, each path
requested once first, while a steady buyer in a thread of this process places an order every
half second on a fixed schedule (one or two variants of the pool, as the locust buyers do). The
`sellout` pass is the same sale with one more variant in every order, of a product whose page
and category are read, given as much stock as the buyer takes by about half-way through the
measured seconds: it sells out mid-way, a change shoppers see. The buyer orders it until the
store answers that it is sold out.

Buyers are locust users (bench/locustfile.py, from `.venv-bench`), each signed in with its own
account, adding one or two variants to the cart and placing the order with no pause; their
throughput is compared with the bare run just before. Query counts come from one request per
scenario through Django's test client in this process, with the same settings: cold (after the
cache is cleared) and warm (the same request again). Last, the resident memory of each gunicorn
worker after each pass.

Results print as a table, beside the targets, and are written to
`bench/results/<date>.json`.

    python -m bench.load [--duration S] [--rounds N] [--warmup S] [--connections N]
                         [--products N] [--buyers N] [--reseed]
"""

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WRK_SCRIPT = ROOT / "bench" / "wrk_report.lua"
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
LOCUST = ROOT / ".venv-bench" / "bin" / "locust"
# The server runs with the runtime set of packages only (requirements.txt), as in production:
# the test tools of .venv bring packages that the web process would import (aiohttp, ~13 MB).
SERVER_PYTHON = ROOT / ".venv-runtime" / "bin" / "python"

BARE = "/health/live"
LOGIN = "/api/v1/auth/login"
CART_ITEMS = "/api/v1/cart/items"
CART = "/api/v1/cart"
CHECKOUT = "/api/v1/checkout"
BENCH_REDIS_DB = 14
UNLIMITED_RATE = "1000000/s"
WORKERS = 2
BUYER_PASSWORD = "bench-buyer-pass-7391"
POOL_SIZE = 200
POOL_STOCK = 1_000_000
PRODUCT_SAMPLE = 200
SEARCH_WORDS = 20
SALE_PRODUCTS = 2_000
SALE_PASSES = ("sale", "sellout")
ORDER_INTERVAL_S = 0.5  # the steady buyer's pace during the sale: 2 orders a second
STEADY_BUYER_ADDRESS = "10.201.0.1"

# Targets (README: Benchmarks).
WARM_RATIO = 0.50
OFF_RATIO = 0.12
OFF_PRODUCT_PAGE_RATIO = 0.15
SALE_RATIO = 0.45
SALE_PRODUCT_PAGE_RATIO = 0.40
SALE_HIT_RATE = 0.95
READ_QUERIES = 6
PLACE_ORDER_P95_MS = 250
PLACE_ORDER_QUERIES = 30
WORKER_RSS_MB = 150


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    paths: list[str]
    # The least ratio to bare in each kind of pass with a target: "warm", "off", "sale".
    floors: dict[str, float] = field(default_factory=dict)
    # What the sale reads of it (None: not read during the sale).
    sale_paths: list[str] | None = None


@dataclass(frozen=True)
class Sellout:
    """The variant that sells out in the middle of the `sellout` pass, and where it shows."""

    variant: int
    sku: str
    product: str
    category: str


@dataclass(frozen=True)
class Fixtures:
    """What the load needs from the bench database."""

    categories: list[str]
    products: list[tuple[int, str]]
    sale_products: list[str]
    words: list[str]
    variants: list[int]
    shipping_method: int
    buyers: list[str]
    steady_buyer: str
    sellout: Sellout


def main() -> None:
    # A plain `kill` ends the run like Ctrl-C does: through the code that stops the server.
    signal.signal(signal.SIGTERM, _terminate)
    args = _arguments()
    _check_tools()
    env = _server_environment()
    # Logs and scratch files; kept when the run fails, for its messages to point at.
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    # Where collectstatic writes, for settings that read it (else ./staticfiles).
    env["STATIC_ROOT"] = str(workdir / "static")
    _redis_flush(env["REDIS_URL"])
    _database_create(env["DATABASE_URL"])
    os.environ.update(env)
    os.environ.pop("PAGE_CACHE_SECONDS", None)  # the store's default: cached
    import django

    django.setup()
    # The servers log every request; this process only needs to say what goes wrong.
    logging.disable(logging.INFO)

    fixtures = _prepare_store(args)
    _collect_static()
    scenarios = _scenarios(fixtures)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(env["REDIS_URL"]),
        "settings": _settings(args, scenarios, fixtures),
    }
    _log("Counting queries per request...")
    report["queries"] = _query_counts(scenarios, fixtures)
    report["passes"] = {"warm": _load_pass("warm", scenarios, fixtures, args, workdir)}
    for name in SALE_PASSES:
        report["passes"][name] = _sale_pass(name, scenarios, fixtures, args, workdir)
    report["passes"]["off"] = _load_pass("off", scenarios, fixtures, args, workdir)
    report["targets"] = _targets(report, scenarios)
    _print_table(report, scenarios)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWritten to {path.relative_to(ROOT)}")
    shutil.rmtree(workdir)


def _terminate(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds measured per scenario")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs a scenario's seconds are split into"
    )
    parser.add_argument("--warmup", type=int, default=5, help="seconds of the discarded run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--products", type=int, default=10_000, help="products in the catalogue")
    parser.add_argument("--buyers", type=int, default=20, help="concurrent locust users")
    parser.add_argument("--reseed", action="store_true", help="seed the catalogue again")
    return parser.parse_args()


def _check_tools() -> None:
    if not LOCUST.exists():
        raise SystemExit(
            f"{LOCUST.relative_to(ROOT)} is missing: `make bench-load` installs locust into "
            ".venv-bench (requirements-bench.txt)."
        )
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `apt-get install -y wrk`.")
    if not SERVER_PYTHON.exists():
        raise SystemExit(
            f"{SERVER_PYTHON.relative_to(ROOT)} is missing: `make bench-load` installs the "
            "runtime packages (requirements.txt) there for the server."
        )


def _settings(args: argparse.Namespace, scenarios: list[Scenario], fixtures: Fixtures) -> dict:
    return {
        "duration_s": args.duration,
        "rounds": args.rounds,
        "warmup_s": args.warmup,
        "connections": args.connections,
        "wrk_threads": 1,
        "gunicorn_workers": WORKERS,
        "products": args.products,
        "buyers": args.buyers,
        "paths": {s.key: len(s.paths) for s in scenarios},
        "variant_pool": len(fixtures.variants),
        "sale": {
            "paths": {s.key: len(s.sale_paths) for s in scenarios if s.sale_paths},
            "order_interval_s": ORDER_INTERVAL_S,
        },
    }


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Environment ----------------------------------------------------------------------------


def _server_environment() -> dict[str, str]:
    """The production settings on the bench database and Redis database, rate limits lifted."""
    database = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if urlsplit(database).scheme not in ("postgres", "postgresql", "pgsql") or not redis_url:
        raise SystemExit(
            "The load benchmark runs against PostgreSQL and Redis: set DATABASE_URL "
            "(postgres://...) and REDIS_URL (redis://...). It uses a database and a Redis "
            "database of its own, derived from them (or BENCH_DATABASE_URL, BENCH_REDIS_URL)."
        )
    bench_database = os.environ.get("BENCH_DATABASE_URL") or _with_path(
        database, urlsplit(database).path.rstrip("/") + "_bench"
    )
    bench_redis = os.environ.get("BENCH_REDIS_URL") or _with_path(redis_url, f"/{BENCH_REDIS_DB}")
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": bench_database,
        "REDIS_URL": bench_redis,
        "CELERY_BROKER_URL": bench_redis,
        "THROTTLE_AUTH": UNLIMITED_RATE,
        "THROTTLE_GENERAL": UNLIMITED_RATE,
        # As behind the platform's proxy: the load generators name each shopper's address.
        "NUM_PROXIES": "1",
    }


def _with_path(url: str, path: str) -> str:
    return urlsplit(url)._replace(path=path).geturl()


def _database_create(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = unquote(urlsplit(url).path.lstrip("/"))
    with psycopg.connect(_with_path(url, "/postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            _log(f"Creating the database {name}...")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _machine(redis_url: str) -> dict:
    import redis
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": postgres,
        "redis": redis.Redis.from_url(redis_url).info("server")["redis_version"],
    }


# --- The store: catalogue, buyers, stock ----------------------------------------------------


def _prepare_store(args) -> Fixtures:
    from django.core.cache import cache
    from django.core.management import call_command

    from catalog.models import Product

    _log("Migrating the bench database...")
    call_command("migrate", interactive=False, verbosity=0)
    if args.reseed or Product.objects.count() != args.products:
        _log(f"Seeding {args.products} products...")
        _orders_wipe()
        output = io.StringIO()
        call_command("seed_demo", reset=True, products=args.products, stdout=output)
        _log(output.getvalue().strip())
    categories = _category_slugs()
    sale_products = [slug for _, slug in _product_sample(SALE_PRODUCTS)]
    variants = _stock_pool()
    # One more buyer for the query counts, and one for the steady buyer of the sale.
    buyers = _buyer_accounts(args.buyers + 2)
    fixtures = Fixtures(
        categories=categories,
        products=_product_sample(PRODUCT_SAMPLE),
        sale_products=sale_products,
        words=_search_words(),
        variants=variants,
        shipping_method=_shipping_method(),
        buyers=buyers[:-1],
        steady_buyer=buyers[-1],
        sellout=_sellout_variant(sale_products, categories, variants),
    )
    _vacuum_analyze()
    cache.clear()
    return fixtures


def _vacuum_analyze() -> None:
    """Statistics and visibility maps as autovacuum leaves them on a production database at
    rest; right after a bulk load the planner would guess row counts and count by scanning."""
    from django.db import connection

    _log("VACUUM ANALYZE...")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _orders_wipe() -> None:
    """Orders and carts of earlier runs hold the variants that a reseed deletes."""
    from orders.models import CartItem, Order

    CartItem.objects.all().delete()
    Order.objects.all().delete()


def _category_slugs() -> list[str]:
    from catalog.models import Category

    return list(Category.objects.order_by("pk").values_list("slug", flat=True))


def _spread(items: list, count: int) -> list:
    """`count` items taken evenly over the list, so that the sample covers the whole catalogue."""
    step = max(1, len(items) // count)
    return items[::step][:count]


def _product_sample(count: int) -> list[tuple[int, str]]:
    from catalog.models import Product

    products = Product.objects.visible().order_by("pk").values_list("pk", "slug")
    return _spread(list(products), count)


def _search_words() -> list[str]:
    """The words found in the most product names."""
    from catalog.models import Product

    names = Product.objects.visible().values_list("name", flat=True)
    counts = Counter(word for name in names for word in set(re.findall(r"[a-z]{4,}", name.lower())))
    return [word for word, _ in counts.most_common(SEARCH_WORDS)]


def _stock_pool() -> list[int]:
    """Published, tracked physical variants, given stock enough for any run."""
    from catalog import services
    from catalog.models import Product, ProductVariant

    variants = ProductVariant.objects.filter(
        is_active=True,
        track_inventory=True,
        product__status=Product.Status.PUBLISHED,
        product__kind=Product.Kind.PHYSICAL,
    ).order_by("pk")
    pool = _spread(list(variants), POOL_SIZE)
    services.stock_adjust_many(
        variants=pool, mode="count", quantity=POOL_STOCK, note="Load benchmark stock"
    )
    return [variant.pk for variant in pool]


def _sellout_variant(products: list[str], categories: list[str], pool: list[int]) -> Sellout:
    """A variant that the steady buyer can sell out where shoppers see it: of a product whose
    page the sale reads, in a category it reads; published, physical, active, its stock tracked,
    and not one of the pool's (the locust buyers would take its stock)."""
    from catalog.models import Product, ProductVariant

    variant = (
        ProductVariant.objects.filter(
            is_active=True,
            track_inventory=True,
            product__status=Product.Status.PUBLISHED,
            product__kind=Product.Kind.PHYSICAL,
            product__slug__in=products,
            product__category__slug__in=categories,
        )
        .exclude(pk__in=pool)
        .select_related("product__category")
        .order_by("product_id", "pk")
        .first()
    )
    if variant is None:
        raise SystemExit("No variant to sell out among the sale's products: --reseed?")
    return Sellout(
        variant=variant.pk,
        sku=variant.sku,
        product=variant.product.slug,
        category=variant.product.category.slug,
    )


def _shipping_method() -> int:
    from orders.models import ShippingMethod

    method = ShippingMethod.objects.filter(is_active=True).first()
    if method is None:
        method = ShippingMethod.objects.create(
            name="Standard", code="standard", fee=Decimal("4.90"), free_above=Decimal("100.00")
        )
    return method.pk


def _buyer_accounts(count: int) -> list[str]:
    """Verified shoppers with the bench password, their carts empty."""
    from accounts.models import User
    from orders import services

    emails = [f"bench-buyer-{n:03d}@example.com" for n in range(1, count + 1)]
    for email in emails:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, BUYER_PASSWORD, full_name="Bench Buyer", is_verified=True
            )
        services.cart_clear(cart=services.cart_get_or_create(user=user))
    return emails


def _collect_static() -> None:
    from django.core.management import call_command

    _log("Collecting static files...")
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
    except Exception as error:  # whitenoise and Django raise several kinds
        raise SystemExit(f"collectstatic failed, as a deployment would: {error}") from error


def _scenarios(fixtures: Fixtures) -> list[Scenario]:
    """The reads; the sale reads the lists of the same categories, and product pages over many
    more products."""
    lists = {"warm": WARM_RATIO, "off": OFF_RATIO, "sale": SALE_RATIO}
    category_pages = [f"/shop/{c}/" for c in fixtures.categories]
    list_api = [f"/api/v1/products?page_size=24&category={c}" for c in fixtures.categories]
    return [
        Scenario(
            "category_page", "category page", category_pages, lists, sale_paths=category_pages
        ),
        Scenario("product_list_api", "product list API", list_api, lists, sale_paths=list_api),
        Scenario(
            "product_page",
            "product page",
            [f"/products/{s}/" for _, s in fixtures.products],
            floors={
                "warm": WARM_RATIO,
                "off": OFF_PRODUCT_PAGE_RATIO,
                "sale": SALE_PRODUCT_PAGE_RATIO,
            },
            sale_paths=[f"/products/{s}/" for s in fixtures.sale_products],
        ),
        Scenario(
            "product_api",
            "product API",
            [f"/api/v1/products/{pk}" for pk, _ in fixtures.products],
            floors={"warm": WARM_RATIO, "off": OFF_RATIO},
        ),
        Scenario("search_page", "search page", [f"/search/?q={word}" for word in fixtures.words]),
    ]


# --- Queries per request ----------------------------------------------------------------------


def _query_counts(scenarios: list[Scenario], fixtures: Fixtures) -> dict:
    """Cold (cache cleared) and warm (the same request again) counts, one request each."""
    from django.core.cache import cache
    from django.test import Client

    counts = {}
    for scenario in scenarios:
        path = scenario.paths[0]
        cache.clear()
        cold = _count(Client(), "get", path, 200)
        counts[scenario.key] = {
            "path": path,
            "cold": cold,
            "warm": _count(Client(), "get", path, 200),
        }

    client = Client()
    response = client.post(
        LOGIN,
        {"email": fixtures.buyers[-1], "password": BUYER_PASSWORD},
        content_type="application/json",
    )
    if response.status_code != 200:
        raise SystemExit(f"Signing in the query-count buyer failed: {response.content[:300]!r}")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access']}"}
    item = {"variant": fixtures.variants[0], "quantity": 1}
    from orders.tests.factories import ADDRESS  # the address the store's own tests ship to

    order = {"shipping_address": ADDRESS, "shipping_method": fixtures.shipping_method}

    def add() -> int:
        return _count(client, "post", CART_ITEMS, 201, item, **auth)

    def place() -> int:
        return _count(client, "post", CHECKOUT, 201, order, **auth)

    cache.clear()
    counts["add_to_cart"] = {"cold": add(), "warm": add()}
    cache.clear()
    cold = place()
    add()
    counts["place_order"] = {"cold": cold, "warm": place()}
    return counts


def _count(client, method: str, path: str, expected: int, data=None, **headers) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send = getattr(client, method)
    with CaptureQueriesContext(connection) as queries:
        if data is None:
            response = send(path, **headers)
        else:
            response = send(path, data, content_type="application/json", **headers)
    if response.status_code != expected:
        raise SystemExit(
            f"{method.upper()} {path} answered {response.status_code}, not {expected}: "
            f"{response.content[:300]!r}"
        )
    return len(queries)


# --- The server -------------------------------------------------------------------------------


class Server:
    """gunicorn as the Procfile starts it, on a free loopback port, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.command = [
            str(SERVER_PYTHON),
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--no-control-socket",
        ]

    def __enter__(self) -> "Server":
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Ctrl-C reaches this process only, which then stops gunicorn gracefully.
                start_new_session=True,
            )
        try:
            self._wait_live()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _wait_live(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + BARE, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer on {self.url}{BARE}; its log: {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # graceful: workers finish their request
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_rss_mb(self) -> list[float]:
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [_rss_mb(int(child)) for child in children]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    raise RuntimeError(f"no VmRSS for process {pid}")


# --- Load ---------------------------------------------------------------------------------------


def _load_pass(
    cache: str, scenarios: list[Scenario], fixtures: Fixtures, args, workdir: Path
) -> dict:
    """The reads (and the buyers, with the page cache on) on a fresh server."""
    with _fresh_server(cache, workdir, page_cache=cache != "off") as server:
        result = _reads(server, [(s, s.paths) for s in scenarios], args, workdir, time.monotonic())
        result["buyers"] = None
        if cache == "warm":
            bare_rps = result["bare"]["runs"][-1]["requests_per_s"]
            result["buyers"] = _buyers(server, fixtures, args, workdir, bare_rps)
            result["sequence"].append("buyers")
        result["worker_rss_mb"] = server.worker_rss_mb()
    return result


def _sale_pass(
    name: str, scenarios: list[Scenario], fixtures: Fixtures, args, workdir: Path
) -> dict:
    """The sale's reads while the steady buyer orders, on a fresh server whose page cache holds
    every path read; in the `sellout` pass the buyer also takes the sell-out variant, one unit an
    order, from a stock that lasts about half the measured seconds."""
    reads = [(s, s.sale_paths) for s in scenarios if s.sale_paths]
    sellout = fixtures.sellout if name == "sellout" else None
    if sellout is not None:
        stock = _sellout_stock(args, len(reads))
        _stock_set(sellout.variant, stock)
    with _fresh_server(name, workdir, page_cache=True) as server:
        _warm_cache(server, [path for _, paths in reads for path in paths], args.connections)
        with SteadyBuyer(server, fixtures, sellout) as buyer:
            result = _reads(server, reads, args, workdir, buyer.origin)
        result["steady_buyer"] = buyer.report()
        result["worker_rss_mb"] = server.worker_rss_mb()
    _log(
        f"  steady buyer: {buyer.counts['orders']} orders, {buyer.counts['failures']} failed, "
        f"{buyer.counts['missed_ticks']} ticks missed"
    )
    if sellout is not None:
        result["sellout"] = _sellout_report(sellout, stock, buyer, result)
    return result


def _fresh_server(name: str, workdir: Path, page_cache: bool) -> Server:
    """A server of its own for each pass, its cache (and Redis's) empty."""
    from django.core.cache import cache

    env = dict(os.environ) if page_cache else {**os.environ, "PAGE_CACHE_SECONDS": "0"}
    cache.clear()
    log = workdir / f"gunicorn-{name}.log"
    _log(f"\nPass {name}, page cache {'on' if page_cache else 'off'}: gunicorn log {log}")
    return Server(env, log)


def _reads(
    server: Server, reads: list[tuple[Scenario, list[str]]], args, workdir: Path, origin: float
) -> dict:
    """bare, A, bare, A, ..., B, bare, ...: each scenario's runs between bare runs; each measured
    run's start in `at_s`, the seconds since `origin`."""
    seconds = _run_seconds(args)
    bare_paths = _paths_file(workdir, "bare", [BARE])

    def measured(paths: Path, label: str, start: int = 0) -> dict:
        at = time.monotonic() - origin
        run = _wrk_measured(server, paths, label, seconds, args, workdir, start)
        run["at_s"] = round(at, 2)
        return run

    _wrk(server, bare_paths, args.warmup, args.connections, workdir)  # discarded
    bare = [measured(bare_paths, "bare")]
    sequence = ["bare"]
    results = {}
    for scenario, scenario_paths in reads:
        paths = _paths_file(workdir, scenario.key, scenario_paths)
        # Each run goes on through the paths where the one before stopped: together they read
        # all of them, however few requests each makes.
        start = _wrk(server, paths, args.warmup, args.connections, workdir)["requests"]  # discarded
        runs = []
        for _ in range(args.rounds):
            run = measured(paths, scenario.label, start)
            start += run["requests"]
            bare.append(measured(bare_paths, "bare"))
            around = statistics.mean(b["requests_per_s"] for b in bare[-2:])
            run["bare_requests_per_s"] = round(around, 2)
            run["ratio"] = round(run["requests_per_s"] / around, 3)
            runs.append(run)
            sequence += [scenario.label, "bare"]
        results[scenario.key] = _combined(runs)
    return {
        "sequence": sequence,
        "bare": {
            "requests_per_s": round(statistics.mean(r["requests_per_s"] for r in bare), 2),
            "runs": bare,
        },
        "scenarios": results,
    }


def _run_seconds(args) -> int:
    return max(1, round(args.duration / args.rounds))


def _warm_cache(server: Server, paths: list[str], connections: int) -> None:
    """Every path read once, as in a shop open for a while, before the measurement; several at
    a time, as one by one 2,000 product pages would take a minute."""
    _log(f"  warming the cache: {len(paths)} paths")

    def read(path: str) -> None:
        try:
            with urllib.request.urlopen(server.url + path, timeout=30) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise SystemExit(f"Warming the cache: {path} answered {error.code}") from error

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(read, paths))  # raises what a read raised


def _sellout_stock(args, scenario_count: int) -> int:
    """The units that the steady buyer, one an order, takes by half-way through the measured
    seconds: the reads' schedule until then (warm-ups, bare runs and all) at its pace."""
    seconds = _run_seconds(args)
    half = scenario_count * args.rounds * seconds / 2
    runs_before = int(half // seconds)  # measured runs over by then
    warmups = 1 + runs_before // args.rounds + 1  # the bare endpoint's and each scenario's
    elapsed = warmups * args.warmup + seconds + runs_before * 2 * seconds
    return round((elapsed + half - runs_before * seconds) / ORDER_INTERVAL_S)


def _stock_set(variant: int, stock: int) -> None:
    from catalog import services
    from catalog.models import ProductVariant

    services.stock_adjust_many(
        variants=ProductVariant.objects.filter(pk=variant),
        mode="count",
        quantity=stock,
        note="Load benchmark sell-out",
    )


def _sellout_report(sellout: Sellout, stock: int, buyer: "SteadyBuyer", result: dict) -> dict:
    """Whether the variant sold out, and when: its last unit's order, in seconds since the
    buyer started and as the share of the measured seconds over by then."""
    from catalog.models import ProductVariant

    runs = [run for scenario in result["scenarios"].values() for run in scenario["runs"]]
    last = buyer.last_unit_at_s
    report = {
        **asdict(sellout),
        "stock_given": stock,
        "units_ordered": buyer.counts["sellout_units"],
        "stock_at_end": ProductVariant.objects.get(pk=sellout.variant).stock,
        "last_unit_at_s": last,
        "measured_share_at_last_unit": None if last is None else _measured_share(runs, last),
        "sold_out_answers": buyer.counts["sold_out_answers"],
        "sold_out_answer_at_s": buyer.sold_out_at_s,
    }
    report["sold_out"] = report["stock_at_end"] == 0 and report["sold_out_answers"] > 0
    _log(
        f"  sell-out: {sellout.sku} given {stock}, {report['units_ordered']} ordered, "
        f"stock {report['stock_at_end']} at the end, last unit at {last} s "
        f"({report['measured_share_at_last_unit']} of the measured seconds), "
        f"sold-out answers {report['sold_out_answers']}"
    )
    return report


def _measured_share(runs: list[dict], at_s: float) -> float:
    """The share of the runs' measured seconds that were over at `at_s`."""
    over = sum(min(max(at_s - run["at_s"], 0), run["seconds"]) for run in runs)
    return round(over / sum(run["seconds"] for run in runs), 3)


class SteadyBuyer:
    """One shopper placing an order every ORDER_INTERVAL_S on a fixed schedule, in a thread of
    this process, from the sale's first read to its last: the stream of stock movements a sale
    brings to the page cache (the locust buyers, as fast as they can, are measured apart).

    Each order is one or two variants of the pool, as the locust buyers' are: added to the cart,
    then checked out. With a sell-out variant, one unit of it goes in every order too, until the
    store answers that it is sold out (409 on adding it to the cart); that answer is counted and
    the buyer orders from the pool only from then on. An order that fails is counted, with what
    the store answered, and empties the cart. A tick that comes while an order is under way is
    skipped and counted: the pace never rises above the schedule to catch up.
    """

    def __init__(self, server: Server, fixtures: Fixtures, sellout: Sellout | None) -> None:
        from orders.tests.factories import ADDRESS  # the address the store's own tests ship to

        self.url = server.url
        self.email = fixtures.steady_buyer
        self.pool = fixtures.variants
        self.sellout = sellout.variant if sellout is not None else None
        self.checkout = {"shipping_address": ADDRESS, "shipping_method": fixtures.shipping_method}
        self.headers = {"X-Forwarded-For": STEADY_BUYER_ADDRESS}
        self.counts = Counter(
            orders=0, failures=0, missed_ticks=0, sellout_units=0, sold_out_answers=0
        )
        self.failures: Counter = Counter()
        self.last_unit_at_s: float | None = None
        self.sold_out_at_s: float | None = None
        self.stop = threading.Event()

    def __enter__(self) -> "SteadyBuyer":
        status, body = self._send("POST", LOGIN, {"email": self.email, "password": BUYER_PASSWORD})
        if status != 200:
            raise SystemExit(f"The steady buyer could not sign in: {status} {body}")
        self.headers["Authorization"] = f"Bearer {body['access']}"
        self.origin = time.monotonic()
        self.thread = threading.Thread(target=self._run, name="steady-buyer", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join()
        self.seconds = time.monotonic() - self.origin

    def report(self) -> dict:
        return {
            "interval_s": ORDER_INTERVAL_S,
            "seconds": round(self.seconds, 3),
            "orders_per_s": round(self.counts["orders"] / self.seconds, 3),
            **self.counts,
            "failure_samples": [
                {"failure": failure, "occurrences": n}
                for failure, n in self.failures.most_common(5)
            ],
        }

    def _run(self) -> None:
        tick = 0
        while not self.stop.wait(max(0, tick * ORDER_INTERVAL_S - self._now())):
            try:
                self._order()
            except OSError as error:  # no answer: refused, reset, timed out
                self._failed(f"{type(error).__name__}: {error}")
            due = int(self._now() // ORDER_INTERVAL_S) + 1
            self.counts["missed_ticks"] += max(0, due - tick - 1)
            tick = max(tick + 1, due)

    def _now(self) -> float:
        return time.monotonic() - self.origin

    def _order(self) -> None:
        variants = random.sample(self.pool, random.choice((1, 2)))
        if self.sellout is not None and self.sold_out_at_s is None:
            variants.append(self.sellout)
        for variant in list(variants):
            status, body = self._send("POST", CART_ITEMS, {"variant": variant, "quantity": 1})
            if status == 201:
                continue
            if variant == self.sellout and _is_sold_out(status, body):
                self.counts["sold_out_answers"] += 1
                self.sold_out_at_s = round(self._now(), 2)
                variants.remove(variant)
                continue
            self._failed(f"add to cart: {status} {str(body)[:200]}")
            return
        status, body = self._send("POST", CHECKOUT, self.checkout)
        if status != 201:
            self._failed(f"place order: {status} {str(body)[:200]}")
            return
        self.counts["orders"] += 1
        if self.sellout in variants:
            self.counts["sellout_units"] += 1
            self.last_unit_at_s = round(self._now(), 2)

    def _failed(self, failure: str) -> None:
        self.counts["failures"] += 1
        self.failures[failure] += 1
        with contextlib.suppress(OSError):  # else the next order fails too, and says why
            self._send("DELETE", CART)

    def _send(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={**self.headers, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())


def _json(content: bytes) -> dict | None:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _is_sold_out(status: int, body: dict | None) -> bool:
    """The store's answer to adding a sold-out variant to the cart (bench/locustfile.py tells
    the same answers apart)."""
    return status == 409 and (body or {}).get("error", {}).get("code") == "insufficient_stock"


def _paths_file(workdir: Path, name: str, paths: list[str]) -> Path:
    path = workdir / f"paths-{name}.txt"
    path.write_text("\n".join(paths) + "\n")
    return path


def _wrk_measured(
    server: Server, paths: Path, label: str, seconds: int, args, workdir: Path, start: int
) -> dict:
    result = _wrk(server, paths, seconds, args.connections, workdir, start)
    result["run"] = label
    errors = sum(result["errors"].values())
    _log(
        f"  {label:<18}{result['requests_per_s']:>9.1f} req/s  "
        f"p95 {result['latency_ms']['p95']:.1f} ms  errors {errors}"
    )
    return result


PERCENTILES = ("p50", "p95", "p99")


def _combined(runs: list[dict]) -> dict:
    """A scenario's runs as one: requests, bytes, errors and the page cache's answers added up;
    its ratio, and each of its latency percentiles, the median of the runs' (the mean weighed by
    requests, the maximum the highest); every run kept under `runs`."""
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["seconds"] for run in runs)
    latencies = [run["latency_ms"] for run in runs]
    return {
        "requests": requests,
        "seconds": round(seconds, 3),
        "requests_per_s": round(requests / seconds, 2),
        "bytes": sum(run["bytes"] for run in runs),
        "errors": {kind: sum(run["errors"][kind] for run in runs) for kind in runs[0]["errors"]},
        "latency_ms": {
            **{p: round(statistics.median(ms[p] for ms in latencies), 3) for p in PERCENTILES},
            "mean": round(
                sum(run["latency_ms"]["mean"] * run["requests"] for run in runs) / max(requests, 1),
                3,
            ),
            "max": max(ms["max"] for ms in latencies),
        },
        "bare_requests_per_s": round(statistics.mean(r["bare_requests_per_s"] for r in runs), 2),
        "ratio": statistics.median(run["ratio"] for run in runs),
        "cache": _cache_answers(runs),
        "runs": runs,
    }


def _cache_answers(runs: list[dict]) -> dict:
    """The page cache's hits and misses over the runs, and the hit rate: None when no answer
    said (the store sends no X-Cache header, or its cache is off), not 0."""
    hits = sum(run["cache"]["hit"] for run in runs)
    misses = sum(run["cache"]["miss"] for run in runs)
    rate = round(hits / (hits + misses), 4) if hits + misses else None
    return {"hit": hits, "miss": misses, "hit_rate": rate}


def _wrk(
    server: Server, paths: Path, seconds: int, connections: int, workdir: Path, start: int = 0
) -> dict:
    """One run of wrk over `paths`, from the one after the `start`th (counted round the list)."""
    report = workdir / "wrk.json"
    report.unlink(missing_ok=True)
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--script",
        str(WRK_SCRIPT),
        server.url,
    ]
    env = {
        **os.environ,
        "WRK_PATHS": str(paths),
        "WRK_REPORT": str(report),
        "WRK_START": str(start),
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0 or not report.exists():
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return json.loads(report.read_text())


def _buyers(server: Server, fixtures: Fixtures, args, workdir: Path, bare_rps: float) -> dict:
    """Locust users buying with no pause; their own report covers the measured seconds only."""
    from orders.tests.factories import ADDRESS  # the address the store's own tests ship to

    report = workdir / "locust.json"
    config = workdir / "locust-config.json"
    config.write_text(
        json.dumps(
            {
                "emails": fixtures.buyers[: args.buyers],
                "password": BUYER_PASSWORD,
                "users": args.buyers,
                "variants": fixtures.variants,
                "shipping_method": fixtures.shipping_method,
                "address": ADDRESS,
                "warmup": args.warmup,
                "duration": args.duration,
                "report": str(report),
            }
        )
    )
    # A cap only: the locustfile stops the run once the measured seconds are over.
    limit = args.warmup + args.duration + 180
    command = [
        str(LOCUST),
        "--locustfile",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(args.buyers),
        "--spawn-rate",
        str(args.buyers),
        "--run-time",
        f"{limit}s",
        "--host",
        server.url,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    log = workdir / "locust.log"
    _log(f"  buyers: {args.buyers} locust users, log {log}")
    with log.open("w") as output:
        # Locust exits 1 when any request failed: the report says which.
        subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "BENCH_LOCUST_CONFIG": str(config)},
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=limit + 60,
        )
    if not report.exists():
        raise SystemExit(f"The buyers' run wrote no report; locust's log: {log}")
    result = json.loads(report.read_text())
    for name, row in result["requests"].items():
        row["ratio"] = round(row["requests_per_s"] / bare_rps, 3)
        _log(
            f"  {name:<18}{row['requests_per_s']:>9.1f} req/s  p95 {row['latency_ms']['p95']} ms  "
            f"errors {row['errors']}  sold out {row['sold_out']}"
        )
    result["bare_requests_per_s"] = bare_rps
    return result


# --- Targets and the table --------------------------------------------------------------------


def _targets(report: dict, scenarios: list[Scenario]) -> list[dict]:
    """Each target with the row of the table it belongs to, its value and whether it is met."""
    passes, queries = report["passes"], report["queries"]
    targets = []

    def add(row: str, name: str, measure: str, limit: str, value, met: bool) -> None:
        targets.append(
            {"row": row, "pass": name, "measure": measure, "target": limit, "value": value}
            | {"met": met}
        )

    for scenario in scenarios:
        for name, run in passes.items():
            floor = scenario.floors.get("sale" if name in SALE_PASSES else name)
            if floor is not None:
                ratio = run["scenarios"][scenario.key]["ratio"]
                add(scenario.label, name, "ratio", f">= {floor:.2f}", ratio, ratio >= floor)
            if name in SALE_PASSES and scenario.sale_paths:
                rate = run["scenarios"][scenario.key]["cache"]["hit_rate"]
                met = rate is not None and rate >= SALE_HIT_RATE
                add(scenario.label, name, "hit rate", f">= {SALE_HIT_RATE:.0%}", rate, met)
        cold = queries[scenario.key]["cold"]
        add(scenario.label, "warm", "queries", f"<= {READ_QUERIES}", cold, cold <= READ_QUERIES)

    buyers = passes["warm"]["buyers"]["requests"]
    p95 = buyers["place order"]["latency_ms"]["p95"]
    add("place order", "warm", "p95 ms", f"< {PLACE_ORDER_P95_MS}", p95, p95 < PLACE_ORDER_P95_MS)
    for name, row in buyers.items():
        add(name, "warm", "errors", "0", row["errors"], row["errors"] == 0)
    cold = queries["place_order"]["cold"]
    add(
        "place order",
        "warm",
        "queries",
        f"< {PLACE_ORDER_QUERIES}",
        cold,
        cold < PLACE_ORDER_QUERIES,
    )

    for name, run in passes.items():
        worst = max(run["worker_rss_mb"])
        add("gunicorn workers", name, "RSS MB", f"< {WORKER_RSS_MB}", worst, worst < WORKER_RSS_MB)
    return targets


COLUMNS = (
    ("scenario", "<18"),
    ("pass", "<8"),
    ("req/s", ">9"),
    ("p50 ms", ">8"),
    ("p95 ms", ">8"),
    ("p99 ms", ">8"),
    ("errors", ">8"),
    ("ratio", ">7"),
    ("hit rate", ">9"),
    ("queries", ">9"),
    ("  target", "<40"),
    ("met?", "<4"),
)


def _print_table(report: dict, scenarios: list[Scenario]) -> None:
    print()
    _print_row([name for name, _ in COLUMNS])
    passes, queries = report["passes"], report["queries"]
    for name, run in passes.items():
        bare = run["bare"]
        _print_row(["bare endpoint", name, f"{bare['requests_per_s']:.1f}", *[""] * 4, "1.00"])
    for scenario in scenarios:
        for name, run in passes.items():
            result = run["scenarios"].get(scenario.key)
            if result is None:  # not read during the sale
                continue
            latency = result["latency_ms"]
            counts = queries[scenario.key]
            cells = [
                scenario.label,
                name,
                f"{result['requests_per_s']:.1f}",
                *(f"{latency[p]:.1f}" for p in ("p50", "p95", "p99")),
                str(sum(result["errors"].values())),
                f"{result['ratio']:.2f}",
                "" if name == "off" else _percent(result["cache"]["hit_rate"]),
                f"{counts['cold']}/{counts['warm']}" if name == "warm" else "",
            ]
            _print_row(cells + _target_cells(report, scenario.label, name))
    buyers = passes["warm"]["buyers"]["requests"]
    for name, row in buyers.items():
        latency = row["latency_ms"]
        counts = queries[name.replace(" ", "_")]
        cells = [
            name,
            "warm",
            f"{row['requests_per_s']:.1f}",
            *(f"{latency[p]:.0f}" for p in ("p50", "p95", "p99")),
            str(row["errors"]),
            f"{row['ratio']:.2f}",
            "",
            f"{counts['cold']}/{counts['warm']}",
        ]
        _print_row(cells + _target_cells(report, name, "warm"))
    sold_out = ", ".join(f"{name} {row['sold_out']}" for name, row in buyers.items())
    print(f"\nSold out, not counted as errors: {sold_out}.")
    _print_cache_answers(passes, scenarios)
    _print_sale(report)
    rss = "; ".join(
        f"{name} pass " + ", ".join(f"{mb:.0f}" for mb in run["worker_rss_mb"]) + " MB"
        for name, run in passes.items()
    )
    print(f"gunicorn workers' RSS after each pass: {rss} (target < {WORKER_RSS_MB} MB each)")
    missed = [t for t in report["targets"] if not t["met"]]
    print(f"Targets met: {len(report['targets']) - len(missed)} of {len(report['targets'])}.")
    for t in missed:
        print(
            f"  missed: {t['row']}, pass {t['pass']}: {t['measure']} {t['value']} ({t['target']})"
        )


def _percent(rate: float | None) -> str:
    return "null" if rate is None else f"{rate:.1%}"


def _print_cache_answers(passes: dict, scenarios: list[Scenario]) -> None:
    """The hits and misses behind the hit rates of the table."""
    for name, run in passes.items():
        if name == "off":
            continue
        answers = ", ".join(
            f"{s.label} {result['cache']['hit']}/{result['cache']['miss']}"
            for s in scenarios
            if (result := run["scenarios"].get(s.key))
        )
        print(f"Page cache hits/misses over the measured runs, {name} pass: {answers}.")


def _print_sale(report: dict) -> None:
    """The steady buyer's orders and the sell-out."""
    settings, passes = report["settings"], report["passes"]
    steady = "; ".join(
        f"{name} pass {passes[name]['steady_buyer']['orders']} orders, "
        f"{passes[name]['steady_buyer']['failures']} failed, "
        f"{passes[name]['steady_buyer']['missed_ticks']} ticks missed"
        for name in SALE_PASSES
    )
    print(
        f"Sale: product pages over {settings['sale']['paths']['product_page']} products "
        f"(warm and off over {settings['paths']['product_page']}), one order every "
        f"{ORDER_INTERVAL_S} s: {steady}."
    )
    sellout = passes["sellout"]["sellout"]
    last = sellout["last_unit_at_s"]
    when = (
        "none"
        if last is None
        else f"the last at {last} s, {sellout['measured_share_at_last_unit']:.0%} of the "
        "measured seconds over"
    )
    print(
        f"Sell-out: {sellout['sku']} of {sellout['product']} (category {sellout['category']}), "
        f"{sellout['stock_given']} in stock, {sellout['units_ordered']} ordered ({when}); "
        f"stock {sellout['stock_at_end']} at the end, {sellout['sold_out_answers']} sold-out "
        f"answer after: {'sold out' if sellout['sold_out'] else 'did NOT sell out'}."
    )


def _target_cells(report: dict, row: str, name: str) -> list[str]:
    targets = [t for t in report["targets"] if t["row"] == row and t["pass"] == name]
    if not targets:
        return ["", ""]
    text = ", ".join(f"{t['measure']} {t['target']}" for t in targets)
    return [f"  {text}", "yes" if all(t["met"] for t in targets) else "NO"]


def _print_row(cells: list[str]) -> None:
    cells = cells + [""] * (len(COLUMNS) - len(cells))
    print(
        "".join(f"{cell:{align}}" for cell, (_, align) in zip(cells, COLUMNS, strict=True)).rstrip()
    )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s in all)", file=sys.stderr)
