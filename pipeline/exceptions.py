from config.exceptions import ApplicationError


class PipelineError(ApplicationError):
    code = "pipeline_error"


class PhotosRefused(PipelineError):
    """The upload cannot make a job: too few or too many photos, too large, or not images."""

    code = "invalid_photos"


class JobStateError(PipelineError):
    """The job is not in a state that allows this (cancel a finished job, download a result
    that does not exist yet...)."""

    code = "job_state"
    status_code = 409
