"""Create or update the Stripe webhook endpoint that sends the store its payment events.

    manage.py stripe_setup                          # at Stripe, for SITE_URL
    manage.py stripe_setup --base-url https://shop.example.com
    manage.py stripe_setup --secret whsec_...       # an endpoint made elsewhere (Stripe CLI)

The endpoint's URL is /stripe/webhook/<uuid>/ and its signing secret is kept on dj-stripe's
WebhookEndpoint row, where the webhook view reads it.
"""

from urllib.parse import urljoin
from uuid import uuid4

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from djstripe.models import Account, WebhookEndpoint
from djstripe.settings import djstripe_settings
from stripe import StripeError

from payments.webhooks import EVENTS


def endpoint_url(base_url: str, endpoint: WebhookEndpoint) -> str:
    path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid})
    return urljoin(base_url.rstrip("/") + "/", path.lstrip("/"))


class Command(BaseCommand):
    help = "Create or update the Stripe webhook endpoint of this store (see the README)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", default=settings.SITE_URL, help="Default: SITE_URL.")
        parser.add_argument(
            "--secret",
            default="",
            help="Record an endpoint created elsewhere with this signing secret (whsec_...), "
            "without calling Stripe.",
        )

    def handle(self, *args, base_url: str, secret: str, **options) -> None:
        api_key = djstripe_settings.STRIPE_SECRET_KEY
        livemode = djstripe_settings.STRIPE_LIVE_MODE
        if not api_key and not secret:
            raise CommandError("Set STRIPE_TEST_SECRET_KEY (or the live key) first.")
        prefix = urljoin(base_url.rstrip("/") + "/", "stripe/webhook/")
        endpoint = WebhookEndpoint.objects.filter(url__startswith=prefix, livemode=livemode).first()
        if secret:
            endpoint = self._record_local(endpoint, base_url, secret, livemode)
            verb = "Recorded"
        else:
            try:
                endpoint, verb = self._sync_with_stripe(endpoint, base_url, api_key)
            except StripeError as error:
                raise CommandError(f"Stripe refused: {error.user_message or error}") from error
        self.stdout.write(
            self.style.SUCCESS(f"{verb} the webhook endpoint {endpoint.url}")
            + f"\nEvents: {', '.join(EVENTS)}"
        )

    @transaction.atomic
    def _record_local(self, endpoint, base_url: str, secret: str, livemode: bool):
        if not secret.startswith("whsec_"):
            raise CommandError("A webhook signing secret starts with whsec_.")
        if endpoint is None:
            endpoint = WebhookEndpoint(
                id=f"we_local_{uuid4().hex[:24]}", livemode=livemode, enabled_events=list(EVENTS)
            )
        endpoint.url = endpoint_url(base_url, endpoint)
        endpoint.secret = secret
        endpoint.status = "enabled"
        endpoint.save()
        return endpoint

    def _sync_with_stripe(self, endpoint, base_url: str, api_key: str):
        import stripe

        Account.get_or_retrieve_for_api_key(api_key)
        if endpoint is not None and not endpoint.id.startswith("we_local_"):
            data = stripe.WebhookEndpoint.modify(
                endpoint.id, url=endpoint.url, enabled_events=list(EVENTS), api_key=api_key
            )
            data = {**data, "secret": endpoint.secret}
            verb = "Updated"
        else:
            endpoint = WebhookEndpoint(djstripe_uuid=uuid4())
            data = stripe.WebhookEndpoint.create(
                url=endpoint_url(base_url, endpoint),
                enabled_events=list(EVENTS),
                api_version=djstripe_settings.STRIPE_API_VERSION,
                metadata={"djstripe_uuid": str(endpoint.djstripe_uuid)},
                api_key=api_key,
            )
            verb = "Created"
        # The signing secret is only returned when the endpoint is created: keep it.
        endpoint = WebhookEndpoint.sync_from_stripe_data(data, api_key=api_key)
        return endpoint, verb
