from django.db.models import QuerySet

from accounts.models import Address, User


def address_list(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user)
