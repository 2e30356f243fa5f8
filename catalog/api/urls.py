from rest_framework.routers import SimpleRouter

from catalog.api import views

router = SimpleRouter(trailing_slash=False)
router.register("products", views.ProductViewSet, basename="product")
router.register("variants", views.VariantViewSet, basename="variant")
router.register("categories", views.CategoryViewSet, basename="category")

urlpatterns = router.urls
