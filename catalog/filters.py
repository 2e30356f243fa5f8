"""Product filters shared by the API and the shop pages (django-filter)."""

import copy
import functools

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


class ProductFilterForm(forms.Form):
    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The highest price must not be below the lowest.")
        return data


class _SharedFilters(dict):
    """A filterset's filters, copied for each request one level deep: django-filter copies them
    all the way down (their choices, lookups and labels), 4% of the work of a shop list page.
    Each copy still gets the filterset it serves; nothing else in them changes."""

    def __deepcopy__(self, memo) -> dict:
        return {name: self._copy(filter_) for name, filter_ in self.items()}

    @staticmethod
    def _copy(filter_: django_filters.Filter) -> django_filters.Filter:
        copied = copy.copy(filter_)
        if filter_.method is not None:
            copied.method = filter_.method  # a filter by method calls it through the copy
        return copied


class _SharedFields(dict):
    """A filter form's fields, shared by every request's form: Django copies them all the way
    down for each form (their widgets, choices, validators and messages) in case a form changes
    them, which this one never does."""

    def __deepcopy__(self, memo) -> dict:
        return dict(self)


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

    @classmethod
    @functools.cache
    def _form_class(cls) -> type[forms.Form]:
        fields = {name: filter_.field for name, filter_ in copy.deepcopy(cls.base_filters).items()}
        form_class = type(f"{cls.__name__}Form", (cls._meta.form,), fields)
        form_class.base_fields = _SharedFields(form_class.base_fields)
        return form_class

    def get_form_class(self) -> type[forms.Form]:
        # django-filter builds a new form class for every request; these filters never change,
        # so one class serves them all (about 0.3 ms of every product list).
        return self._form_class()

    def filter_q(self, products: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.filter_search(products, value)

    def filter_category(self, products: QuerySet, name: str, value: str) -> QuerySet:
        ids = selectors.category_ids_under(value)
        return products.none() if ids is None else products.filter(category_id__in=ids)

    def filter_min_price(self, products, name, value):
        return selectors.filter_price(products, low=value)

    def filter_max_price(self, products, name, value):
        return selectors.filter_price(products, high=value)

    def filter_in_stock(self, products, name, value):
        return selectors.filter_in_stock(products, value)

    def filter_ordering(self, products, name, value):
        return products  # applied last, in `qs`, so that it sees the search relevance

    def browse_order(self, besides: tuple[str, ...] = ()) -> list[str] | None:
        """The sort order, as product fields, of a valid list that no filter narrows (search
        words, kind, tag, price, stock, featured) other than `besides`, and that sorts by
        columns: such a list can be read as `selectors.BrowseRows`. None for any other."""
        if not self.form.is_valid():
            return None
        data = self.form.cleaned_data
        if any(
            data.get(name) not in (None, "")
            for name in self.filters
            if name != "ordering" and name not in besides
        ):
            return None
        order_by = ORDERINGS[self.sort_order()][1]
        return order_by if selectors.BrowseRows.can_order_by(order_by) else None

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


ProductFilter.base_filters = _SharedFilters(ProductFilter.base_filters)
