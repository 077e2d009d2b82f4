"""The email channel as a capability: its routes, the ingest worker (always: it files any backlog left in
email_raw), the SMTP server, started only when CC_SMTP_ENABLED is set, and the outbox's sender, started
when a relay is configured (CC_EMAIL_RELAY_HOST; without one, replies wait in the outbox)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from email.utils import parseaddr

import structlog
from fastapi import APIRouter

from contactcenter.capabilities import AppContext
from contactcenter.channels.email import clock, followup, outbox, reply_routes, service, smtp
from contactcenter.channels.email.alerts import DueWatch
from contactcenter.channels.email.imap import ImapPoller
from contactcenter.channels.email.ingest import Ingestor
from contactcenter.channels.email.mailbox import ImapConfig
from contactcenter.channels.email.routes import router
from contactcenter.channels.email.sender import Relay, Sender
from contactcenter.channels.email.smtp import start_server
from contactcenter.channels.email.survey import Survey, on_close
from contactcenter.conversations import service as conversations

log = structlog.get_logger("email")


class EmailCapability:
    name = service.CHANNEL

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.ingestor: Ingestor | None = None
        self.sender: Sender | None = None
        self.imap: ImapPoller | None = None
        self.alerts: DueWatch | None = None

    def routers(self) -> Sequence[APIRouter]:
        return [router, reply_routes.router]

    def wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.notify()

    async def start(self, ctx: AppContext) -> None:
        s = ctx.settings
        mine = smtp.accepted_domains(s.email_domains) | {outbox.domain_of(s.email_from)}
        policy = followup.Policy(
            from_addr=s.email_from,
            our_domains=frozenset(mine),
            clock=clock.policy_of(s),  # malformed hours stop the start, not the first mail
            ack=s.email_ack_enabled,
            per_sender=s.email_ack_per_sender,
            window=timedelta(hours=s.email_ack_window_h),
            kb_link=s.email_kb_link,
            kb_lang=s.kb_default_lang,
        )
        # The closing mail asks for a rating: the channel's close hook, which needs the settings.
        survey = Survey(
            s.secret_key.get_secret_value(), s.email_csat_link, s.csat_rate_days, s.email_from, frozenset(mine)
        )
        spec = conversations.channel(service.CHANNEL)
        if spec is not None:
            conversations.register_channel(replace(spec, on_close=on_close(survey) if s.email_csat_link else None))
        self.ingestor = Ingestor(
            ctx.db, ctx.bus, region=s.default_phone_region, policy=policy, on_queued=self.wake_sender
        )
        self.ingestor.start()
        self.alerts = DueWatch(ctx.db, ctx.bus, policy.clock, s.email_alert_tick_s)
        self.alerts.start()
        if s.email_relay_host:
            relay = Relay(
                host=s.email_relay_host,
                port=s.email_relay_port,
                starttls=s.email_relay_starttls,
                username=s.email_relay_username,
                password=s.email_relay_password.get_secret_value(),
                timeout_s=s.email_relay_timeout_s,
            )
            self.sender = Sender(
                ctx.db,
                ctx.bus,
                relay,
                helo=outbox.domain_of(s.email_from),
                envelope_from=parseaddr(s.email_from)[1],
                retry_s=s.email_retry_s,
                retry_max_s=s.email_retry_max_s,
                poll_s=s.email_poll_s,
            )
            self.sender.start()
        if s.email_imap_host:
            self.imap = ImapPoller(
                ctx.db,
                ImapConfig(
                    host=s.email_imap_host,
                    port=s.email_imap_port,
                    ssl=s.email_imap_ssl,
                    starttls=s.email_imap_starttls,
                    username=s.email_imap_username,
                    password=s.email_imap_password.get_secret_value(),
                    folder=s.email_imap_folder,
                    timeout_s=s.email_imap_timeout_s,
                ),
                after=s.email_imap_after,
                poll_s=s.email_imap_poll_s,
                max_bytes=s.email_max_bytes,
                on_stored=self.ingestor.notify,
            )
            self.imap.start()
            log.info("imap_polling", mailbox=self.imap.cfg.key, every_s=s.email_imap_poll_s)
        if not s.smtp_enabled:
            return
        self.server = await start_server(
            ctx.db,
            host=s.smtp_host,
            port=s.smtp_port,
            domains=s.email_domains,
            max_bytes=s.email_max_bytes,
            on_stored=self.ingestor.notify,
        )
        log.info("smtp_listening", host=s.smtp_host, port=s.smtp_port)

    async def stop(self) -> None:
        if self.alerts is not None:
            await self.alerts.stop()
            self.alerts = None
        if self.imap is not None:
            await self.imap.stop()
            self.imap = None
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        if self.sender is not None:
            await self.sender.stop()
            self.sender = None
        if self.ingestor is not None:
            await self.ingestor.stop()
            self.ingestor = None


def capability() -> EmailCapability:
    return EmailCapability()
