from decimal import Decimal

import factory

from catalog.models import Category, Product, ProductImage, ProductVariant, Tag


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag {n}")
    slug = factory.LazyAttribute(lambda o: o.name.replace(" ", "-"))


class ProductFactory(factory.django.DjangoModelFactory):
    """A published physical product. Add variants with VariantFactory (or `variants=N`)."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = factory.Faker("paragraph")
    category = factory.SubFactory(CategoryFactory)
    status = Product.Status.PUBLISHED

    @factory.post_generation
    def variants(self, create, count, **kwargs):
        """`ProductFactory(variants=2, variants__stock=5)` adds variants."""
        if create and count:
            VariantFactory.create_batch(count, product=self, **kwargs)

    @factory.post_generation
    def tags(self, create, names, **kwargs):
        if create and names:
            self.tags.set([TagFactory(name=name) for name in names])


class VariantFactory(factory.django.DjangoModelFactory):
    """A variant. Its `stock` is written directly: tests of the ledger go through the services."""

    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Option {n}")
    price = Decimal("19.90")
    stock = 10


class ProductImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    image = factory.django.ImageField(width=64, height=48, color="green", format="JPEG")
    alt_text = factory.LazyAttribute(lambda o: f"Photo of {o.product.name}")
