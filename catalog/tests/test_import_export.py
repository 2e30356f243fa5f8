"""The catalogue as CSV: export, edit, import back (through the admin and the resource)."""

import csv
import io
from decimal import Decimal

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.admin_forms import options_format, options_parse
from catalog.models import Product, ProductVariant, StockMovement
from catalog.resources import VariantResource
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db
Reason = StockMovement.Reason

IMPORT = reverse("admin:catalog_productvariant_import")
PROCESS_IMPORT = reverse("admin:catalog_productvariant_process_import")
EXPORT = reverse("admin:catalog_productvariant_export")
COLUMNS = list(VariantResource._meta.fields)


@pytest.fixture
def catalogue():
    """A bonsai with two sizes and a phone case, as staff would have them."""
    trees = CategoryFactory(name="Trees", slug="trees")
    CategoryFactory(name="Cases", slug="cases")
    maple = ProductFactory(
        name="Trident maple",
        slug="trident-maple",
        description="Hardy.",
        category=trees,
        is_featured=True,
        tags=["outdoor", "maple"],
    )
    VariantFactory(
        product=maple,
        sku="MAPLE-S",
        name="Small",
        options={"size": "S"},
        price=Decimal("30.00"),
        cost_price=Decimal("12.00"),
        stock=4,
        position=0,
    )
    VariantFactory(
        product=maple,
        sku="MAPLE-L",
        name="Large",
        options={"size": "L"},
        price=Decimal("80.00"),
        compare_at_price=Decimal("95.00"),
        stock=2,
        position=1,
    )
    return maple


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def csv_of(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def export_through_admin(client) -> str:
    data = {"format": "0", "resource": "0"}
    data.update({f"variantresource_{column}": "on" for column in COLUMNS})
    response = client.post(EXPORT, data)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return response.content.decode("utf-8-sig")


def import_through_admin(client, text: str):
    """The admin's two steps: upload (a dry run, shown for review), then confirm."""
    upload = SimpleUploadedFile("variants.csv", text.encode(), content_type="text/csv")
    preview = client.post(IMPORT, {"format": "0", "resource": "0", "import_file": upload})
    assert preview.status_code == 200
    return preview


def confirm(client, preview):
    form = preview.context["confirm_form"]
    return client.post(PROCESS_IMPORT, form.initial, follow=True)


def edited(exported: str) -> str:
    """The staff edit: a new price, a counted stock, and a new variant of a new product."""
    rows = rows_of(exported)
    by_sku = {row["sku"]: row for row in rows}
    by_sku["MAPLE-S"]["price"] = "32.50"
    by_sku["MAPLE-L"]["stock"] = "7"
    rows.append(
        {
            **dict.fromkeys(COLUMNS, ""),
            "product_slug": "iphone-case",
            "product_name": "Bamboo phone case",
            "kind": "physical",
            "status": "published",
            "category": "cases",
            "tags": "bamboo, gift",
            "featured": "no",
            "sku": "CASE-IP16",
            "variant_name": "iPhone 16",
            "options": "phone model=iPhone 16",
            "price": "24.00",
            "stock": "12",
            "track_inventory": "yes",
            "is_active": "1",
        }
    )
    return csv_of(rows)


def assert_edit_applied(user=None):
    small = ProductVariant.objects.get(sku="MAPLE-S")
    large = ProductVariant.objects.get(sku="MAPLE-L")
    case = ProductVariant.objects.select_related("product__category").get(sku="CASE-IP16")
    assert (small.price, small.stock) == (Decimal("32.50"), 4)
    assert (large.price, large.stock) == (Decimal("80.00"), 7)
    assert (case.price, case.stock, case.options) == (
        Decimal("24.00"),
        12,
        {"phone model": "iPhone 16"},
    )
    product = case.product
    assert (product.slug, product.name, product.status, product.category.slug) == (
        "iphone-case",
        "Bamboo phone case",
        "published",
        "cases",
    )
    assert sorted(product.tags.values_list("name", flat=True)) == ["bamboo", "gift"]
    # Stock moved only through the ledger: one count for each changed stock, nothing else.
    assert sorted(
        StockMovement.objects.values_list(
            "variant__sku", "delta", "quantity_after", "reason", "note"
        )
    ) == [
        ("CASE-IP16", 12, 12, Reason.CORRECTION, "CSV import"),
        ("MAPLE-L", 5, 7, Reason.CORRECTION, "CSV import"),
    ]
    if user is not None:
        assert set(StockMovement.objects.values_list("created_by", flat=True)) == {user.pk}


# --- Export -------------------------------------------------------------------------------------


def test_export_writes_one_row_per_variant_with_its_product(staff_client, catalogue):
    rows = rows_of(export_through_admin(staff_client))

    assert list(rows[0]) == COLUMNS
    assert [row["sku"] for row in rows] == ["MAPLE-S", "MAPLE-L"]
    small, large = rows
    assert small == {
        "product_slug": "trident-maple",
        "product_name": "Trident maple",
        "description": "Hardy.",
        "kind": "physical",
        "status": "published",
        "category": "trees",
        "tags": "maple, outdoor",
        "featured": "1",
        "sku": "MAPLE-S",
        "variant_name": "Small",
        "options": "size=S",
        "price": "30.00",
        "compare_at_price": "",
        "cost_price": "12.00",
        "currency": small["currency"],
        "stock": "4",
        "low_stock_threshold": "5",
        "track_inventory": "1",
        "is_active": "1",
    }
    assert small["currency"]
    assert (large["compare_at_price"], large["stock"]) == ("95.00", "2")


def test_export_follows_the_list_filters(staff_client, catalogue):
    VariantFactory(sku="OTHER-1", product=ProductFactory(status=Product.Status.DRAFT))

    data = {"format": "0", "resource": "0"}
    data.update({f"variantresource_{column}": "on" for column in COLUMNS})
    response = staff_client.post(EXPORT + "?product__status__exact=draft", data)

    assert [row["sku"] for row in rows_of(response.content.decode("utf-8-sig"))] == ["OTHER-1"]


# --- Round trip ---------------------------------------------------------------------------------


def test_csv_round_trip_through_the_admin(staff_client, staff, catalogue):
    text = edited(export_through_admin(staff_client))

    preview = import_through_admin(staff_client, text)

    # The preview is a dry run: it shows what would change and changes nothing.
    result = preview.context["result"]
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["update", "update", "new"]
    assert ProductVariant.objects.get(sku="MAPLE-S").price == Decimal("30.00")
    assert not ProductVariant.objects.filter(sku="CASE-IP16").exists()
    assert not Product.objects.filter(slug="iphone-case").exists()
    assert not StockMovement.objects.exists()

    done = confirm(staff_client, preview)

    assert done.status_code == 200
    assert done.redirect_chain[-1][0] == reverse("admin:catalog_productvariant_changelist")
    assert_edit_applied(user=staff)


def test_csv_round_trip_through_the_resource(catalogue):
    exported = VariantResource().export().csv

    result = VariantResource().import_data(tablib.Dataset().load(edited(exported), format="csv"))

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert_edit_applied()


def test_importing_the_unchanged_export_changes_nothing(catalogue):
    exported = VariantResource().export().csv

    result = VariantResource().import_data(tablib.Dataset().load(exported, format="csv"))

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert not StockMovement.objects.exists()
    assert list(ProductVariant.objects.order_by("sku").values_list("sku", "stock", "price")) == [
        ("MAPLE-L", 2, Decimal("80.00")),
        ("MAPLE-S", 4, Decimal("30.00")),
    ]


# --- Refused rows -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("price", "-1.00", "greater than or equal to 0"),
        ("price", "a lot", "not an amount"),
        ("category", "no-such-shelf", "No category has the slug"),
        ("stock", "three", "not a whole number"),
        ("stock", "-2", "cannot be negative"),
        ("status", "sold", "is not one of"),
        ("options", "colour", "name=value"),
        ("track_inventory", "maybe", "not yes/no"),
    ],
)
def test_one_bad_row_imports_nothing(catalogue, column, value, message):
    rows = rows_of(edited(VariantResource().export().csv))
    rows[-1][column] = value  # the new product's row; the two rows before it are fine

    result = VariantResource().import_data(tablib.Dataset().load(csv_of(rows), format="csv"))

    assert result.has_validation_errors()
    invalid = result.invalid_rows
    assert [row.number for row in invalid] == [3]
    assert message in str(invalid[0].error_dict)
    assert ProductVariant.objects.get(sku="MAPLE-S").price == Decimal("30.00")
    assert ProductVariant.objects.get(sku="MAPLE-L").stock == 2
    assert not ProductVariant.objects.filter(sku="CASE-IP16").exists()
    assert not Product.objects.filter(slug="iphone-case").exists()
    assert not StockMovement.objects.exists()


def test_admin_import_with_a_bad_row_shows_the_error_and_offers_no_confirmation(
    staff_client, catalogue
):
    rows = rows_of(edited(export_through_admin(staff_client)))
    rows[0]["price"] = "-5"

    preview = import_through_admin(staff_client, csv_of(rows))

    assert "confirm_form" not in preview.context
    assert preview.context["result"].has_validation_errors()
    assert b"greater than or equal to 0" in preview.content
    assert ProductVariant.objects.get(sku="MAPLE-S").price == Decimal("30.00")
    assert not ProductVariant.objects.filter(sku="CASE-IP16").exists()


def test_a_new_product_needs_a_name(catalogue):
    rows = [
        {**dict.fromkeys(COLUMNS, ""), "product_slug": "nameless", "sku": "N-1", "price": "1.00"}
    ]

    result = VariantResource().import_data(tablib.Dataset().load(csv_of(rows), format="csv"))

    assert "product_name" in result.invalid_rows[0].error_dict
    assert not Product.objects.filter(slug="nameless").exists()


def test_stock_of_an_untracked_variant_is_not_recorded(catalogue):
    rows = rows_of(VariantResource().export().csv)
    rows[0].update(track_inventory="0", stock="40")

    result = VariantResource().import_data(tablib.Dataset().load(csv_of(rows), format="csv"))

    assert not result.has_validation_errors()
    variant = ProductVariant.objects.get(sku="MAPLE-S")
    assert (variant.track_inventory, variant.stock) == (False, 4)
    assert not StockMovement.objects.exists()


def test_a_new_download_does_not_track_stock_unless_the_file_says_so(catalogue):
    base = {**dict.fromkeys(COLUMNS, ""), "product_slug": "pine-guide", "kind": "digital"}
    rows = [
        {**base, "product_name": "Pine guide", "sku": "GUIDE-PDF", "price": "9.00"},
        {**base, "sku": "GUIDE-BOX", "price": "19.00", "track_inventory": "1", "stock": "5"},
    ]

    result = VariantResource().import_data(tablib.Dataset().load(csv_of(rows), format="csv"))

    assert not result.has_validation_errors()
    tracked = dict(ProductVariant.objects.values_list("sku", "track_inventory"))
    assert tracked == {"MAPLE-S": True, "MAPLE-L": True, "GUIDE-PDF": False, "GUIDE-BOX": True}
    assert ProductVariant.objects.get(sku="GUIDE-BOX").stock == 5


# --- Options as text ----------------------------------------------------------------------------


def test_options_read_as_pairs_or_json_and_written_back_the_same():
    assert options_parse("phone model = iPhone 16; colour=black;") == {
        "phone model": "iPhone 16",
        "colour": "black",
    }
    assert options_parse('{"size": 3}') == {"size": 3}
    assert options_parse("  ") == {}
    assert options_format({"phone model": "iPhone 16"}) == "phone model=iPhone 16"
    assert options_format({"size": 3}) == '{"size": 3}'
    tricky = {"note": "a; b"}
    assert options_parse(options_format(tricky)) == tricky


def test_import_never_overwrites_stock_moved_while_it_ran(monkeypatch):
    """An order taking stock between reading the rows and saving them must not be undone."""
    from catalog import services
    from catalog.resources import VariantResource
    from catalog.tests.factories import VariantFactory

    variant = VariantFactory(sku="RACE-1", stock=10)
    resource = VariantResource()
    original = resource.import_instance

    def sell_two_meanwhile(instance, row, **kwargs):
        original(instance, row, **kwargs)
        services.stock_adjust(variant=variant.pk, delta=-2, reason="order_reserved")

    monkeypatch.setattr(resource, "import_instance", sell_two_meanwhile)
    rows = resource.export(queryset=type(variant).objects.filter(pk=variant.pk))
    rows.dict = [{**row, "price": "25.00", "stock": ""} for row in rows.dict]

    result = resource.import_data(rows, dry_run=False)

    assert not result.has_errors(), result.row_errors()
    variant.refresh_from_db()
    assert (variant.price, variant.stock) == (Decimal("25.00"), 8)
