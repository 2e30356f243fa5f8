from config.exceptions import ApplicationError


class PaymentError(ApplicationError):
    code = "payment_error"


class ProviderUnavailable(PaymentError):
    code = "provider_unavailable"


class OrderNotPayable(PaymentError):
    code = "order_not_payable"
    status_code = 409


class PaymentDeclined(PaymentError):
    """The gateway refused the payment (a declined card). The order stays payable."""

    code = "card_declined"
    status_code = 402


class GatewayError(PaymentError):
    """The gateway could not be reached or failed; nothing was charged twice."""

    code = "gateway_error"
    status_code = 502


class RefundError(PaymentError):
    code = "refund_invalid"
