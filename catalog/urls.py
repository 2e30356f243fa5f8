from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("shop/", views.product_list, name="products"),
    path("shop/<slug:slug>/", views.category_detail, name="category"),
    path("search/", views.search, name="search"),
    path("products/<slug:slug>/", views.product_detail, name="product"),
]
