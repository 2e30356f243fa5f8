from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("orders/<str:number>/pay/", views.pay, name="pay"),
    path("orders/<str:number>/pay/manual/", views.manual, name="manual"),
    path("orders/<str:number>/pay/done/", views.done, name="done"),
    path("orders/<str:number>/refund/", views.refund_request, name="refund-request"),
]
