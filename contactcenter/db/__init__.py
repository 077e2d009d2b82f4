"""Engine, session factory and the Mapped[] Base; models live with their capability."""

from contactcenter.db.base import Base, UTCDateTime, utcnow
from contactcenter.db.engine import Database

__all__ = ["Base", "Database", "UTCDateTime", "utcnow"]
