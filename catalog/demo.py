"""A believable demo catalogue: a category tree, tags, products of every kind, pictures, stock.

`demo_catalog_seed` writes a few dozen hand-written products, then as many generated variations
as asked for. Everything is built in memory and written with `bulk_create` in one transaction, so
ten thousand products take seconds, not minutes. Because bulk inserts bypass `save()`:
- initial stock is written to the ledger here (one restock row per stocked variant), and
- imagekit's thumbnails, normally made when an image is saved, are generated here, once per
  distinct picture: products share a small pool of generated pictures, referenced by name.
"""

import io
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Model
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFilter

from catalog import invalidation
from catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductModel3D,
    ProductVariant,
    StockMovement,
    Tag,
)

PHYSICAL = Product.Kind.PHYSICAL
DIGITAL = Product.Kind.DIGITAL
PUBLISHED = Product.Status.PUBLISHED
DRAFT = Product.Status.DRAFT

LEDGER_NOTE = "Demo data"
DEFAULT_PICTURES = 24
PICTURE_SIZE = 800
BATCH_SIZE = 500

# --- What the shop sells -------------------------------------------------------------------------

# (name, slug, description, children)
CATEGORY_TREE = (
    (
        "Bonsai trees",
        "bonsai-trees",
        "Living trees, grown and styled in our nursery, shipped in their training pots.",
        (
            ("Junipers", "junipers", "Hardy evergreens for outdoors, the classic bonsai tree."),
            ("Maples", "maples", "Deciduous trees with spring flush and autumn colour."),
            ("Ficus", "ficus", "Forgiving indoor trees: the best start for beginners."),
        ),
    ),
    (
        "Tools",
        "tools",
        "Cutters, wire, soil and pots: everything a tree needs besides patience.",
        (
            ("Shears", "shears", "Scissors and cutters for branches, leaves and roots."),
            ("Wire", "wire", "Aluminium and copper training wire in every gauge."),
            ("Soil & pots", "soil-and-pots", "Free-draining substrates and handmade pots."),
        ),
    ),
    (
        "Phone cases",
        "phone-cases",
        "Cases printed with our nursery's patterns, one fit for every phone model.",
        (
            ("iPhone cases", "iphone-cases", "Cases for Apple iPhone, from the 13 to the 16."),
            ("Galaxy cases", "galaxy-cases", "Cases for Samsung Galaxy S and A phones."),
            ("Pixel cases", "pixel-cases", "Cases for Google Pixel phones."),
        ),
    ),
    (
        "Digital downloads",
        "digital-downloads",
        "Guides, e-books and wallpapers, downloaded right after payment.",
        (
            ("Guides", "guides", "Illustrated care guides and e-books."),
            ("Wallpapers", "wallpapers", "Photographs of our trees for desktop and phone."),
        ),
    ),
)

# brand: (category slug, label, [(model, SKU code), ...])
PHONE_MODELS = {
    "apple": (
        "iphone-cases",
        "iPhone",
        [
            ("iPhone 13", "IP13"),
            ("iPhone 14", "IP14"),
            ("iPhone 14 Plus", "IP14PL"),
            ("iPhone 14 Pro", "IP14P"),
            ("iPhone 15", "IP15"),
            ("iPhone 15 Plus", "IP15PL"),
            ("iPhone 15 Pro", "IP15P"),
            ("iPhone 15 Pro Max", "IP15PM"),
            ("iPhone 16", "IP16"),
            ("iPhone 16 Plus", "IP16PL"),
            ("iPhone 16 Pro", "IP16P"),
            ("iPhone 16 Pro Max", "IP16PM"),
        ],
    ),
    "samsung": (
        "galaxy-cases",
        "Galaxy",
        [
            ("Galaxy S23", "GS23"),
            ("Galaxy S23+", "GS23PL"),
            ("Galaxy S23 Ultra", "GS23U"),
            ("Galaxy S24", "GS24"),
            ("Galaxy S24+", "GS24PL"),
            ("Galaxy S24 Ultra", "GS24U"),
            ("Galaxy S25", "GS25"),
            ("Galaxy S25 Ultra", "GS25U"),
            ("Galaxy A55", "GA55"),
        ],
    ),
    "google": (
        "pixel-cases",
        "Pixel",
        [
            ("Pixel 8", "PX8"),
            ("Pixel 8 Pro", "PX8P"),
            ("Pixel 8a", "PX8A"),
            ("Pixel 9", "PX9"),
            ("Pixel 9 Pro", "PX9P"),
            ("Pixel 9 Pro XL", "PX9PXL"),
            ("Pixel 9a", "PX9A"),
        ],
    ),
}
PHONE_OPTION = "phone model"


@dataclass
class VariantSpec:
    sku: str
    price: Decimal
    stock: int = 0
    name: str = ""
    options: dict = field(default_factory=dict)
    compare_at_price: Decimal | None = None
    cost_price: Decimal | None = None
    track_inventory: bool = True
    weight_grams: int | None = None
    low_stock_threshold: int = 5


@dataclass
class ProductSpec:
    name: str
    category: str  # slug of a leaf of CATEGORY_TREE
    picture: str  # which kind of picture: "bonsai", "tool", "case" or "download"
    description: str
    variants: list[VariantSpec]
    kind: str = PHYSICAL
    tags: tuple[str, ...] = ()
    status: str = PUBLISHED
    is_featured: bool = False
    seo_title: str = ""
    seo_description: str = ""


def _d(value: str | int) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _tree(name, category, sku, price, stock, description, *, tags=(), weight=1500, **extra):
    compare_at = extra.pop("compare_at", None)
    return ProductSpec(
        name=name,
        category=category,
        picture="bonsai",
        description=description,
        variants=[
            VariantSpec(
                sku=sku,
                price=_d(price),
                stock=stock,
                compare_at_price=_d(compare_at) if compare_at else None,
                cost_price=(_d(price) * Decimal("0.45")).quantize(Decimal("0.01")),
                weight_grams=weight,
                low_stock_threshold=1,
            )
        ],
        tags=tags,
        **extra,
    )


def _tool(name, category, description, sizes, *, option="size", tags=(), **extra):
    """`sizes` is [(label, SKU, price, stock, grams), ...]; one entry means no visible choice."""
    variants = [
        VariantSpec(
            sku=sku,
            name=label if len(sizes) > 1 else "",
            options={option: label} if len(sizes) > 1 else {},
            price=_d(price),
            stock=stock,
            cost_price=(_d(price) * Decimal("0.5")).quantize(Decimal("0.01")),
            weight_grams=grams,
        )
        for label, sku, price, stock, grams in sizes
    ]
    return ProductSpec(
        name=name,
        category=category,
        picture="tool",
        description=description,
        variants=variants,
        tags=tags,
        **extra,
    )


def _case(rng, name, brand, design, price, description, *, tags=(), compare_at=None, **extra):
    category, _, models = PHONE_MODELS[brand]
    variants = [
        VariantSpec(
            sku=f"CASE-{design}-{code}",
            name=model,
            options={PHONE_OPTION: model},
            price=_d(price),
            compare_at_price=_d(compare_at) if compare_at else None,
            cost_price=_d(6),
            stock=rng.choice((0, 3, 8, 12, 20, 25, 40)),
            weight_grams=35,
            low_stock_threshold=3,
        )
        for model, code in models
    ]
    return ProductSpec(
        name=name,
        category=category,
        picture="case",
        description=description,
        variants=variants,
        tags=tags,
        **extra,
    )


def _download(name, category, description, formats, *, tags=(), **extra):
    """`formats` is [(label, SKU, price), ...]. Downloads never run out: no inventory."""
    variants = [
        VariantSpec(
            sku=sku,
            name=label if len(formats) > 1 else "",
            options={"format": label} if len(formats) > 1 else {},
            price=_d(price),
            track_inventory=False,
        )
        for label, sku, price in formats
    ]
    return ProductSpec(
        name=name,
        category=category,
        picture="download",
        description=description,
        variants=variants,
        kind=DIGITAL,
        tags=tags,
        **extra,
    )


def handwritten_products(rng: random.Random) -> list[ProductSpec]:
    """The shop's own products, kinds interleaved so that a small catalogue still has them all."""
    trees = [
        _tree(
            "Shimpaku juniper bonsai",
            "junipers",
            "BON-JUN-SHIMPAKU",
            "129.00",
            3,
            "A twelve-year-old Shimpaku with a twisting trunk and natural deadwood. Lives "
            "outdoors all year; water when the topsoil dries.",
            tags=("juniper", "evergreen", "outdoor"),
            is_featured=True,
            seo_title="Shimpaku juniper bonsai, 12 years",
            seo_description="A twelve-year-old Shimpaku juniper bonsai with natural deadwood, "
            "grown in our nursery and shipped in its training pot.",
        ),
        _tree(
            "Chinese juniper – cascade style",
            "junipers",
            "BON-JUN-CASCADE",
            "189.00",
            1,
            "Trained over eight years to spill over the rim of its deep glazed pot. "
            "A statement tree for a shelf or a wall.",
            tags=("juniper", "evergreen", "outdoor", "specimen"),
            weight=2800,
        ),
        _tree(
            "Procumbens nana juniper",
            "junipers",
            "BON-JUN-NANA",
            "59.00",
            6,
            "Dense, low-growing foliage pads and a thick base: a forgiving first juniper.",
            tags=("juniper", "evergreen", "outdoor", "beginner friendly"),
            compare_at="69.00",
        ),
        _tree(
            "Needle juniper (Juniperus rigida)",
            "junipers",
            "BON-JUN-RIGIDA",
            "245.00",
            0,
            "Sharp, bright green needles on a trunk with a long live vein. Sold out until "
            "the spring repotting season.",
            tags=("juniper", "evergreen", "outdoor", "specimen"),
            weight=3200,
        ),
        _tree(
            "Japanese maple 'Deshojo'",
            "maples",
            "BON-MAP-DESHOJO",
            "149.00",
            2,
            "Its spring leaves open crimson, turn green in summer and flame again in autumn.",
            tags=("maple", "deciduous", "outdoor"),
            is_featured=True,
        ),
        _tree(
            "Trident maple, informal upright",
            "maples",
            "BON-MAP-TRIDENT",
            "95.00",
            4,
            "Strong surface roots and a tapering trunk, with three-lobed leaves that reduce "
            "well with pruning.",
            tags=("maple", "deciduous", "outdoor"),
        ),
        _tree(
            "Acer palmatum 'Kiyohime'",
            "maples",
            "BON-MAP-KIYOHIME",
            "79.00",
            5,
            "A naturally dwarf maple with a broom-like crown of fine twigs.",
            tags=("maple", "deciduous", "outdoor", "beginner friendly"),
        ),
        _tree(
            "Field maple forest planting",
            "maples",
            "BON-MAP-FOREST",
            "215.00",
            1,
            "Seven field maples on a slab of stone: a small woodland for the balcony.",
            tags=("maple", "deciduous", "outdoor", "specimen"),
            weight=6500,
            status=DRAFT,
        ),
        _tree(
            "Ficus retusa 'Ginseng'",
            "ficus",
            "BON-FIC-GINSENG",
            "39.00",
            12,
            "The friendliest bonsai: a thick, root-like trunk and glossy leaves. Keeps well "
            "indoors by a bright window.",
            tags=("ficus", "indoor", "beginner friendly", "gift idea"),
            is_featured=True,
            compare_at="45.00",
        ),
        _tree(
            "Ficus microcarpa – S-curve",
            "ficus",
            "BON-FIC-SCURVE",
            "55.00",
            7,
            "A classic S-shaped trunk with aerial roots starting to form.",
            tags=("ficus", "indoor", "beginner friendly"),
        ),
        _tree(
            "Willow leaf ficus",
            "ficus",
            "BON-FIC-WILLOW",
            "69.00",
            0,
            "Narrow leaves and a broad, umbrella-like crown. Back in stock soon.",
            tags=("ficus", "indoor"),
        ),
        _tree(
            "Ficus 'Tiger bark'",
            "ficus",
            "BON-FIC-TIGER",
            "85.00",
            3,
            "Striped bark and small leaves; grows fast enough to style in a season.",
            tags=("ficus", "indoor"),
        ),
        _tree(
            "Ficus 'Panda'",
            "ficus",
            "BON-FIC-PANDA",
            "65.00",
            2,
            "Small, round, dark leaves and a compact crown. Happy on a sunny windowsill.",
            tags=("ficus", "indoor", "gift idea"),
        ),
    ]
    tools = [
        _tool(
            "Concave branch cutter",
            "shears",
            "Leaves a hollow wound that heals flat. Forged carbon steel.",
            [
                ("180 mm", "TOOL-CONCAVE-180", "34.00", 14, 230),
                ("210 mm", "TOOL-CONCAVE-210", "42.00", 9, 290),
            ],
            tags=("carbon steel", "essential"),
            is_featured=True,
        ),
        _tool(
            "Bonsai trimming shears",
            "shears",
            "Long handles and short blades for thinning dense foliage.",
            [
                ("160 mm", "TOOL-SHEARS-160", "24.00", 20, 120),
                ("180 mm", "TOOL-SHEARS-180", "27.00", 16, 140),
                ("200 mm", "TOOL-SHEARS-200", "29.00", 4, 160),
            ],
            tags=("stainless steel", "essential", "beginner friendly"),
        ),
        _tool(
            "Knob cutter",
            "shears",
            "Takes off stubs and knobs so the bark can roll over the cut.",
            [("205 mm", "TOOL-KNOB-205", "46.00", 6, 310)],
            tags=("carbon steel",),
        ),
        _tool(
            "Root scissors",
            "shears",
            "Heavy scissors that shrug off grit when you repot.",
            [("180 mm", "TOOL-ROOT-180", "19.00", 25, 150)],
            tags=("stainless steel", "beginner friendly"),
            seo_title="Bonsai root scissors",
            seo_description="Heavy-duty scissors for cutting bonsai roots when repotting.",
        ),
        _tool(
            "Anodised aluminium wire",
            "wire",
            "Soft, brown aluminium wire on 100 g rolls, for deciduous trees.",
            [
                ("1.0 mm", "TOOL-ALU-10", "4.50", 40, 100),
                ("1.5 mm", "TOOL-ALU-15", "4.50", 35, 100),
                ("2.0 mm", "TOOL-ALU-20", "4.90", 30, 100),
                ("3.0 mm", "TOOL-ALU-30", "5.50", 18, 100),
                ("4.0 mm", "TOOL-ALU-40", "5.90", 0, 100),
            ],
            option="gauge",
            tags=("essential", "beginner friendly"),
        ),
        _tool(
            "Annealed copper wire",
            "wire",
            "Holds conifer branches in place with half the thickness of aluminium.",
            [
                ("1.5 mm", "TOOL-COPPER-15", "8.90", 12, 250),
                ("2.5 mm", "TOOL-COPPER-25", "9.90", 8, 250),
                ("3.5 mm", "TOOL-COPPER-35", "11.90", 5, 250),
            ],
            option="gauge",
            tags=("handmade",),
        ),
        _tool(
            "Wire cutter",
            "wire",
            "Cuts wire flush to the bark without scarring it.",
            [("160 mm", "TOOL-WIRECUT-160", "22.00", 11, 140)],
            tags=("carbon steel", "essential"),
        ),
        _tool(
            "Akadama soil",
            "soil-and-pots",
            "Hard-fired Japanese clay granules: holds water and air in the right balance.",
            [
                ("2 l", "SOIL-AKADAMA-2", "7.90", 30, 1400),
                ("14 l", "SOIL-AKADAMA-14", "29.00", 10, 9000),
            ],
            option="volume",
            tags=("essential",),
        ),
        _tool(
            "Bonsai soil mix",
            "soil-and-pots",
            "Akadama, pumice and lava in equal parts: ready for any tree.",
            [
                ("5 l", "SOIL-MIX-5", "14.90", 22, 3500),
                ("10 l", "SOIL-MIX-10", "24.90", 9, 7000),
            ],
            option="volume",
            tags=("essential", "beginner friendly"),
        ),
        _tool(
            "Unglazed rectangle pot",
            "soil-and-pots",
            "Stoneware with feet and drainage holes, in the brown of old roof tiles.",
            [
                ("Small", "POT-RECT-S", "18.00", 8, 600),
                ("Medium", "POT-RECT-M", "28.00", 6, 1100),
                ("Large", "POT-RECT-L", "42.00", 2, 2100),
            ],
            tags=("handmade",),
        ),
        _tool(
            "Glazed oval pot – celadon",
            "soil-and-pots",
            "A soft celadon glaze that suits maples in every season.",
            [
                ("Small", "POT-OVAL-S", "24.00", 5, 500),
                ("Medium", "POT-OVAL-M", "36.00", 3, 950),
            ],
            tags=("handmade", "gift idea"),
        ),
        _tool(
            "Jin pliers",
            "wire",
            "Strip bark for deadwood, bend branches and grip the ends of wire.",
            [("180 mm", "TOOL-JIN-180", "31.00", 7, 180)],
            tags=("carbon steel",),
        ),
    ]
    cases = [
        _case(
            rng,
            "Wave case for iPhone",
            "apple",
            "WAVE",
            "24.90",
            "Hokusai-style waves printed on recycled, shock-absorbing plastic.",
            tags=("recycled", "shockproof"),
            is_featured=True,
        ),
        _case(
            rng,
            "Maple leaf case for iPhone",
            "apple",
            "MAPLE",
            "24.90",
            "Red maple leaves on a matte cream background. Raised edges protect the camera.",
            tags=("slim", "gift idea"),
            compare_at="29.90",
        ),
        _case(
            rng,
            "Clear bonsai case for iPhone",
            "apple",
            "CLEAR",
            "19.90",
            "A crystal-clear case with a small juniper silhouette on the back.",
            tags=("slim",),
        ),
        _case(
            rng,
            "Wave case for Galaxy",
            "samsung",
            "WAVE",
            "24.90",
            "Hokusai-style waves printed on recycled, shock-absorbing plastic.",
            tags=("recycled", "shockproof"),
        ),
        _case(
            rng,
            "Bamboo case for Galaxy",
            "samsung",
            "BAMBOO",
            "27.90",
            "A real bamboo veneer back on a flexible bumper.",
            tags=("recycled",),
            status=DRAFT,
        ),
        _case(
            rng,
            "Wave case for Pixel",
            "google",
            "WAVE",
            "24.90",
            "Hokusai-style waves printed on recycled, shock-absorbing plastic.",
            tags=("recycled", "shockproof"),
        ),
        _case(
            rng,
            "Moss case for Pixel",
            "google",
            "MOSS",
            "22.90",
            "Deep green with a velvety, grippy finish.",
            tags=("slim",),
            seo_title="Moss green Pixel case",
            seo_description="A slim, grippy moss green case for Google Pixel phones.",
        ),
    ]
    downloads = [
        _download(
            "Bonsai for beginners",
            "guides",
            "Our 120-page e-book: choosing a first tree, watering, feeding, pruning and "
            "repotting, with a care calendar.",
            [("PDF", "DL-BEGIN-PDF", "12.00"), ("EPUB", "DL-BEGIN-EPUB", "12.00")],
            tags=("e-book", "beginner friendly"),
            is_featured=True,
            seo_title="Bonsai for beginners – e-book",
            seo_description="A 120-page e-book on keeping your first bonsai tree alive and "
            "shaping it: watering, pruning, wiring and repotting.",
        ),
        _download(
            "Wiring techniques, illustrated",
            "guides",
            "Step-by-step drawings of wiring a branch, a trunk and a whole tree.",
            [("PDF", "DL-WIRING", "9.00")],
            tags=("pdf", "printable"),
        ),
        _download(
            "Juniper care calendar",
            "guides",
            "A printable year planner: when to pinch, wire, repot and feed junipers.",
            [("PDF", "DL-JUNCAL", "4.00")],
            tags=("pdf", "printable", "juniper"),
        ),
        _download(
            "Species photo sample pack",
            "guides",
            "Thirty reference photos of common bonsai species, free to try.",
            [("ZIP", "DL-SAMPLE-SPECIES", "0.00")],
            tags=("sample pack",),
        ),
        _download(
            "Autumn maple wallpapers",
            "wallpapers",
            "Twelve photographs of our maples in October, for desktop and phone.",
            [("4K", "DL-WP-AUTUMN-4K", "3.00"), ("Phone", "DL-WP-AUTUMN-PH", "2.00")],
            tags=("4k", "maple"),
        ),
        _download(
            "Misty nursery wallpapers",
            "wallpapers",
            "Early mornings among the benches, in soft grey and green.",
            [("4K", "DL-WP-MIST", "3.00")],
            tags=("4k",),
        ),
        _download(
            "Minimal bonsai phone wallpapers",
            "wallpapers",
            "Line drawings of six classic styles on plain backgrounds.",
            [("Phone", "DL-WP-MINIMAL", "1.50")],
            tags=("sample pack",),
        ),
        _download(
            "Zen garden sample pack",
            "wallpapers",
            "Three raked-gravel photographs, free: a taste of our wallpaper packs.",
            [("4K", "DL-SAMPLE-ZEN", "0.00")],
            tags=("sample pack", "4k"),
        ),
    ]
    # Round-robin over the kinds so that the first N products always mix them.
    groups = [trees, tools, cases, downloads]
    mixed = []
    while any(groups):
        for group in groups:
            if group:
                mixed.append(group.pop(0))
    return mixed


# --- Generated variations -------------------------------------------------------------------------

SPECIES = {
    "junipers": (
        "JUN",
        ["Shimpaku juniper", "Chinese juniper", "Needle juniper", "San Jose juniper", "Itoigawa"],
        ("juniper", "evergreen", "outdoor"),
    ),
    "maples": (
        "MAP",
        ["Japanese maple", "Trident maple", "Deshojo maple", "Field maple", "Amur maple"],
        ("maple", "deciduous", "outdoor"),
    ),
    "ficus": (
        "FIC",
        ["Ficus retusa", "Ficus microcarpa", "Willow leaf ficus", "Ficus 'Panda'", "Tiger bark"],
        ("ficus", "indoor"),
    ),
}
STYLES = [
    "informal upright",
    "formal upright",
    "cascade",
    "semi-cascade",
    "literati",
    "windswept",
    "broom",
    "twin trunk",
    "slanting",
]
TREE_CARE = [
    "Water when the topsoil feels dry and feed every two weeks in the growing season.",
    "Repotted last spring in our free-draining mix; it will not need a new pot for two years.",
    "Wired and pruned in our nursery; the wire comes off in early autumn.",
    "Comes with a care card and a bag of top dressing.",
]
TOOL_MAKERS = ["Kiri", "Hoshi", "Tanuki", "Ishi", "Mori"]
TOOL_LINES = [
    # (category, SKU code, name, option, [(label, code, price offset, grams)], tags, sentence)
    (
        "shears",
        "SHR",
        "pruning shears",
        "size",
        [("160 mm", "160", 0, 120), ("180 mm", "180", 3, 140), ("200 mm", "200", 6, 160)],
        ("stainless steel",),
        "Balanced, sharp to the tip and easy to clean.",
    ),
    (
        "shears",
        "CUT",
        "concave cutter",
        "size",
        [("180 mm", "180", 0, 230), ("210 mm", "210", 8, 290)],
        ("carbon steel",),
        "Leaves a hollow cut that heals flat.",
    ),
    (
        "wire",
        "WIR",
        "aluminium wire",
        "gauge",
        [("1.0 mm", "10", 0, 100), ("2.0 mm", "20", 1, 100), ("3.0 mm", "30", 2, 100)],
        ("essential",),
        "Soft enough to wrap by hand, firm enough to hold a branch all summer.",
    ),
    (
        "wire",
        "PLR",
        "jin pliers",
        "",
        [("", "", 0, 180)],
        ("carbon steel",),
        "Strips bark for deadwood and grips wire ends.",
    ),
    (
        "soil-and-pots",
        "POT",
        "glazed pot",
        "size",
        [("Small", "S", 0, 500), ("Medium", "M", 10, 950), ("Large", "L", 22, 1900)],
        ("handmade",),
        "Frost-proof stoneware with drainage holes and wire tie-down holes.",
    ),
    (
        "soil-and-pots",
        "SOI",
        "substrate",
        "volume",
        [("5 l", "5", 0, 3500), ("10 l", "10", 9, 7000)],
        ("essential",),
        "Sieved and dust-free, for healthy roots.",
    ),
]
POT_GLAZES = ["celadon", "cobalt", "cream", "moss green", "tenmoku", "unglazed brown"]
CASE_DESIGNS = [
    ("Wave", "WAV"),
    ("Sakura", "SAK"),
    ("Koi", "KOI"),
    ("Granite", "GRN"),
    ("Fern", "FRN"),
    ("Ink wash", "INK"),
    ("Pine needle", "PIN"),
    ("Pebble", "PBL"),
]
CASE_MATERIALS = [
    ("silicone", ("slim",)),
    ("clear", ("slim",)),
    ("tough", ("shockproof",)),
    ("recycled", ("recycled",)),
    ("leather", ("gift idea",)),
]
GUIDE_TOPICS = [
    "Repotting",
    "Wiring",
    "Pruning",
    "Watering",
    "Styling junipers",
    "Leaf reduction in maples",
    "Aerial roots on ficus",
    "Winter care",
    "Choosing a pot",
    "Deadwood carving",
]
GUIDE_FORMATS = [
    ("e-book", "e-book"),
    ("illustrated guide", "pdf"),
    ("workshop notes", "pdf"),
    ("care calendar", "printable"),
]
WALLPAPER_THEMES = [
    "Spring flush",
    "Autumn colour",
    "Morning mist",
    "Snow on pines",
    "Moss and stone",
    "Nursery benches",
]


def _price(rng: random.Random, low: int, high: int, cents: str = "0.00") -> Decimal:
    return _d(rng.randint(low, high)) + Decimal(cents)


def _maybe_compare_at(rng: random.Random, price: Decimal) -> Decimal | None:
    if rng.random() < 0.15 and price > 0:
        return price + _d(max(2, int(price * Decimal("0.2"))))
    return None


def _generated_tree(rng: random.Random, serial: int) -> ProductSpec:
    category = rng.choice(list(SPECIES))
    code, species, tags = SPECIES[category]
    name = rng.choice(species)
    style = rng.choice(STYLES)
    age = rng.randint(4, 40)
    price = _price(rng, 25 + age * 3, 40 + age * 8)
    return ProductSpec(
        name=f"{name} bonsai, {style}, {age} years",
        category=category,
        picture="bonsai",
        description=(
            f"A {age}-year-old {name.lower()} trained in the {style} style. {rng.choice(TREE_CARE)}"
        ),
        variants=[
            VariantSpec(
                sku=f"BON-{code}-{serial:05d}",
                price=price,
                compare_at_price=_maybe_compare_at(rng, price),
                cost_price=(price * Decimal("0.45")).quantize(Decimal("0.01")),
                stock=rng.choice((0, 0, 1, 1, 2, 3, 4, 6)),
                weight_grams=rng.randint(8, 60) * 100,
                low_stock_threshold=1,
            )
        ],
        tags=tags + (("beginner friendly",) if age < 8 else ()),
    )


def _generated_tool(rng: random.Random, serial: int) -> ProductSpec:
    category, code, thing, option, sizes, tags, sentence = rng.choice(TOOL_LINES)
    maker = rng.choice(TOOL_MAKERS)
    if code == "POT":
        glaze = rng.choice(POT_GLAZES)
        name = f"{maker} {glaze} {rng.choice(['oval', 'rectangle', 'round'])} pot"
    else:
        name = f"{maker} {thing}"
    base = rng.randint(6, 45)
    # Some products come in one size only, even in a line that has several.
    if len(sizes) > 1 and rng.random() < 0.25:
        sizes = sizes[:1]
        option = ""
    variants = []
    for label, size_code, offset, grams in sizes:
        price = _d(base + offset) + Decimal("0.90")
        variants.append(
            VariantSpec(
                sku=f"TOOL-{code}-{serial:05d}" + (f"-{size_code}" if option else ""),
                name=label if option else "",
                options={option: label} if option else {},
                price=price,
                compare_at_price=_maybe_compare_at(rng, price),
                cost_price=(price * Decimal("0.5")).quantize(Decimal("0.01")),
                stock=rng.choice((0, 2, 5, 8, 12, 20, 35)),
                weight_grams=grams,
            )
        )
    return ProductSpec(
        name=name,
        category=category,
        picture="tool",
        description=f"{sentence} Made for us by {maker} in small batches.",
        variants=variants,
        tags=tags + (("essential",) if rng.random() < 0.2 else ()),
    )


def _generated_case(rng: random.Random, serial: int) -> ProductSpec:
    brand = rng.choice(list(PHONE_MODELS))
    category, label, models = PHONE_MODELS[brand]
    design, design_code = rng.choice(CASE_DESIGNS)
    material, tags = rng.choice(CASE_MATERIALS)
    price = _d(rng.choice((19, 22, 24, 27, 29, 34))) + Decimal("0.90")
    compare_at = _maybe_compare_at(rng, price)
    return ProductSpec(
        name=f"{design} {material} case for {label}",
        category=category,
        picture="case",
        description=(
            f"Our {design.lower()} pattern on a {material} case, cut for each {label} model: "
            "buttons, ports and camera line up exactly."
        ),
        variants=[
            VariantSpec(
                sku=f"CASE-{design_code}{serial:05d}-{code}",
                name=model,
                options={PHONE_OPTION: model},
                price=price,
                compare_at_price=compare_at,
                cost_price=_d(6),
                stock=rng.choice((0, 3, 8, 12, 20, 40)),
                weight_grams=35,
                low_stock_threshold=3,
            )
            for model, code in models
        ],
        tags=tags,
    )


def _generated_download(rng: random.Random, serial: int) -> ProductSpec:
    if rng.random() < 0.6:
        topic = rng.choice(GUIDE_TOPICS)
        what, tag = rng.choice(GUIDE_FORMATS)
        return ProductSpec(
            name=f"{topic}: {what}",
            category="guides",
            picture="download",
            kind=DIGITAL,
            description=f"{topic}, explained step by step with drawings and photographs.",
            variants=[
                VariantSpec(
                    sku=f"DL-GDE-{serial:05d}",
                    price=_price(rng, 3, 19),
                    track_inventory=False,
                )
            ],
            tags=(tag,),
        )
    theme = rng.choice(WALLPAPER_THEMES)
    if rng.random() < 0.2:
        return ProductSpec(
            name=f"{theme} sample pack",
            category="wallpapers",
            picture="download",
            kind=DIGITAL,
            description=f"Three free wallpapers from our {theme.lower()} series.",
            variants=[VariantSpec(sku=f"DL-SMP-{serial:05d}", price=_d(0), track_inventory=False)],
            tags=("sample pack",),
        )
    return ProductSpec(
        name=f"{theme} wallpapers",
        category="wallpapers",
        picture="download",
        kind=DIGITAL,
        description=f"Photographs from our {theme.lower()} series, for desktop and phone.",
        variants=[
            VariantSpec(
                sku=f"DL-WP-{serial:05d}-4K",
                name="4K",
                options={"format": "4K"},
                price=_d(3),
                track_inventory=False,
            ),
            VariantSpec(
                sku=f"DL-WP-{serial:05d}-PH",
                name="Phone",
                options={"format": "Phone"},
                price=_d(2),
                track_inventory=False,
            ),
        ],
        tags=("4k",),
    )


GENERATORS: list[tuple[Callable[[random.Random, int], ProductSpec], int]] = [
    (_generated_tree, 35),
    (_generated_tool, 30),
    (_generated_case, 20),
    (_generated_download, 15),
]


def generated_product(rng: random.Random, serial: int) -> ProductSpec:
    """One made-up product: drafts, featured, sale prices and SEO fields in believable shares."""
    make = rng.choices([g for g, _ in GENERATORS], weights=[w for _, w in GENERATORS])[0]
    spec = make(rng, serial)
    roll = rng.random()
    if roll < 0.05:
        spec.status = DRAFT
    elif roll < 0.065:
        spec.is_featured = True
    if rng.random() < 0.2:
        spec.seo_title = spec.name[:70]
        spec.seo_description = spec.description[:160]
    return spec


# --- Pictures ------------------------------------------------------------------------------------

# picture kind: [(top colour, bottom colour, shape colour, accent colour), ...]
PALETTES = {
    "bonsai": [
        ((233, 241, 226), (166, 196, 150), (58, 94, 52), (121, 85, 61)),
        ((246, 236, 220), (214, 178, 139), (74, 110, 60), (110, 72, 48)),
        ((226, 236, 242), (150, 182, 196), (44, 84, 62), (96, 70, 54)),
    ],
    "tool": [
        ((238, 238, 232), (180, 186, 178), (66, 72, 78), (176, 74, 52)),
        ((240, 232, 222), (196, 170, 140), (52, 58, 62), (44, 104, 84)),
        ((228, 234, 240), (160, 176, 196), (48, 56, 70), (190, 140, 60)),
    ],
    "case": [
        ((232, 238, 250), (120, 150, 210), (250, 250, 252), (40, 70, 140)),
        ((250, 232, 232), (214, 128, 128), (252, 248, 246), (150, 40, 50)),
        ((232, 246, 236), (110, 170, 130), (248, 252, 248), (30, 90, 60)),
    ],
    "download": [
        ((245, 240, 228), (210, 190, 150), (255, 255, 252), (150, 90, 40)),
        ((236, 232, 246), (160, 146, 200), (255, 255, 255), (80, 60, 140)),
        ((230, 242, 240), (130, 186, 176), (255, 255, 255), (30, 110, 100)),
    ],
}
PICTURE_KINDS = list(PALETTES)


def _gradient(size: int, top: tuple, bottom: tuple) -> Image.Image:
    mask = Image.linear_gradient("L").resize((size, size))
    canvas = Image.composite(
        Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top), mask
    )
    # A soft light from the upper left keeps the flat gradient from looking printed.
    glow = Image.radial_gradient("L").crop((64, 64, 192, 192)).resize((size, size))
    glow = glow.point(lambda v: max(0, 110 - v))
    return Image.composite(Image.new("RGB", (size, size), (255, 255, 255)), canvas, glow)


def _draw_bonsai(draw: ImageDraw.ImageDraw, rng: random.Random, s: int, shape, accent) -> None:
    # Pot, trunk and cloud-like foliage pads.
    draw.polygon(
        [(s * 0.25, s * 0.74), (s * 0.75, s * 0.74), (s * 0.69, s * 0.86), (s * 0.31, s * 0.86)],
        fill=accent,
    )
    draw.rectangle([s * 0.22, s * 0.71, s * 0.78, s * 0.75], fill=accent)
    lean = rng.uniform(-0.12, 0.12)
    trunk = [
        (s * 0.47, s * 0.72),
        (s * (0.47 + lean), s * 0.5),
        (s * (0.5 - lean / 2), s * 0.36),
        (s * (0.53 - lean / 2), s * 0.36),
        (s * (0.53 + lean), s * 0.5),
        (s * 0.55, s * 0.72),
    ]
    draw.polygon(trunk, fill=(92, 64, 46))
    for _ in range(rng.randint(4, 6)):
        cx = s * rng.uniform(0.28, 0.72)
        cy = s * rng.uniform(0.22, 0.52)
        rx, ry = s * rng.uniform(0.09, 0.15), s * rng.uniform(0.05, 0.08)
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=shape)


def _draw_tool(draw: ImageDraw.ImageDraw, rng: random.Random, s: int, shape, accent) -> None:
    # Shears: two crossed blades and two handle rings.
    spread = rng.uniform(0.06, 0.12)
    for side in (-1, 1):
        tip = (s * (0.5 + side * spread), s * 0.16)
        pivot = (s * 0.5, s * 0.5)
        draw.polygon(
            [tip, (pivot[0] - s * 0.035, pivot[1]), (pivot[0] + s * 0.035, pivot[1])], fill=shape
        )
        ring = (s * (0.5 - side * 0.14), s * 0.7)
        draw.line([pivot, ring], fill=shape, width=int(s * 0.04))
        r = s * 0.1
        draw.ellipse(
            [ring[0] - r, ring[1] - r, ring[0] + r, ring[1] + r],
            outline=accent,
            width=int(s * 0.035),
        )
    draw.ellipse([s * 0.48, s * 0.48, s * 0.52, s * 0.52], fill=accent)


def _draw_case(draw: ImageDraw.ImageDraw, rng: random.Random, s: int, shape, accent) -> None:
    left, top, right, bottom = s * 0.3, s * 0.12, s * 0.7, s * 0.88
    draw.rounded_rectangle(
        [left, top, right, bottom],
        radius=int(s * 0.06),
        fill=shape,
        outline=accent,
        width=int(s * 0.012),
    )
    # The pattern: waves of the case's colour.
    step = s * rng.uniform(0.05, 0.08)
    y = top + s * 0.3
    while y < bottom - s * 0.05:
        x = left + s * 0.03
        while x < right - s * 0.06:
            draw.arc([x, y, x + step, y + step], 180, 360, fill=accent, width=int(s * 0.008))
            x += step
        y += step * 0.8
    draw.rounded_rectangle(
        [left + s * 0.03, top + s * 0.03, left + s * 0.17, top + s * 0.17],
        radius=int(s * 0.03),
        fill=accent,
    )
    for dx, dy in ((0.06, 0.06), (0.12, 0.06), (0.06, 0.12)):
        cx, cy, r = left + s * dx + s * 0.01, top + s * dy + s * 0.01, s * 0.022
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=shape)


def _draw_download(draw: ImageDraw.ImageDraw, rng: random.Random, s: int, shape, accent) -> None:
    left, top, right, bottom = s * 0.28, s * 0.14, s * 0.72, s * 0.86
    fold = s * 0.1
    draw.polygon(
        [(left, top), (right - fold, top), (right, top + fold), (right, bottom), (left, bottom)],
        fill=shape,
    )
    draw.polygon(
        [(right - fold, top), (right - fold, top + fold), (right, top + fold)], fill=accent
    )
    for i in range(rng.randint(4, 6)):
        y = top + s * 0.12 + i * s * 0.055
        width = s * rng.uniform(0.2, 0.34)
        draw.rounded_rectangle(
            [left + s * 0.05, y, left + s * 0.05 + width, y + s * 0.022],
            radius=int(s * 0.01),
            fill=(*accent, 120),
        )
    cx, cy, r = s * 0.5, s * 0.68, s * 0.09
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=accent)
    draw.rectangle([cx - s * 0.015, cy - s * 0.05, cx + s * 0.015, cy + s * 0.01], fill=shape)
    draw.polygon([(cx - s * 0.045, cy), (cx + s * 0.045, cy), (cx, cy + s * 0.05)], fill=shape)


SHAPES = {
    "bonsai": _draw_bonsai,
    "tool": _draw_tool,
    "case": _draw_case,
    "download": _draw_download,
}


def picture_bytes(kind: str, number: int) -> bytes:
    """A JPEG illustration of a kind of product: gradient background, a shape, a soft shadow.

    The same kind and number always give the same picture, so files can be reused by name.
    """
    rng = random.Random(f"{kind}-{number}")
    top, bottom, shape, accent = PALETTES[kind][number % len(PALETTES[kind])]
    # Shapes are drawn at twice the size and scaled down: Pillow draws without anti-aliasing.
    size = PICTURE_SIZE
    layer = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
    SHAPES[kind](ImageDraw.Draw(layer, "RGBA"), rng, size * 2, shape, accent)
    layer = layer.resize((size, size), Image.LANCZOS)
    # The shadow is blurred small and scaled up: blurring the full picture is slow.
    small = size // 4
    alpha = layer.getchannel("A").resize((small, small)).point(lambda a: a * 40 // 255)
    alpha = alpha.filter(ImageFilter.GaussianBlur(small // 60 + 1)).resize((size, size))
    shadow = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    shadow.putalpha(alpha)
    picture = _gradient(size, top, bottom).convert("RGBA")
    offset = size // 80
    picture.alpha_composite(shadow, (offset, offset))
    picture.alpha_composite(layer)
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=86, optimize=True)
    return out.getvalue()


def picture_pool(size: int) -> dict[str, list[str]]:
    """Write `size` pictures (at least one per kind) to the images' storage, with thumbnails.

    Returns the stored names by picture kind. A picture already stored under its name is reused.
    """
    image_field = ProductImage._meta.get_field("image")
    storage = image_field.storage
    pool: dict[str, list[str]] = {kind: [] for kind in PICTURE_KINDS}
    for index in range(max(size, len(PICTURE_KINDS))):
        kind = PICTURE_KINDS[index % len(PICTURE_KINDS)]
        number = index // len(PICTURE_KINDS)
        name = image_field.generate_filename(None, f"demo/{kind}-{number + 1}.jpg")
        if not storage.exists(name):
            name = storage.save(name, ContentFile(picture_bytes(kind, number)))
        # Bulk inserts send no post_save, so imagekit would never make these otherwise.
        holder = ProductImage(image=name)
        holder.thumbnail.generate()
        holder.large.generate()
        pool[kind].append(name)
    return pool


# --- Writing it all ------------------------------------------------------------------------------


@dataclass
class SeedResult:
    new_categories: int = 0
    new_tags: int = 0
    products: int = 0
    variants: int = 0
    images: int = 0
    pictures: int = 0
    ledger_rows: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.products} products, {self.variants} variants, "
            f"{self.new_categories} new categories, {self.new_tags} new tags, "
            f"{self.images} images ({self.pictures} distinct pictures), "
            f"{self.ledger_rows} stock ledger rows in {self.seconds:.1f} s"
        )


class _Unique:
    """Hands out values not yet taken, adding -2, -3, ... to a taken one."""

    def __init__(self, taken) -> None:
        self.taken = set(taken)

    def __call__(self, value: str) -> str:
        candidate, n = value, 2
        while candidate in self.taken:
            candidate, n = f"{value}-{n}", n + 1
        self.taken.add(candidate)
        return candidate


def _categories() -> tuple[dict[str, Category], int]:
    """The category tree, reusing categories that already exist (by slug)."""
    existing = {c.slug: c for c in Category.objects.all()}
    created = 0
    for position, (name, slug, description, children) in enumerate(CATEGORY_TREE):
        if slug not in existing:
            existing[slug] = Category.objects.create(
                name=name, slug=slug, description=description, position=position
            )
            created += 1
        parent = existing[slug]
        for child_position, (child_name, child_slug, child_description) in enumerate(children):
            if child_slug not in existing:
                existing[child_slug] = Category.objects.create(
                    parent=parent,
                    name=child_name,
                    slug=child_slug,
                    description=child_description,
                    position=child_position,
                )
                created += 1
    return existing, created


def _tags(names: set[str]) -> tuple[dict[str, Tag], int]:
    existing = {t.name.lower(): t for t in Tag.objects.all()}
    slugs = _Unique(t.slug for t in existing.values())
    missing = [
        Tag(name=name, slug=slugs(slugify(name)))
        for name in sorted(names)
        if name.lower() not in existing
    ]
    Tag.objects.bulk_create(missing)
    existing.update({t.name.lower(): t for t in missing})
    return existing, len(missing)


def _product_specs(rng: random.Random, count: int | None) -> list[ProductSpec]:
    specs = handwritten_products(rng)
    if count is None:
        return specs
    specs = specs[:count]
    serial = len(specs)
    while len(specs) < count:
        serial += 1
        specs.append(generated_product(rng, serial))
    return specs


def _bulk(model: type[Model], rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def catalog_wipe() -> None:
    """Delete the whole catalogue: products, variants, stock ledger, images, tags, categories.

    Users are untouched. Raises ProtectedError when orders still refer to variants.
    """
    StockMovement.objects.all().delete()
    ProductImage.objects.all().delete()
    ProductModel3D.objects.all().delete()
    Product.tags.through.objects.all().delete()
    ProductVariant.objects.all().delete()
    Product.objects.all().delete()
    Tag.objects.all().delete()
    # Children first: a category PROTECTs its sub-categories.
    Category.objects.update(parent=None)
    Category.objects.all().delete()


def demo_catalog_seed(
    *,
    products: int | None = None,
    seed: int = 1,
    pictures: int = DEFAULT_PICTURES,
    reset: bool = False,
) -> SeedResult:
    """Write the demo catalogue: the hand-written products, or `products` in total.

    With `reset`, the catalogue is wiped first (see `catalog_wipe`). The same `seed` gives the same
    catalogue. Runs in one transaction: a failure leaves the catalogue as it was (pictures written
    to storage stay, to be reused by the next run).
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    specs = _product_specs(rng, products)
    pool = picture_pool(pictures)
    result = SeedResult(pictures=sum(len(names) for names in pool.values()))

    with transaction.atomic(), invalidation.many_changes():
        if reset:
            catalog_wipe()
        categories, result.new_categories = _categories()
        tags, result.new_tags = _tags({name for spec in specs for name in spec.tags})
        slugs = _Unique(Product.objects.order_by().values_list("slug", flat=True))
        skus = _Unique(ProductVariant.objects.order_by().values_list("sku", flat=True))

        for start in range(0, len(specs), BATCH_SIZE):
            batch = specs[start : start + BATCH_SIZE]
            rows = _bulk(
                Product,
                [
                    Product(
                        name=spec.name,
                        slug=slugs(slugify(spec.name)[:200]),
                        description=spec.description,
                        kind=spec.kind,
                        category=categories[spec.category],
                        status=spec.status,
                        is_featured=spec.is_featured,
                        seo_title=spec.seo_title,
                        seo_description=spec.seo_description,
                    )
                    for spec in batch
                ],
            )
            counts = _write_product_rows(rng, list(zip(batch, rows, strict=True)), tags, pool, skus)
            result.variants += counts[0]
            result.images += counts[1]
            result.ledger_rows += counts[2]
            result.products += len(rows)

    result.seconds = time.perf_counter() - started
    return result


def _write_product_rows(
    rng: random.Random,
    pairs: list[tuple[ProductSpec, Product]],
    tags: dict[str, Tag],
    pool: dict[str, list[str]],
    skus: _Unique,
) -> tuple[int, int, int]:
    """Variants, their restock rows, images and tag links of freshly inserted products."""
    variants = []
    images = []
    links = []
    for spec, product in pairs:
        for position, v in enumerate(spec.variants):
            tracked = v.track_inventory and spec.kind == PHYSICAL
            variants.append(
                ProductVariant(
                    product=product,
                    sku=skus(v.sku),
                    name=v.name,
                    options=v.options,
                    price=v.price,
                    compare_at_price=v.compare_at_price,
                    cost_price=v.cost_price,
                    stock=v.stock if tracked else 0,
                    low_stock_threshold=v.low_stock_threshold,
                    track_inventory=tracked,
                    weight_grams=v.weight_grams if spec.kind == PHYSICAL else None,
                    position=position,
                )
            )
        names = pool[spec.picture]
        count = 2 if rng.random() < 0.3 and len(names) > 1 else 1
        for position, name in enumerate(rng.sample(names, count)):
            images.append(
                ProductImage(
                    product=product,
                    image=name,
                    alt_text=spec.name[:200],
                    position=position,
                )
            )
        links.extend(
            Product.tags.through(product_id=product.pk, tag_id=tags[name.lower()].pk)
            for name in dict.fromkeys(spec.tags)
        )
    variants = _bulk(ProductVariant, variants)
    # The stock of a bulk-inserted variant is not set by a service, so its ledger row is written
    # here: the ledger must always add up to the stock.
    ledger = _bulk(
        StockMovement,
        [
            StockMovement(
                variant=variant,
                delta=variant.stock,
                quantity_after=variant.stock,
                reason=StockMovement.Reason.RESTOCK,
                note=LEDGER_NOTE,
            )
            for variant in variants
            if variant.track_inventory and variant.stock > 0
        ],
    )
    _bulk(ProductImage, images)
    _bulk(Product.tags.through, links)
    return len(variants), len(images), len(ledger)


def catalog_is_empty() -> bool:
    return not Product.objects.exists()
