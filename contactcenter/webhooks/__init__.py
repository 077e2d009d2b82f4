"""Outbound signed webhooks (Standard Webhooks): admin-registered subscribers, a persistent outbox of
deliveries fed by the contact events on the bus, and a worker that posts, retries and dead-letters them."""
