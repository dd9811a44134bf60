"""ORM row of ``modeldesk store copy`` (issue 18): which store was copied into this one.

The row is written before the first copied row and closed after the last, so a copy that
was interrupted is told apart from a database that already held someone else's data: the
first may be resumed, the second is refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.store.models import Base


class StoreCopyRow(Base):
    __tablename__ = "store_copies"

    #: the source store's URL, without a password
    source: Mapped[str] = mapped_column(String(500), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
