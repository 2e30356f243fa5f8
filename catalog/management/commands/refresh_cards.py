"""Work out every product's card again (`catalog.cards`), e.g. after the rules they follow
changed. Cards follow every change by themselves: this is never needed day to day."""

from django.core.management.base import BaseCommand

from catalog import cards, invalidation


class Command(BaseCommand):
    help = "Work out every product's card (what lists show of it) again."

    def handle(self, *args, **options) -> None:
        cards.refresh_all()
        invalidation.everything_changed()
        self.stdout.write("Every product's card was worked out again.")
