"""The one base class of the store's business errors."""


class ApplicationError(Exception):
    """A business rule refused an action. Services raise it; the API turns it into a 4xx.

    `code` is stable and machine-readable (clients switch on it); `message` is for people;
    `fields` maps input field names to lists of messages when the error is about a field.
    """

    code = "error"
    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.fields = fields or {}
        if status_code is not None:
            self.status_code = status_code
