from rest_framework import serializers

from downloads import selectors
from orders.api.serializers import ProductRefOutput


class AssetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    content_type = serializers.CharField()
    version = serializers.CharField()
    checksum = serializers.CharField(help_text="SHA-256 of the file, hex.")


class DownloadInfoOutput(serializers.Serializer):
    product = ProductRefOutput()
    order = serializers.CharField(source="order.number", allow_null=True, default=None)
    files = serializers.SerializerMethodField()
    download_limit = serializers.IntegerField()
    downloads_used = serializers.IntegerField()
    downloads_left = serializers.IntegerField()
    expires_at = serializers.DateTimeField(allow_null=True)
    state = serializers.SerializerMethodField(
        help_text="`active`, `used_up`, `expired` or `revoked` (refunded or cancelled)."
    )
    download_url = serializers.SerializerMethodField(
        help_text="GET it to download (counts one download; redirects to a 5-minute link)."
    )

    def get_files(self, entitlement) -> list[dict]:
        return AssetOutput(selectors.files_for(entitlement), many=True).data

    def get_state(self, entitlement) -> str:
        return selectors.entitlement_state(entitlement)

    def get_download_url(self, entitlement) -> str:
        request = self.context["request"]
        return request.build_absolute_uri(f"/api/v1/downloads/{entitlement.product_id}")
