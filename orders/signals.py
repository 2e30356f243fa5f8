"""What orders tell the rest of the store. Sent after the transaction commits.

Every signal is sent with `order=` (and `previous_status=` for status changes).
"""

from django.dispatch import Signal

order_placed = Signal()
order_status_changed = Signal()
order_paid = Signal()
order_shipped = Signal()
order_delivered = Signal()
order_cancelled = Signal()
order_refunded = Signal()
