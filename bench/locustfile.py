"""Buyers of `python -m bench.load`: each signs in with its own account, then adds one or two
variants to its cart and places the order, again and again, with no pause between requests.

bench/load.py runs it (with the locust of `.venv-bench`) and names a JSON file in
BENCH_LOCUST_CONFIG: the buyers' emails and password, the variants to buy, the shipping method
and address, the warm-up and measured seconds, and where to write the report. The statistics
are reset once every buyer has signed in and the warm-up has passed, and the report covers
exactly the measured seconds; then the run stops by itself.

A sold-out answer (409 `insufficient_stock`, or `cart_has_problems` whose lines all sold out)
is what a shop under load gives, not a failure: it is counted apart, and the cart is emptied
so that the next round starts afresh.
"""

import itertools
import json
import os
import random
import time
from collections import Counter
from pathlib import Path

import gevent
from gevent.event import Event
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

if "BENCH_LOCUST_CONFIG" not in os.environ:
    raise SystemExit("Run the buyers through `python -m bench.load`, which configures them.")
CONFIG = json.loads(Path(os.environ["BENCH_LOCUST_CONFIG"]).read_text())

LOGIN = "/api/v1/auth/login"
CART = "/api/v1/cart"
CART_ITEMS = "/api/v1/cart/items"
CHECKOUT = "/api/v1/checkout"
NAMES = ("add to cart", "place order")
SOLD_OUT_PROBLEMS = {"sold_out", "insufficient_stock"}
# How long the measurement waits for every buyer to sign in (passwords are slow to check).
SIGN_IN_SECONDS = 120

_accounts = itertools.count()
_signed_in = {"settled": 0, "ok": 0}
_all_signed_in = Event()
_sold_out: Counter = Counter()


class Buyer(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        number = next(_accounts)
        email = CONFIG["emails"][number % len(CONFIG["emails"])]
        # Each buyer is a shopper of its own address, named to the server as its proxy would.
        self.headers = {"X-Forwarded-For": f"10.200.{number // 256 % 256}.{number % 256}"}
        token = self._sign_in(email)
        _signed_in["settled"] += 1
        _signed_in["ok"] += token is not None
        if _signed_in["settled"] >= CONFIG["users"]:
            _all_signed_in.set()
        if token is None:
            raise StopUser()
        self.headers["Authorization"] = f"Bearer {token}"

    def _sign_in(self, email: str) -> str | None:
        body = {"email": email, "password": CONFIG["password"]}
        with self.client.post(
            LOGIN, json=body, headers=self.headers, name="sign in", catch_response=True
        ) as response:
            if response.status_code == 200:
                return response.json()["access"]
            response.failure(f"sign in as {email}: {response.status_code} {response.text[:200]}")
        return None

    @task
    def buy(self) -> None:
        for variant in random.sample(CONFIG["variants"], random.choice((1, 2))):
            if not self._post(CART_ITEMS, {"variant": variant, "quantity": 1}, "add to cart"):
                self._empty_cart()
                return
        checkout = {
            "shipping_address": CONFIG["address"],
            "shipping_method": CONFIG["shipping_method"],
        }
        if not self._post(CHECKOUT, checkout, "place order"):
            self._empty_cart()

    def _post(self, path: str, body: dict, name: str) -> bool:
        """True when the request did what it asked (201); a sold-out answer is not a failure."""
        with self.client.post(
            path, json=body, headers=self.headers, name=name, catch_response=True
        ) as response:
            if response.status_code == 201:
                return True
            if _is_sold_out(response):
                _sold_out[name] += 1
                response.success()
            else:
                response.failure(f"{response.status_code} {(response.text or '')[:200]}")
        return False

    def _empty_cart(self) -> None:
        self.client.delete(CART, headers=self.headers, name="empty cart")


def _is_sold_out(response) -> bool:
    if response.status_code != 409:
        return False
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    if error.get("code") == "insufficient_stock":
        return True
    lines = error.get("lines") or []
    return (
        error.get("code") == "cart_has_problems"
        and bool(lines)
        and all(line.get("problem") in SOLD_OUT_PROBLEMS for line in lines)
    )


@events.test_start.add_listener
def _on_test_start(environment, **_kwargs) -> None:
    gevent.spawn(_measure, environment)


def _measure(environment) -> None:
    """Wait for the sign-ins and the warm-up, measure for the set time, report, stop."""
    _all_signed_in.wait(timeout=SIGN_IN_SECONDS)
    gevent.sleep(CONFIG["warmup"])
    environment.stats.reset_all()
    _sold_out.clear()
    started = time.monotonic()
    gevent.sleep(CONFIG["duration"])
    seconds = time.monotonic() - started
    report = _report(environment.stats, seconds)
    Path(CONFIG["report"]).write_text(json.dumps(report, indent=2) + "\n")
    environment.runner.quit()


def _report(stats, seconds: float) -> dict:
    requests = {}
    for name in NAMES:
        entry = stats.get(name, "POST")
        requests[name] = {
            "requests": entry.num_requests,
            "requests_per_s": round(entry.num_requests / seconds, 2),
            "errors": entry.num_failures,
            "sold_out": _sold_out[name],
            "latency_ms": {
                "p50": entry.get_response_time_percentile(0.50),
                "p95": entry.get_response_time_percentile(0.95),
                "p99": entry.get_response_time_percentile(0.99),
                "mean": round(entry.avg_response_time, 2),
                "max": entry.max_response_time,
            },
        }
    errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)
    return {
        "seconds": round(seconds, 3),
        "users": CONFIG["users"],
        "signed_in": _signed_in["ok"],
        "requests": requests,
        "emptied_carts": stats.get("empty cart", "DELETE").num_requests,
        "error_samples": [
            {"name": e.name, "error": str(e.error), "occurrences": e.occurrences}
            for e in errors[:5]
        ],
    }
