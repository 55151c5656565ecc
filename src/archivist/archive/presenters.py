"""Turning archive rows into what the API and the pages show."""

from __future__ import annotations

from collections.abc import Iterable

from archivist.archive.models import Interaction, RawEvent
from archivist.archive.schemas import CustomerOut, InteractionOut
from archivist.identifiers import render_phone


def shown_phone(interaction: Interaction, country: str, shown: dict[str, str] | None = None) -> str | None:
    """The caller's number in the seed's convention, or the raw value if it never parsed.

    ``shown``: the numbers already rendered for the same page (E.164 -> shown), filled here.
    """
    e164 = interaction.customer_phone_e164
    if not e164:
        return interaction.customer_phone
    if shown is None:
        return render_phone(e164, country)
    if (phone := shown.get(e164)) is None:
        phone = shown[e164] = render_phone(e164, country)
    return phone


def shown_raw_customer(event: RawEvent, country: str) -> str | None:
    """A raw data row's customer as the pages show numbers (the seed's convention, as
    ``shown_phone``); an address, a value that never parsed or the replacement text as stored."""
    if event.customer_norm and event.customer_norm.startswith("+"):
        return render_phone(event.customer_norm, country)
    return event.customer


def shown_email(interaction: Interaction) -> str | None:
    """The address as it came, without the spaces around it that some channels add (matching
    ignores them too); the case is kept, as typed."""
    return (interaction.customer_email or "").strip() or None


def interactions_out(interactions: Iterable[Interaction], country: str) -> list[InteractionOut]:
    """``interaction_out`` for a page of them, each distinct number rendered once: a search by
    phone shows one caller's number on every row, and rendering one parses it with
    ``phonenumbers`` twice (a third of a search's CPU when each row did it). The numbers are
    kept for this call only."""
    shown: dict[str, str] = {}
    return [interaction_out(i, country, shown) for i in interactions]


def interaction_out(interaction: Interaction, country: str, shown: dict[str, str] | None = None) -> InteractionOut:
    duration = None
    if interaction.ended_at is not None:
        duration = round((interaction.ended_at - interaction.started_at).total_seconds(), 3)
    return InteractionOut(
        id=interaction.id,
        external_id=interaction.external_id,
        channel=interaction.channel,
        direction=interaction.direction,
        started_at=interaction.started_at,
        ended_at=interaction.ended_at,
        duration_s=duration,
        queue=interaction.queue,
        agent=interaction.agent,
        customer=CustomerOut(
            phone=shown_phone(interaction, country, shown),
            email=shown_email(interaction),
            name=interaction.customer_name,
        ),
        service_number=interaction.service_number,
        subject=interaction.subject,
        variables=interaction.variables or {},
        has_recording=interaction.has_recording,
        has_content=interaction.has_content,
        anonymized=interaction.anonymized_at is not None,
        anonymized_at=interaction.anonymized_at,
    )
