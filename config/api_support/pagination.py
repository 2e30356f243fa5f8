from rest_framework.pagination import PageNumberPagination as DRFPageNumberPagination


class PageNumberPagination(DRFPageNumberPagination):
    """`?page=N&page_size=M`; clients may ask for up to 100 rows a page."""

    page_size_query_param = "page_size"
    max_page_size = 100
