import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Address, User

DEFAULT_PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    class Params:
        raw_password = DEFAULT_PASSWORD

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    full_name = factory.Faker("name")
    is_verified = True
    password = factory.LazyAttribute(lambda o: make_password(o.raw_password))


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    recipient = factory.Faker("name")
    phone = "+44 20 7946 0958"
    line1 = factory.Faker("street_address")
    city = factory.Faker("city")
    postal_code = factory.Faker("postcode")
    country = "GB"
