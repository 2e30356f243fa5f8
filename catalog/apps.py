from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from catalog import receivers
        from catalog.search import install_search

        receivers.connect()
        post_migrate.connect(install_search, sender=self, dispatch_uid="catalog_install_search")
