"""Product filters shared by the API and the shop pages (django-filter)."""

import django_filters
from django import forms
from django.db.models import F, QuerySet

from catalog import selectors
from catalog.models import Product

ORDERINGS = {
    "relevance": ("Best match", ["-relevance", "-created_at", "-pk"]),
    "newest": ("Newest", ["-created_at", "-pk"]),
    "price": ("Price, low to high", [F("min_price").asc(nulls_last=True), "pk"]),
    "-price": ("Price, high to low", [F("min_price").desc(nulls_last=True), "pk"]),
    "name": ("Name, A–Z", ["name", "pk"]),
    "-name": ("Name, Z–A", ["-name", "-pk"]),
}


# The form class of each filter set (see `ProductFilter.get_form_class`).
_FORM_CLASSES: dict[type, type[forms.Form]] = {}


class ProductFilterForm(forms.Form):
    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The highest price must not be below the lowest.")
        return data


class ProductFilter(django_filters.FilterSet):
    """Filters of the product list (shop pages and API), with its sort orders."""

    q = django_filters.CharFilter(method="filter_q", label="Search", max_length=200)
    category = django_filters.CharFilter(
        method="filter_category", label="Category slug (includes its sub-categories)"
    )
    kind = django_filters.ChoiceFilter(choices=Product.Kind.choices)
    tag = django_filters.CharFilter(field_name="tags__slug", label="Tag slug")
    min_price = django_filters.NumberFilter(method="filter_min_price", min_value=0)
    max_price = django_filters.NumberFilter(method="filter_max_price", min_value=0)
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")
    featured = django_filters.BooleanFilter(field_name="is_featured")
    ordering = django_filters.ChoiceFilter(
        method="filter_ordering",
        choices=[(key, label) for key, (label, _) in ORDERINGS.items()],
        empty_label=None,
    )

    class Meta:
        model = Product
        form = ProductFilterForm
        fields = ["q", "category", "kind", "tag", "min_price", "max_price", "in_stock", "featured"]

    def get_form_class(self) -> type[forms.Form]:
        """One form class for every request: django-filter would build the same class anew for
        each (a third of the filters' cost on a product list), from fields that never change."""
        form_class = _FORM_CLASSES.get(type(self))
        if form_class is None:
            form_class = _FORM_CLASSES[type(self)] = super().get_form_class()
        return form_class

    def filter_q(self, products: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.filter_search(products, value)

    def filter_category(self, products: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.filter_category(products, value)

    def filter_min_price(self, products, name, value):
        return selectors.filter_price(products, low=value)

    def filter_max_price(self, products, name, value):
        return selectors.filter_price(products, high=value)

    def filter_in_stock(self, products, name, value):
        return selectors.filter_in_stock(products, value)

    def filter_ordering(self, products, name, value):
        return products  # applied last, in `qs`, so that it sees the search relevance

    def sort_order(self) -> str:
        """The sort order asked for (a key of ORDERINGS), else best match for a search and
        newest otherwise."""
        valid = self.form.is_valid()
        searched = valid and self.form.cleaned_data.get("q")
        choice = (self.form.cleaned_data.get("ordering") if valid else None) or (
            "relevance" if searched else "newest"
        )
        return "newest" if choice == "relevance" and not searched else choice

    @property
    def qs(self) -> QuerySet:
        products = super().qs
        choice = self.sort_order()  # best match only with search words, which annotate it
        if choice in ("price", "-price"):
            products = selectors.with_min_price(products)
        return products.order_by(*ORDERINGS[choice][1])
