"""Imports every capability's models so Base.metadata knows all tables (used by Alembic and tests)."""

from contactcenter.analytics import models as analytics_models
from contactcenter.auth import models as auth_models
from contactcenter.campaigns import models as campaigns_models
from contactcenter.ccr import models as ccr_models
from contactcenter.channels.callback import models as callback_models
from contactcenter.channels.chat import models as chat_models
from contactcenter.channels.email import models as email_models
from contactcenter.channels.voice import models as voice_models
from contactcenter.cobrowse import models as cobrowse_models
from contactcenter.consent import models as consent_models
from contactcenter.conversations import models as conversations_models
from contactcenter.csat import models as csat_models
from contactcenter.documents import models as documents_models
from contactcenter.engage import models as engage_models
from contactcenter.integration import models as integration_models
from contactcenter.kb import models as kb_models
from contactcenter.routing import models as routing_models
from contactcenter.suggestions import models as suggestions_models
from contactcenter.webhooks import models as webhooks_models


def modelled(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's include_object: false for the backend-specific search indexes the migrations create and the
    models do not describe (kb_models.SEARCH_*), so the schema-drift check and autogenerate leave them be."""
    if type_ == "table":
        return name not in kb_models.SEARCH_TABLES
    if type_ == "column":
        table = getattr(getattr(obj, "table", None), "name", None)
        return (table, name) not in kb_models.SEARCH_COLUMNS
    if type_ == "index":
        return name not in kb_models.SEARCH_INDEXES
    return True


__all__ = [
    "analytics_models",
    "auth_models",
    "callback_models",
    "campaigns_models",
    "ccr_models",
    "chat_models",
    "cobrowse_models",
    "consent_models",
    "conversations_models",
    "csat_models",
    "documents_models",
    "email_models",
    "engage_models",
    "integration_models",
    "kb_models",
    "modelled",
    "routing_models",
    "suggestions_models",
    "voice_models",
    "webhooks_models",
]
