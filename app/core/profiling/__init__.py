"""Data profiles: per-column statistics, associations, missing values, target analysis and
data-quality warnings of a dataset version, computed as a job and cached in the store.

Modules: ``settings`` (what a profile is computed with, the cache key), ``arrays`` (columns
as numpy arrays, the shared row sample), ``stats``/``stats_text``/``stats_time`` (exact
per-column statistics by role), ``associations`` (pairwise measures on a sample),
``missing`` (missing-value views, duplicate rows), ``target`` (target analysis and leakage),
``warnings`` (rules over a computed document), ``engine`` (the stages, with progress),
``plots``/``plots_target`` (matplotlib figures of a document), ``report_html``/``report_svg``
(the self-contained HTML export) and ``service`` (``ProfileService``: cache, store, export).

Importing this package is cheap (no numpy, pyarrow or matplotlib): the GUI imports it at
start-up and the heavy modules load inside the job that computes or draws a profile.
"""

from app.core.profiling.service import Profile, ProfileService
from app.core.profiling.settings import FORMAT_VERSION, ProfileSettings, Thresholds, settings_key

__all__ = [
    "FORMAT_VERSION",
    "Profile",
    "ProfileService",
    "ProfileSettings",
    "Thresholds",
    "settings_key",
]
