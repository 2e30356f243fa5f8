from django.urls import path
from rest_framework.routers import SimpleRouter

from payments.api import views

router = SimpleRouter(trailing_slash=False)
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("refunds", views.RefundViewSet, basename="refund")

urlpatterns = [
    path("payments/create-intent", views.CreateIntentView.as_view(), name="payment-create-intent"),
    path("payments/confirm", views.ConfirmView.as_view(), name="payment-confirm"),
    path(
        "orders/<str:number>/refund-request",
        views.RefundRequestView.as_view(),
        name="order-refund-request",
    ),
    *router.urls,
]
