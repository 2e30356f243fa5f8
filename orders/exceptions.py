from config.exceptions import ApplicationError


class OrderError(ApplicationError):
    code = "order_error"


class CartError(OrderError):
    code = "cart_error"


class CheckoutError(OrderError):
    """The cart cannot become an order as it is. `lines` names the cart lines at fault."""

    code = "checkout_error"

    def __init__(self, message: str, *, lines: list[dict] | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.lines = lines or []


class DiscountInvalid(OrderError):
    code = "discount_invalid"


class IllegalTransition(OrderError):
    code = "illegal_transition"


class VerificationFailed(OrderError):
    code = "verification_failed"
