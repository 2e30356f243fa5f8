from config.exceptions import ApplicationError


class DownloadError(ApplicationError):
    code = "download_error"


class NotEntitled(DownloadError):
    """Nothing bought gives this requester this product's files (or there are none)."""

    code = "not_found"
    status_code = 404


class DownloadRefused(DownloadError):
    """The purchase exists but no download is left: limit reached, expired or refunded."""

    code = "download_refused"
    status_code = 403
