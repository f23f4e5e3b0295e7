"""Pure SLA clocks: from a conversation's stored facts to its running targets, due and warning times.

Nothing here is stored or remembered: the same facts always give the same clocks, which is why SLA timers
survive restarts. Time counts only while the inbox is open (business hours) and not while the
conversation waits on the customer (status pending).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from threadline.routing.hours import Schedule, add_counted_time, open_intervals, subtract_intervals

FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"
RESOLUTION = "resolution"
TARGETS = (FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION)

Pause = tuple[dt.datetime, dt.datetime | None]  # an open-ended pause is still going on


@dataclass(frozen=True)
class SlaFacts:
    created_at: dt.datetime
    inbound_at: tuple[dt.datetime, ...] = ()  # customer messages
    agent_reply_at: tuple[dt.datetime, ...] = ()  # replies by a human agent (bots and surveys do not count)
    pauses: tuple[Pause, ...] = ()
    resolved: bool = False


@dataclass(frozen=True)
class SlaTargets:
    """Minutes of business time per target; None: no target."""

    first_response: int | None = None
    next_response: int | None = None
    resolution: int | None = None


@dataclass(frozen=True)
class Clock:
    target: str
    key: str  # identifies this run of the target, so a warning or breach is announced once per run
    start: dt.datetime
    due_at: dt.datetime | None  # None: paused (or outside every opening) and not yet used up
    warn_at: dt.datetime | None = field(default=None)


def running_clocks(facts: SlaFacts, targets: SlaTargets, schedule: Schedule, warn_percent: int) -> list[Clock]:
    """The SLA targets that are still running for these facts, with their due and warning times."""
    if facts.resolved:
        return []
    starts: list[tuple[str, str, dt.datetime]] = []
    first_inbound = min(facts.inbound_at, default=facts.created_at)
    if not facts.agent_reply_at:
        starts.append((FIRST_RESPONSE, FIRST_RESPONSE, min(first_inbound, facts.created_at)))
    else:
        last_reply = max(facts.agent_reply_at)
        waiting = sorted(t for t in facts.inbound_at if t > last_reply)
        if waiting:
            starts.append((NEXT_RESPONSE, f"{NEXT_RESPONSE}:{waiting[0].isoformat()}", waiting[0]))
    starts.append((RESOLUTION, RESOLUTION, facts.created_at))
    clocks = []
    for target, key, start in starts:
        minutes = getattr(targets, target)
        if minutes is None:
            continue
        clocks.append(_clock(target, key, start, minutes, facts.pauses, schedule, warn_percent))
    return clocks


def _clock(
    target: str, key: str, start: dt.datetime, minutes: int, pauses, schedule: Schedule, warn_percent: int
) -> Clock:
    def counted():
        return subtract_intervals(open_intervals(schedule, start), list(pauses))

    budget = dt.timedelta(minutes=minutes)
    due = add_counted_time(counted(), start, budget)
    warn = add_counted_time(counted(), start, budget * warn_percent / 100) if 0 < warn_percent < 100 else None
    return Clock(target=target, key=key, start=start, due_at=due, warn_at=warn)


def pauses_from_statuses(changes: list[tuple[dt.datetime, str]], *, paused: str = "pending") -> tuple[Pause, ...]:
    """Pending periods from the ordered (time, new status) changes of the event log."""
    pauses: list[Pause] = []
    began: dt.datetime | None = None
    for at, status in changes:
        if status == paused and began is None:
            began = at
        elif status != paused and began is not None:
            pauses.append((began, at))
            began = None
    if began is not None:
        pauses.append((began, None))
    return tuple(pauses)
