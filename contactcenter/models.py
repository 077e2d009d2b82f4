"""Imports every capability's models so Base.metadata knows all tables (used by Alembic and tests)."""

from contactcenter.auth import models as auth_models
from contactcenter.ccr import models as ccr_models
from contactcenter.channels.chat import models as chat_models
from contactcenter.channels.email import models as email_models
from contactcenter.cobrowse import models as cobrowse_models
from contactcenter.conversations import models as conversations_models
from contactcenter.integration import models as integration_models
from contactcenter.routing import models as routing_models
from contactcenter.suggestions import models as suggestions_models

__all__ = [
    "auth_models",
    "ccr_models",
    "chat_models",
    "cobrowse_models",
    "conversations_models",
    "email_models",
    "integration_models",
    "routing_models",
    "suggestions_models",
]
