from django.dispatch import Signal

# Sent after an account is closed and its personal data erased. Arguments: `user`.
user_deleted = Signal()
