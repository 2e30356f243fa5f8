"""Staff screens of digital goods: files (uploaded to the private storage), who may download
what (search, reset, grant, revoke), each download, and e-book chapters."""

from django import forms
from django.contrib import admin, messages
from django.db.models import F
from django.utils import timezone

from downloads import services
from downloads.models import Chapter, DigitalAsset, DownloadEvent, Entitlement
from orders.admin import ReadOnlyInline


class AssetForm(forms.ModelForm):
    upload = forms.FileField(
        label="File",
        required=False,
        help_text="Stored privately; buyers get it through short-lived links. Uploading again "
        "replaces the file (raise the version).",
    )

    class Meta:
        model = DigitalAsset
        fields = ["product", "variant", "title", "version", "is_active"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not cleaned.get("upload"):
            self.add_error("upload", "Choose the file to sell.")
        variant, product = cleaned.get("variant"), cleaned.get("product")
        if variant is not None and product is not None and variant.product_id != product.pk:
            self.add_error("variant", "Choose a variant of this product.")
        return cleaned


@admin.register(DigitalAsset)
class DigitalAssetAdmin(admin.ModelAdmin):
    form = AssetForm
    list_display = [
        "title",
        "product",
        "variant",
        "version",
        "filename",
        "size_display",
        "is_active",
    ]
    list_filter = ["is_active", "content_type"]
    list_select_related = ["product", "variant"]
    search_fields = ["title", "filename", "product__name", "checksum"]
    autocomplete_fields = ["product"]
    readonly_fields = ["filename", "size", "checksum", "content_type", "file_name", "created_at"]

    def get_fields(self, request, obj=None):
        fields = ["product", "variant", "title", "version", "is_active", "upload"]
        return fields + (self.readonly_fields if obj else [])

    @admin.display(description="size", ordering="size")
    def size_display(self, asset: DigitalAsset) -> str:
        from django.template.defaultfilters import filesizeformat

        return filesizeformat(asset.size)

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("upload")
        if upload:
            services.asset_upload(
                product=obj.product,
                variant=obj.variant,
                upload=upload,
                title=obj.title,
                version=obj.version,
                asset=obj,
            )
        else:
            obj.save()


class GrantForm(forms.ModelForm):
    """Staff give a product's files to somebody without an order."""

    class Meta:
        model = Entitlement
        fields = ["product", "user", "email", "download_limit", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = False
        self.fields["download_limit"].required = False
        self.fields["download_limit"].help_text = "Empty: the product's or the store's default."

    def clean(self):
        cleaned = super().clean()
        user, product = cleaned.get("user"), cleaned.get("product")
        if not user and not cleaned.get("email"):
            self.add_error("email", "Choose a customer or give an email.")
        if user and not cleaned.get("email"):
            cleaned["email"] = self.instance.email = user.email
        if product and not cleaned.get("download_limit"):
            cleaned["download_limit"] = services.default_limit(product)
        return cleaned


class DownloadEventInline(ReadOnlyInline):
    model = DownloadEvent
    fields = ["created_at", "asset", "ip_address", "user_agent"]
    readonly_fields = fields


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = [
        "product",
        "email",
        "order",
        "downloads_used",
        "download_limit",
        "expires_at",
        "revoked_at",
        "created_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["product", "order"]
    search_fields = ["email", "order__number", "product__name", "user__email"]
    search_help_text = "Search by email, order number or product."
    autocomplete_fields = ["product", "user"]
    inlines = [DownloadEventInline]
    actions = ["reset_downloads", "add_downloads", "revoke"]
    readonly_fields = [
        "order",
        "order_line",
        "variant",
        "downloads_used",
        "revoked_at",
        "revoke_reason",
        "granted_by",
        "created_at",
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = GrantForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return GrantForm.Meta.fields
        return ["product", "user", "email", "download_limit", "expires_at", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        data = form.cleaned_data
        granted = services.entitlement_grant(
            product=data["product"],
            staff=request.user,
            user=data.get("user"),
            email=data.get("email") or "",
            download_limit=data.get("download_limit"),
            expires_at=data.get("expires_at"),
        )
        form.instance = obj = granted
        obj.pk = granted.pk

    @admin.action(description="Reset the download count", permissions=["change"])
    def reset_downloads(self, request, queryset):
        for entitlement in queryset:
            services.entitlement_reset(entitlement=entitlement)
        self.message_user(request, f"{queryset.count()} reset.", messages.SUCCESS)

    @admin.action(description="Give 3 more downloads", permissions=["change"])
    def add_downloads(self, request, queryset):
        count = queryset.update(download_limit=F("download_limit") + 3)
        self.message_user(request, f"{count} given 3 more downloads.", messages.SUCCESS)

    @admin.action(description="Revoke (no more downloads)", permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoke_reason=f"Revoked by {request.user.email}"
        )
        self.message_user(request, f"{count} revoked.", messages.SUCCESS)


@admin.register(DownloadEvent)
class DownloadEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "asset", "entitlement", "user", "ip_address"]
    list_select_related = ["asset", "entitlement__product", "user"]
    search_fields = ["entitlement__email", "entitlement__order__number", "asset__title"]
    date_hierarchy = "created_at"
    readonly_fields = ["entitlement", "asset", "user", "ip_address", "user_agent", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)


@admin.register(Chapter)
class ChapterAdmin(admin.ModelAdmin):
    list_display = ["product", "position", "title", "updated_at"]
    list_display_links = ["title"]
    list_filter = [("product", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["product"]
    search_fields = ["title", "product__name"]
    autocomplete_fields = ["product"]
    fields = ["product", "position", "title", "body"]
    ordering = ["product", "position"]

    def save_model(self, request, obj, form, change):
        services.chapter_save(chapter=obj)
