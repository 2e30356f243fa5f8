"""Staff screens of the photo-to-3D pipeline: upload many photos of a product at once, follow
the jobs (status, progress bar, stage), look at a result, and attach, re-run or cancel."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from catalog.models import Product
from orders.admin import ReadOnlyInline
from pipeline import services
from pipeline.exceptions import PipelineError
from pipeline.models import CaptureJob, CapturePhoto


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that takes many files at once and cleans to a list."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class UploadForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(),
        required=False,
        help_text="The model is shown on this product's page when the job succeeds.",
    )
    photos = MultipleFileField(
        help_text="Walk around the object and take 20 to 100 photos, each overlapping the "
        "next, in even light. JPEG, PNG, WebP or HEIC.",
        widget=MultipleFileInput(attrs={"accept": "image/*,.heic,.heif"}),
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        product = self.fields["product"]
        product.widget = AutocompleteSelect(CaptureJob._meta.get_field("product"), admin_site)
        product.widget.choices = product.choices


class PhotoInline(ReadOnlyInline):
    model = CapturePhoto
    fields = ["position", "original_name", "content_type", "dimensions", "size_display"]
    readonly_fields = fields

    @admin.display(description="pixels")
    def dimensions(self, photo: CapturePhoto) -> str:
        return f"{photo.width} × {photo.height}"

    @admin.display(description="size")
    def size_display(self, photo: CapturePhoto) -> str:
        return filesizeformat(photo.size)


@admin.register(CaptureJob)
class CaptureJobAdmin(admin.ModelAdmin):
    list_display = [
        "short_id",
        "product",
        "status",
        "progress",
        "stage",
        "photo_count",
        "registered",
        "points",
        "created_at",
    ]
    list_filter = ["status", "created_at"]
    list_select_related = ["product"]
    search_fields = ["product__name", "error"]
    date_hierarchy = "created_at"
    actions = ["attach_to_product", "rerun", "cancel"]
    inlines = [PhotoInline]
    fieldsets = [
        (None, {"fields": ["product", "status", "progress", "stage", "error", "result"]}),
        (
            "Statistics",
            {
                "fields": [
                    "photo_count",
                    "registered",
                    "points",
                    "reprojection_error_display",
                    "triangles",
                    "mesh_method",
                    "timings_display",
                    "max_side",
                    "upload_size",
                ]
            },
        ),
        (
            "History",
            {
                "fields": [
                    "created_by",
                    "created_at",
                    "started_at",
                    "finished_at",
                    "heartbeat_at",
                    "attempts",
                    "model_3d",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_change_permission(self, request, obj=None) -> bool:
        # Jobs are changed by their actions only; the page itself is read-only.
        return False

    # --- Columns and read-only fields ---

    @admin.display(description="job", ordering="created_at")
    def short_id(self, job: CaptureJob) -> str:
        return str(job.pk)[:8]

    @admin.display(description="progress", ordering="percent")
    def progress(self, job: CaptureJob) -> str:
        return format_html(
            '<progress max="100" value="{}" aria-label="{}%">{}%</progress> {}%',
            job.percent,
            job.percent,
            job.percent,
            job.percent,
        )

    @admin.display(description="result")
    def result(self, job: CaptureJob) -> str:
        if job.status != CaptureJob.Status.SUCCEEDED:
            return "–"
        model = services.result_url(job=job, kind="glb")
        preview = services.result_url(job=job, kind="preview")
        return format_html(
            '<model-viewer class="capture-result" src="{}" poster="{}" camera-controls '
            'alt="The reconstructed model" style="width:min(100%,40rem);height:24rem;'
            'background:#eef1ee"></model-viewer>'
            '<p><a href="{}">Download the model (.glb)</a> · '
            '<a href="{}">point cloud (.ply)</a> · <a href="{}">preview</a></p>',
            model,
            preview,
            model,
            services.result_url(job=job, kind="ply"),
            preview,
        )

    @admin.display(description="mean reprojection error")
    def reprojection_error_display(self, job: CaptureJob) -> str:
        error = job.reprojection_error
        return "–" if error is None else f"{error:.2f} px"

    @admin.display(description="time per stage")
    def timings_display(self, job: CaptureJob) -> str:
        timings = job.timings or {}
        parts = [
            f"{label.lower()}: {timings[stage]:.1f} s"
            for stage, label in CaptureJob.Stage.choices
            if stage in timings
        ]
        return " · ".join(parts) or "–"

    @admin.display(description="uploaded")
    def upload_size(self, job: CaptureJob) -> str:
        return filesizeformat(job.upload_bytes)

    # --- Deleting removes the photos and results from the storage too ---

    def delete_model(self, request, obj: CaptureJob) -> None:
        services.job_delete(job=obj)

    def delete_queryset(self, request, queryset) -> None:
        for job in queryset:
            services.job_delete(job=job)

    # --- Uploading many photos at once (the "add" page) ---

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)
        initial = {"product": request.GET.get("product")}
        form = UploadForm(
            request.POST or None, request.FILES or None, initial=initial, admin_site=self.admin_site
        )
        if request.method == "POST" and form.is_valid():
            try:
                job = services.job_create(
                    uploads=form.cleaned_data["photos"],
                    user=request.user,
                    product=form.cleaned_data["product"],
                )
            except PipelineError as error:
                for message in error.fields.get("photos", [error.message]):
                    form.add_error("photos", message)
            else:
                self.message_user(
                    request,
                    f"{job.photo_count} photos uploaded: the 3D model is being made. This page "
                    "shows its progress.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:pipeline_capturejob_change", args=[job.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Make a 3D model from photos",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "limits": services.upload_limits(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/pipeline/capturejob/upload.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        context = {"refresh": job is not None and not job.is_finished, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    # --- Actions ---

    @admin.action(description="Show the model on its product's page", permissions=["add"])
    def attach_to_product(self, request, queryset) -> None:
        self._each(request, queryset, lambda job: services.job_attach(job=job), "attached")

    @admin.action(description="Run again from the photos", permissions=["add"])
    def rerun(self, request, queryset) -> None:
        self._each(request, queryset, lambda job: services.job_rerun(job=job), "queued again")

    @admin.action(description="Cancel", permissions=["add"])
    def cancel(self, request, queryset) -> None:
        self._each(
            request,
            queryset,
            lambda job: services.job_cancel(job=job, user=request.user),
            "cancelled",
        )

    def _each(self, request, queryset, act, done: str) -> None:
        count = 0
        for job in queryset.select_related("product"):
            try:
                act(job)
            except PipelineError as error:
                self.message_user(request, f"{job}: {error.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} job(s) {done}.", messages.SUCCESS)
