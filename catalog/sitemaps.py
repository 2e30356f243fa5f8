"""The shop's pages for search engines: /sitemap.xml (split into pages by the framework)."""

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet

from catalog.models import Category, Product


class ProductSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self) -> QuerySet[Product]:
        return Product.objects.visible().only("slug", "updated_at").order_by("pk")

    def lastmod(self, product: Product):
        return product.updated_at


class CategorySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self) -> QuerySet[Category]:
        return Category.objects.only("slug").order_by("pk")


SITEMAPS = {"products": ProductSitemap, "categories": CategorySitemap}
