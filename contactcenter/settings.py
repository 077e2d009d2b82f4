"""The one typed Settings object: the only place that reads the environment (CC_*)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class QueueHours(BaseModel):
    """A queue's own business hours ("" = the centre's) and holidays on top of the centre's."""

    hours: str = ""
    holidays: str = ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CC_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/contactcenter.db"
    # No redis_url means the in-process bus (one process only).
    redis_url: str | None = None
    # Signs visitor tokens. Unset: the embedded default keeps a random key in secret_key_file; any other
    # deployment refuses to start (auth/secret.py).
    secret_key: SecretStr = SecretStr("")
    secret_key_file: Path = Path("var/secret_key")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Limits for requests; bigger bodies are refused before parsing.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Login attempts allowed per minute, per (username, client address) and per client address (a success
    # resets its pair and does not count for the address); password checks running at once per process.
    login_attempts_per_minute: int = Field(default=5, ge=1)
    login_ip_attempts_per_minute: int = Field(default=50, ge=1)
    login_verify_concurrency: int = Field(default=2, ge=1, le=64)
    session_hours: int = Field(default=12, ge=1)
    # Secure session cookie even over http (HTTPS requests always get one); the proxies whose
    # X-Forwarded-Proto / X-Forwarded-For are believed (comma-separated addresses, "*" for any).
    cookie_secure: bool = False
    trusted_proxies: str = "127.0.0.1,::1"
    # Strict-Transport-Security max-age on HTTPS responses; 0 sends none.
    hsts_max_age_s: int = Field(default=31_536_000, ge=0)
    # Open websockets per client address, per process; past it: too_many_sockets then 4429.
    max_sockets_per_address: int = Field(default=50, ge=1)
    # Region assumed for phone numbers typed without a leading +country code.
    default_phone_region: str = Field(default="GB", min_length=2, max_length=2)
    # Chat: open conversations one agent holds at once; heartbeat period of staff sockets (presence follows
    # it) and of customer sockets (only there to find dead sockets: decision 22); attachment size cap.
    chat_capacity: int = Field(default=4, ge=1, le=50)
    heartbeat_s: float = Field(default=5.0, gt=0.1, le=60)
    customer_heartbeat_s: float = Field(default=15.0, gt=0.1, le=60)
    max_upload_bytes: int = Field(default=5 * 1_048_576, ge=1024)
    # Co-browse: largest incremental event and largest batch holding a page's full snapshot (JSON bytes);
    # over either the session degrades (docs/cobrowse.md).
    cobrowse_max_event_bytes: int = Field(default=65_536, ge=1024)
    cobrowse_max_snapshot_bytes: int = Field(default=1_048_576, ge=4096)
    # Document push: largest document in the library; life of a pushed document's link (the customer's
    # visitor token is checked too: docs/api.md "Documents").
    document_max_bytes: int = Field(default=20 * 1_048_576, ge=1024)
    document_link_s: int = Field(default=24 * 3600, ge=1)
    # Customer satisfaction (csat/): how long after a conversation closed its customer may still rate it (the
    # widget's prompt and the email's signed link alike), and the channels whose customers are asked in the
    # widget as the conversation closes (others, like email, get the link: decision 52).
    csat_rate_days: int = Field(default=14, ge=1, le=365)
    csat_widget_channels: str = Field(default="chat,voice,callback", max_length=200)
    # Anonymous visitors (docs/security.md, "Anonymous visitors"): visitor tokens per client address a minute
    # and their life (the widget renews a token still valid, or expired less than the grace ago, for the
    # same customer); chats open at once per address; new chats per visitor and per address an hour; new
    # chats per queue a minute (everyone's: past it the widget says the centre is busy).
    visitor_tokens_per_minute: int = Field(default=20, ge=1)
    visitor_token_hours: float = Field(default=24.0, gt=0, le=24 * 90)
    visitor_renew_grace_hours: float = Field(default=24.0 * 7, ge=0, le=24 * 90)
    chat_open_per_address: int = Field(default=10, ge=0)  # 0: no limit (behind a NAT everyone shares one)
    chat_new_per_visitor_per_hour: int = Field(default=10, ge=1)
    chat_new_per_address_per_hour: int = Field(default=30, ge=1)
    chat_new_per_queue_per_minute: int = Field(default=100, ge=1)
    # Uploads: count and bytes per conversation (all time) and per visitor (last 24 hours), uploads per
    # visitor a minute; an upload no sent message references is deleted after `upload_unsent_max_age_s`.
    upload_max_files_per_conversation: int = Field(default=20, ge=1)
    upload_max_bytes_per_conversation: int = Field(default=50 * 1_048_576, ge=1024)
    upload_max_files_per_visitor: int = Field(default=40, ge=1)
    upload_max_bytes_per_visitor: int = Field(default=100 * 1_048_576, ge=1024)
    upload_per_visitor_per_minute: int = Field(default=10, ge=1)
    upload_unsent_max_age_s: float = Field(default=24 * 3600.0, gt=0)
    # Transcripts: mails to one recipient address a day (whoever asks), and per visitor an hour.
    transcripts_per_address_per_day: int = Field(default=5, ge=1)
    transcripts_per_visitor_per_hour: int = Field(default=5, ge=1)
    # Routing: seconds an agent has to answer an offer; seconds without a console heartbeat before an agent
    # is offline (their offers go back to the queue); default wrap-up length; whether offers are taken at
    # once (until the console has an offer alert, chats go straight to the agent).
    routing_offer_s: float = Field(default=20.0, ge=2, le=600)
    routing_presence_s: float = Field(default=10.0, ge=2, le=120)
    routing_wrap_up_s: float = Field(default=30.0, ge=1, le=3600)
    routing_auto_accept: bool = True
    # Routing priority a customer's value tier adds to every contact of theirs ("tier=points", 0-9 in all,
    # with what the channel asks, e.g. a booked callback): served before others of the same queue.
    routing_tier_priority: str = Field(
        default="platinum=3,gold=2,silver=1", pattern=r"^\s*([a-z_]+\s*=\s*\d\s*(,\s*[a-z_]+\s*=\s*\d\s*)*)?$"
    )
    # Wrap-up outcomes an agent closes a conversation with: "code=Label" pairs, comma-separated.
    wrap_up_codes: str = (
        "sale=Sale,resolved=Resolved,follow_up=Follow-up needed,no_answer=No answer,"
        "not_interested=Not interested,other=Other"
    )
    # The other sites that may embed the widget (exact origins, comma-separated: "https://www.bank.example");
    # the app's own pages always may. Visitor routes answer them with CORS, customer sockets accept them.
    widget_origins: str = ""
    # Outbound mail relay for transcripts ("smtp://host:port"); unset means transcripts are unavailable.
    smtp_url: str | None = None
    mail_from: str = "Contact Center <noreply@localhost>"
    # Inbound email (channels/email): the SMTP server runs only when enabled (make run enables it); loopback
    # unless configured; the recipient domains it accepts (others: 550); the largest message (552).
    smtp_enabled: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=0, le=65535)
    email_domains: str = "localhost,contactcenter.local"
    email_max_bytes: int = Field(default=25 * 1_048_576, ge=1024)
    # The optional IMAP poller (channels/email/imap.py): a mailbox read every `poll_s` into the same store as
    # SMTP (none without a host); each message is stored before anything is done to it on the server, then
    # marked seen (`after`=seen), deleted (`delete`) or left as it is (`keep`). TLS from the first byte
    # (`ssl`) or by STARTTLS; the system's certificate authorities.
    email_imap_host: str = ""
    email_imap_port: int = Field(default=993, ge=1, le=65535)
    email_imap_ssl: bool = True
    email_imap_starttls: bool = False
    email_imap_username: str = ""
    email_imap_password: SecretStr = SecretStr("")
    email_imap_folder: str = Field(default="INBOX", min_length=1, max_length=200)
    email_imap_poll_s: float = Field(default=30.0, gt=0, le=3600)
    email_imap_after: Literal["seen", "delete", "keep"] = "seen"
    email_imap_timeout_s: float = Field(default=30.0, gt=0, le=300)
    # Outbound email (replies and acknowledgements, channels/email/outbox.py): the relay (no host: replies wait
    # in the outbox), STARTTLS and credentials when it wants them, our From address (its domain names our
    # Message-IDs); a failed send is due again after `email_retry_s`, doubling up to `email_retry_max_s`, for
    # ever (a 5xx refusal stops it: the agent sees it and may send again); the worker looks every `poll_s`.
    email_relay_host: str = ""
    email_relay_port: int = Field(default=25, ge=1, le=65535)
    email_relay_starttls: bool = False
    email_relay_username: str = ""
    email_relay_password: SecretStr = SecretStr("")
    email_relay_timeout_s: float = Field(default=30.0, gt=0, le=300)
    email_from: str = "Contact Center <help@contactcenter.local>"
    email_retry_s: float = Field(default=10.0, gt=0, le=3600)
    email_retry_max_s: float = Field(default=900.0, gt=0, le=86_400)
    email_poll_s: float = Field(default=2.0, gt=0, le=300)
    # Auto-acknowledgement of a new thread (never to automatic mail), at most `ack_per_sender` a sender in
    # `ack_window_h` hours (two help desks cannot loop); up to 3 knowledge-base links (`kb_link`: {slug}).
    email_ack_enabled: bool = True
    email_ack_per_sender: int = Field(default=3, ge=1, le=1000)
    email_ack_window_h: float = Field(default=24.0, gt=0, le=24 * 30)
    email_kb_link: str = "http://127.0.0.1:8000/api/kb/articles/{slug}"
    # The rating page's address in the "How did we do?" mail a closing email conversation sends when a person
    # answered it (`{path}` replaced by the signed /csat/... path); empty: no such mail.
    email_csat_link: str = Field(default="http://127.0.0.1:8000{path}", max_length=300)
    # First-response target: a person's reply is due this long after the customer's first message; a clock
    # this close to its due time shows a warning (console, wallboard) before it is overdue.
    email_first_response_h: float = Field(default=24.0, gt=0, le=24 * 30)
    email_first_response_warn_h: float = Field(default=2.0, ge=0, le=24 * 30)
    # How often each process looks for clocks owed an alert (due soon, overdue: channels/email/alerts.py).
    email_alert_tick_s: float = Field(default=30.0, gt=0, le=3600)
    # The clock counts staffed time only (routing/hours.py): `email_hours` ("" = round the clock) in
    # `email_timezone`, less the centre's holidays; a queue may keep hours and extra holidays of its own:
    # CC_EMAIL_QUEUE_HOURS='{"billing": {"hours": "mon-fri=08:00-18:00", "holidays": "2026-12-24"}}'.
    email_hours: str = ""
    email_timezone: str = "Europe/London"
    email_queue_hours: dict[str, QueueHours] = Field(default_factory=dict)
    # Knowledge base (kb/): the language articles fall back to, and searches per client address a minute.
    kb_default_lang: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    kb_searches_per_minute: int = Field(default=60, ge=1)
    # Consent (consent/): the version of the privacy text the widget shows; changing it asks every visitor
    # again (their earlier answers no longer count). The policy page's address, linked from the question.
    consent_policy_version: str = Field(default="1", min_length=1, max_length=40)
    consent_policy_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    # Page views (with "browsing" consent) a visitor may send a minute; beyond, 429 too_many_page_views.
    pageviews_per_minute: int = Field(default=60, ge=1)
    # Proactive invitations (engage/, decision 54): on or off; the share of visitors held out (shown nothing,
    # recorded, by a hash of the visitor); at most one invitation per visitor each `gap_minutes` and
    # `per_day` a day; checks a visitor's widget may make a minute (429 beyond); the queue whose state decides
    # "chat now"; the seconds on a pricing page before the default rule invites (a planner's own rule set
    # replaces the defaults); the path prefixes of a cart or application form (comma-separated), for
    # web.cart_left; how many days after an invitation a contact or an order counts for its results.
    engage_enabled: bool = True
    engage_holdout_pct: float = Field(default=10.0, ge=0, le=50)
    engage_gap_minutes: float = Field(default=10.0, ge=0, le=24 * 60)
    engage_per_day: int = Field(default=3, ge=1, le=100)
    engage_checks_per_minute: int = Field(default=12, ge=1, le=600)
    engage_queue: str = Field(default="general", max_length=40)
    engage_linger_s: int = Field(default=90, ge=1, le=3600)
    engage_cart_paths: str = Field(default="/cart,/checkout,/apply", max_length=500)
    engage_attribution_days: int = Field(default=7, ge=1, le=90)
    # Browsing sessions (engage/sessions.py, decision 56): a visitor has "left" when no page view came for
    # `session_gap_minutes`; a page whose path holds one of `product_paths` (comma-separated) is a product page.
    engage_session_gap_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    engage_product_paths: str = Field(default="/funds/,/mortgages,/card,/pricing,/products/", max_length=500)
    # Web callback (channels/callback): opening hours ("mon-fri=09:00-17:00,sat=10:00-13:00") in a timezone,
    # slot length and bookings per slot and queue, how far ahead slots are offered; a booked callback enters
    # routing `lead_s` before its slot at `booked_priority` (0-9; ordinary contacts are 0); no answer / busy
    # is retried `retry_delay_s` later up to `max_attempts`; an "as soon as possible" request counts as kept
    # when started within `asap_window_s`; cancel / reschedule links live `link_hours`; the scheduler looks
    # for due callbacks every `tick_s`; new requests per visitor an hour.
    callback_hours: str = "mon-fri=09:00-17:00"
    # The centre's holidays (ISO dates, comma-separated, local to each calendar): no callback slots, and
    # first-response clocks stand still.
    holidays: str = ""
    callback_timezone: str = "Europe/London"
    callback_slot_minutes: int = Field(default=30, ge=5, le=240)
    callback_slot_capacity: int = Field(default=4, ge=1, le=1000)
    callback_days_ahead: int = Field(default=7, ge=1, le=60)
    callback_lead_s: float = Field(default=120.0, ge=0, le=3600)
    callback_booked_priority: int = Field(default=5, ge=0, le=9)
    callback_retry_delay_s: float = Field(default=600.0, ge=1, le=86_400)
    callback_max_attempts: int = Field(default=3, ge=1, le=20)
    callback_asap_window_s: float = Field(default=900.0, ge=60, le=86_400)
    callback_link_hours: float = Field(default=72.0, gt=0, le=24 * 60)
    callback_tick_s: float = Field(default=5.0, gt=0.05, le=300)
    callback_new_per_visitor_per_hour: int = Field(default=5, ge=1)
    # Voice (channels/voice, decision 41): STUN/TURN URLs offered to the server's peer connections (comma-
    # separated; none by default, so no third party is asked); the host addresses its media may use (comma-
    # separated; empty: every interface aioice finds, which leaves loopback out); stereo recordings (customer
    # left, agent right) and where they are kept; calls a process bridges at once; new calls per visitor an hour.
    voice_ice_urls: str = ""
    voice_host_addresses: str = ""
    voice_record: bool = True
    voice_recordings_dir: Path = Path("var/recordings")
    voice_max_calls: int = Field(default=200, ge=1, le=10_000)
    voice_calls_per_visitor_per_hour: int = Field(default=10, ge=1)
    # A leg whose media has not connected this long after the server's answer ends the call (`no_media`).
    voice_connect_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # A call assigned to an agent who has not answered it this long goes back to its queue and the agent is set
    # away; after this many such misses the call ends (`no_answer`). channels/voice/answer.py
    voice_answer_timeout_s: float = Field(default=30.0, gt=0, le=600)
    voice_answer_attempts: int = Field(default=3, ge=1, le=20)
    # Where calls' media runs (decision 57): `inprocess`, every web process also bridges calls (the calls its
    # customers place) and forwards a frame for a call held elsewhere over the bus; `external`, web processes
    # bridge nothing and place every call on a `contactcenter voice-worker` process (needs CC_REDIS_URL).
    voice_workers: Literal["inprocess", "external"] = "inprocess"
    # A process bridging calls renews its presence this often over its lease; a process whose lease ran out
    # is gone, and its calls are ended (`worker_lost`) by whichever process notices first.
    voice_worker_ttl_s: float = Field(default=10.0, ge=1, le=300)
    # How long a web process waits for the process holding a call to answer a forwarded frame.
    voice_request_timeout_s: float = Field(default=10.0, gt=0, le=120)
    stream_maxlen: int = Field(default=10_000, ge=100)
    log_level: str = "INFO"
    log_json: bool = True
    web_dir: Path = Path(__file__).resolve().parent.parent / "web"
    # Business rules: the reviewed folder loaded at start; fact cache lifetime; order-to-suggestion attribution.
    rules_dir: Path = Path(__file__).resolve().parent.parent / "rules"
    facts_ttl_s: float = Field(default=60.0, ge=0, le=3600)
    attribution_days: int = Field(default=30, ge=0, le=365)
    # Rule runs happen in worker processes (sandbox.py): how many, and how long one run may take before the
    # worker is killed and the rule version stopped (docs/security.md).
    rules_time_limit_ms: int = Field(default=250, ge=10, le=60_000)
    rules_workers: int = Field(default=2, ge=1, le=32)
    # Customer analytics (decision 36): spend over the last `analytics_period_days` ranks customers into tiers
    # (these percentages of the customers holding any order, best first; the rest bronze), compared with the
    # period before; no order for more than `analytics_recency_days` raises the attrition risk. Associations
    # need at least `analytics_min_baskets` customers holding both products; each customer keeps its best
    # `analytics_next_products` next products.
    analytics_period_days: int = Field(default=182, ge=7, le=3660)
    analytics_platinum_pct: float = Field(default=5.0, ge=0, le=100)
    analytics_gold_pct: float = Field(default=15.0, ge=0, le=100)
    analytics_silver_pct: float = Field(default=30.0, ge=0, le=100)
    analytics_recency_days: int = Field(default=180, ge=1, le=3660)
    analytics_min_baskets: int = Field(default=5, ge=1)
    analytics_next_products: int = Field(default=3, ge=1, le=20)
    # Run the full recompute inside the server when the last one is older than this many hours (0: only
    # `contactcenter analytics run`); one process runs it, whatever their number (analytics/jobs.py).
    analytics_every_h: float = Field(default=0.0, ge=0, le=24 * 31)
    # Outbound webhooks (webhooks/): the listener and delivery worker run when enabled; an attempt's timeout;
    # attempts before a delivery is dead; the first retry's delay and the longest one (exponential, jittered,
    # never sooner than a Retry-After); how often a worker looks for due deliveries; hosts a subscriber may
    # name although they are loopback or private (comma-separated: docs/security.md); subscribers at most.
    webhooks_enabled: bool = True
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # The back office's REST API (integration/connectors.py, docs/integration.md): orders and stock read live
    # for the console. Unset: the console shows only the orders recorded here.
    backoffice_url: str | None = Field(default=None, pattern=r"^https?://")
    backoffice_token: SecretStr = SecretStr("")
    backoffice_timeout_s: float = Field(default=2.0, gt=0, le=30)
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    webhook_backoff_s: float = Field(default=10.0, ge=0, le=3600)
    webhook_backoff_max_s: float = Field(default=3600.0, ge=0, le=86_400)
    webhook_poll_s: float = Field(default=2.0, gt=0, le=300)
    webhook_allowed_hosts: str = ""
    webhook_max_subscribers: int = Field(default=50, ge=1, le=1000)
    # Bearer token /metrics demands when set; unset leaves it open (bind it to a private network then).
    metrics_token: SecretStr | None = None
    # FastAPI's /docs, /redoc and /openapi.json: off unless asked for (development).
    api_docs: bool = False

    @model_validator(mode="after")
    def _tier_shares_fit(self) -> Settings:
        if self.analytics_platinum_pct + self.analytics_gold_pct + self.analytics_silver_pct > 100:
            raise ValueError("CC_ANALYTICS_PLATINUM_PCT + _GOLD_PCT + _SILVER_PCT must not exceed 100")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
