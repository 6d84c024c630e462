"""Builders of contract records as the broker delivers them: key and value bytes."""

from __future__ import annotations

import json
from typing import Any

from gymdesk.domain.changes import Changes
from gymdesk.domain.contract import Topic
from gymdesk.domain.state import GymState

PERIOD = "2024-05"


def dumps(fields: dict[str, Any]) -> bytes:
    """Encode a JSON object the way a producer would."""
    return json.dumps(fields).encode()


def class_fields(
    instructor_id: str = "i1",
    capacity: int = 10,
    *,
    title: str = "Spin",
    starts_at: str = "2024-05-10T18:00:00+02:00",
    duration_min: int = 45,
) -> dict[str, Any]:
    return {
        "title": title,
        "location": "Central",
        "room": "A",
        "instructor_id": instructor_id,
        "starts_at": starts_at,
        "duration_min": duration_min,
        "capacity": capacity,
    }


def class_json(instructor_id: str = "i1", capacity: int = 10, **kwargs: Any) -> bytes:
    return dumps(class_fields(instructor_id, capacity, **kwargs))


def instructor_json(name: str = "Ana") -> bytes:
    return dumps({"name": name})


def member_json(name: str = "Bo", tier: str | None = None) -> bytes:
    return dumps({"name": name, "tier": tier})


def booking_fields(
    class_id: str = "c1",
    status: str = "booked",
    *,
    member_id: str = "m1",
    updated_at: str = "2024-05-09T08:00:00Z",
) -> dict[str, Any]:
    return {
        "class_id": class_id,
        "member_id": member_id,
        "status": status,
        "updated_at": updated_at,
    }


def booking_json(class_id: str = "c1", status: str = "booked", **kwargs: Any) -> bytes:
    return dumps(booking_fields(class_id, status, **kwargs))


def sale_fields(
    rep_id: str = "r1", amount_cents: int = 1000, sold_at: str = "2024-05-15T12:00:00Z"
) -> dict[str, Any]:
    return {
        "rep_id": rep_id,
        "product": "annual",
        "currency": "EUR",
        "amount_cents": amount_cents,
        "sold_at": sold_at,
    }


def sale_json(
    rep_id: str = "r1", amount_cents: int = 1000, sold_at: str = "2024-05-15T12:00:00Z"
) -> bytes:
    return dumps(sale_fields(rep_id, amount_cents, sold_at))


def rep_json(team: str = "north", name: str = "Rae") -> bytes:
    return dumps({"name": name, "team": team})


def target_fields(
    scope: str = "rep", scope_id: str = "r1", period: str = PERIOD, target_cents: int = 5000
) -> dict[str, Any]:
    return {"scope": scope, "scope_id": scope_id, "period": period, "target_cents": target_cents}


def target_json(
    scope: str = "rep", scope_id: str = "r1", period: str = PERIOD, target_cents: int = 5000
) -> bytes:
    return dumps(target_fields(scope, scope_id, period, target_cents))


VALID_FIELDS: dict[Topic, dict[str, Any]] = {
    Topic.CLASSES: class_fields(),
    Topic.INSTRUCTORS: {"name": "Ana"},
    Topic.MEMBERS: {"name": "Bo"},
    Topic.BOOKINGS: booking_fields(),
    Topic.SALES: sale_fields(),
    Topic.REPS: {"name": "Rae", "team": "north"},
    Topic.TARGETS: target_fields(),
}


def put(state: GymState, topic: Topic, key: str, value: bytes | None) -> Changes:
    """Apply one record with a UTF-8 key and return what it changed."""
    return state.apply(topic, key.encode(), value)
