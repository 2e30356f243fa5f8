"""A job's result from the local private folder, behind a signed link that works for five
minutes (on R2 the API redirects to a presigned URL instead)."""

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse

from pipeline import services


def result(request: HttpRequest, token: str) -> HttpResponse:
    found = services.result_from_link(token)
    if found is None:
        minutes = max(settings.DOWNLOAD_LINK_SECONDS // 60, 1)
        return HttpResponse(
            f"This link has expired (links work for {minutes} minutes): download the result "
            "again from its job.",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    job, kind = found
    field, _, content_type = services.RESULTS[kind]
    response = FileResponse(
        getattr(job, field).open("rb"),
        as_attachment=True,
        filename=services.result_filename(job, kind),
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response
