"""Fill the catalogue with demo products (only when it is empty, unless told otherwise)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import ProtectedError

from catalog import demo


class Command(BaseCommand):
    help = (
        "Create a demo catalogue: categories, tags, bonsai trees, tools, phone cases and "
        "downloads, with pictures and stock. Does nothing when the catalogue has products, "
        "unless --force or --reset."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--products",
            type=int,
            default=None,
            metavar="N",
            help="How many products in total: the hand-written ones first, then generated ones "
            "(default: only the hand-written ones, about 40).",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed: the same seed, the same catalogue."
        )
        parser.add_argument(
            "--pictures",
            type=int,
            default=demo.DEFAULT_PICTURES,
            metavar="N",
            help="How many distinct pictures the products share, at least one per kind of "
            "product (default: %(default)s).",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only an empty catalogue (the default; lets scripts say so).",
        )
        mode.add_argument(
            "--force", action="store_true", help="Add the demo products even if there are some."
        )
        mode.add_argument(
            "--reset",
            action="store_true",
            help="Delete the whole catalogue (not the users) first, then seed.",
        )

    def handle(self, *args, products, seed, pictures, force, reset, **options) -> None:
        if products is not None and products < 1:
            raise CommandError("--products must be at least 1.")
        if pictures < 1:
            raise CommandError("--pictures must be at least 1.")
        if not (force or reset) and not demo.catalog_is_empty():
            self.stdout.write(
                "The catalogue already has products: skipped "
                "(--force adds the demo products anyway, --reset starts over)."
            )
            return
        try:
            result = demo.demo_catalog_seed(
                products=products, seed=seed, pictures=pictures, reset=reset
            )
        except ProtectedError as error:
            raise CommandError(
                "Cannot reset the catalogue: orders still refer to its products."
            ) from error
        self.stdout.write(self.style.SUCCESS(f"Demo catalogue: {result}."))
