"""Give the demo shop's digital products something to download, and one e-book to read online.

Only products without files get one, so running it again changes nothing.
"""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand

from catalog.models import Product
from downloads import services
from downloads.models import Chapter, DigitalAsset

EBOOK = "Bonsai for beginners"
CHAPTERS = [
    (
        "Choosing your first tree",
        "Start with a forgiving species: a Chinese elm, a ficus or a juniper. Look for a thick "
        "trunk that tapers, roots that spread, and branches low on the trunk.",
    ),
    (
        "Watering",
        "Water when the surface of the soil turns dry, never on a schedule. Water until it runs "
        "out of the drainage holes, wait a minute, then water again.",
    ),
    (
        "Light and seasons",
        "Outdoor species need their winter rest: keep them outside, sheltered from frost on the "
        "roots. Indoor species want the brightest window you have.",
    ),
    (
        "Pruning and wiring",
        "Prune to keep the shape, not to shrink the tree. Wire in autumn, check it every week, "
        "and take it off before it bites into the bark.",
    ),
]


def demo_file(product: Product) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", f"{product.name}\n\nThank you for your purchase!\n")
        archive.writestr("LICENSE.txt", "For your personal use.\n")
    name = f"{product.slug}.zip"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


class Command(BaseCommand):
    help = "Attach demo files to digital products that have none, and chapters to one e-book."

    def handle(self, *args, **options) -> None:
        products = Product.objects.filter(kind=Product.Kind.DIGITAL).exclude(
            pk__in=DigitalAsset.objects.values("product_id")
        )
        count = 0
        for product in products.order_by("pk")[:200]:
            services.asset_upload(
                product=product, upload=demo_file(product), title=f"{product.name} (ZIP)"
            )
            count += 1
        book = Product.objects.filter(name=EBOOK).first()
        if book is not None and not Chapter.objects.filter(product=book).exists():
            for position, (title, text) in enumerate(CHAPTERS, start=1):
                paragraphs = "\n\n".join(f"{text} ({n})" for n in range(1, 9))
                chapter = Chapter(product=book, title=title, position=position)
                chapter.body = f"## {title}\n\n{paragraphs}"
                services.chapter_save(chapter=chapter)
        self.stdout.write(f"Demo files attached to {count} digital products.")
