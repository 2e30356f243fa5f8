from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.api import views

router = SimpleRouter(trailing_slash=False)
router.register("orders", views.OrderViewSet, basename="order")
router.register("shipping-methods", views.ShippingMethodViewSet, basename="shipping-method")

urlpatterns = [
    path("cart", views.CartView.as_view(), name="cart"),
    path("cart/items", views.CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<int:item_id>", views.CartItemView.as_view(), name="cart-item"),
    path("checkout", views.CheckoutView.as_view(), name="checkout"),
    path("guest/checkout", views.GuestCheckoutView.as_view(), name="guest-checkout"),
    path("guest/verify", views.GuestVerifyView.as_view(), name="guest-verify"),
    path("guest/orders/<str:token>", views.GuestOrderView.as_view(), name="guest-order"),
    *router.urls,
]
