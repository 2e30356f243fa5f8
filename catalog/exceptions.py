from config.exceptions import ApplicationError


class CatalogError(ApplicationError):
    code = "catalog_error"


class InsufficientStock(CatalogError):
    """Not enough stock for one or more variants. `shortages` says which and by how much."""

    code = "insufficient_stock"
    status_code = 409

    def __init__(self, message: str, *, shortages: list[dict], **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.shortages = shortages


class StockNotTracked(CatalogError):
    code = "stock_not_tracked"
