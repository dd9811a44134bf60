"""Long work off the GUI thread: one runner for ingest, profiling, training and packaging."""

from app.jobs.runner import Job, JobEvent, JobRunner, JobState

__all__ = ["Job", "JobEvent", "JobRunner", "JobState"]
