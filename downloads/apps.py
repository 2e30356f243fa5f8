from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    name = "downloads"

    def ready(self) -> None:
        from downloads import receivers  # noqa: F401  (connects them)
