"""Fake Stripe API for the tests: `python -m payments.tests.localstripe_runner PORT`.

localstripe's own entry point listens on every interface and keeps its state in
/tmp/localstripe.pickle, shared by all runs on the machine. Tests need a server that listens on
loopback only and starts empty, so this module starts its aiohttp app directly.

Webhook delivery differs from stock localstripe in two ways, both for deterministic tests:
- events are delivered one at a time, in the order they were created (stock localstripe posts
  every event concurrently, one second after it was created, so their order is random and a
  live server on in-memory SQLite would process two of them on one shared connection);
- an event goes to the endpoints registered when it was created, as on Stripe, so an event of an
  earlier test never reaches the endpoint of a later one. `DELETE /_config/webhooks` drops all
  registrations (stock localstripe only replaces them), and `GET /_config/webhooks/pending`
  answers how many events are still to be delivered, so a test can wait for its own events.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import sys
import time

import aiohttp
from aiohttp import web
from localstripe import resources, server, webhooks

HOST = "127.0.0.1"
# Like Stripe, deliver an event a moment after the API call that caused it has answered.
WEBHOOK_DELAY = 0.3

logger = logging.getLogger("localstripe_runner")
_queue: asyncio.Queue = asyncio.Queue()
_pending = 0
_worker: asyncio.Task | None = None


def _schedule_webhook(event: resources.Event) -> None:
    """Queue `event` for the endpoints registered now (replaces localstripe's fire-and-forget)."""
    global _pending
    targets = [
        (hook.url, hook.secret)
        for hook in webhooks._webhooks.values()
        if hook.events is None or event.type in hook.events
    ]
    if targets:
        _pending += 1
        _queue.put_nowait((time.monotonic() + WEBHOOK_DELAY, event, targets))


async def _deliver_forever(queue: asyncio.Queue) -> None:
    """Post queued events one by one; a failed delivery is logged, not retried."""
    global _pending
    # One connection per delivery: a kept-alive connection would hold a live-server request
    # thread (and its shared SQLite connection) open until localstripe exits.
    connector = aiohttp.TCPConnector(force_close=True)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        while True:
            due, event, targets = await queue.get()
            try:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                await _deliver(session, event, targets)
            except Exception:
                logger.exception("webhook %s could not be delivered", event.type)
            finally:
                _pending -= 1


async def _deliver(
    session: aiohttp.ClientSession, event: resources.Event, targets: list[tuple[str, str]]
) -> None:
    """Post `event` signed like Stripe: `Stripe-Signature: t=<now>,v1=<HMAC-SHA256(t.body)>`."""
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
    for url, secret in targets:
        timestamp = int(time.time())
        signature = hmac.new(
            secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256
        ).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={timestamp},v1={signature}",
        }
        try:
            async with session.post(url, data=payload, headers=headers) as response:
                logger.info("webhook %s -> %s: %s", event.type, url, response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("webhook %s -> %s failed: %s", event.type, url, exc)


async def _start_worker(app: web.Application) -> None:
    global _worker
    _worker = asyncio.create_task(_deliver_forever(_queue))


async def _forget_webhooks(request: web.Request) -> web.Response:
    webhooks._webhooks.clear()
    return web.Response()


async def _pending_webhooks(request: web.Request) -> web.Response:
    return web.json_response({"pending": _pending})


def main(argv: list[str]) -> None:
    """Serve localstripe on 127.0.0.1:PORT until killed, without touching the disk."""
    if len(argv) != 1 or not argv[0].isdigit():
        sys.exit("usage: python -m payments.tests.localstripe_runner PORT")
    port = int(argv[0])
    # State lives in memory only: no pickle written, none loaded from an earlier run.
    resources.Store.dump_to_disk = lambda self: None
    resources.store.clear()
    resources.schedule_webhook = _schedule_webhook
    server.app.on_startup.append(_start_worker)
    server.app.router.add_delete("/_config/webhooks", _forget_webhooks)
    server.app.router.add_get("/_config/webhooks/pending", _pending_webhooks)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    web.run_app(server.app, host=HOST, port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(sys.argv[1:])
