"""Late submissions: the instructor's policy, each student's time, and the penalty.

A policy is a TOML file or the same settings inline, comma-separated::

    due = "2026-03-01T23:59:00+01:00"   # required, with its time zone
    per_day = "10%"                     # of the total, per started day late
    max = "30%"                         # cap on the penalty ("3d": at most 3 days' worth)
    grace = "2h"                        # time after the due date that is not late

    --late-policy "due=2026-03-01T23:59+01:00,10%/day,max=3d,grace=2h"

``none`` means no policy (the same as leaving the option out). Days late are counted from
the end of the grace period, each started day counting whole. The penalty is a share of
the student's total; ``raw_total`` keeps the total before it.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from grader.classgrade.roster import read_rows
from grader.core.errors import InputError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d|day|days)$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "day": 86400, "days": 86400}
ZONE_NEEDED = "late policy: due {text!r} has no time zone; write it as 2026-03-01T23:59+01:00"


@dataclass(frozen=True)
class Policy:
    """Due date, percent off per started day late, caps, and a grace period (seconds)."""

    due: datetime
    per_day: float
    max_percent: float = 100.0
    max_days: int | None = None
    grace_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "due": self.due.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        return cls(**{**data, "due": datetime.fromisoformat(data["due"])})

    def describe(self) -> str:
        caps = [f"max {self.max_percent:g}%"] if self.max_percent < 100 else []
        caps += [f"max {self.max_days} day(s)"] if self.max_days is not None else []
        grace = f", grace {self.grace_seconds / 3600:g} h" if self.grace_seconds else ""
        return (
            f"due {self.due.isoformat()}, {self.per_day:g}%/day"
            + "".join(f", {c}" for c in caps)
            + grace
        )

    def days_late(self, submitted: datetime) -> int:
        """Started days after the due date and the grace period (0: on time)."""
        late = (submitted - self.due).total_seconds() - self.grace_seconds
        return 0 if late <= 0 else math.ceil(late / 86400)

    def penalty(self, submitted: datetime) -> tuple[int, float]:
        """(days late, percent off) for a submission made at ``submitted``."""
        days = self.days_late(submitted)
        counted = days if self.max_days is None else min(days, self.max_days)
        return days, min(self.per_day * counted, self.max_percent, 100.0)


def _fail(message: str) -> InputError:
    return InputError(f"late policy: {message}")


def _percent(value: Any, name: str) -> float:
    text = str(value).strip().removesuffix("%").removesuffix("/day").removesuffix("%").strip()
    try:
        number = float(text)
    except ValueError:
        raise _fail(f"{name} {value!r} is not a percentage such as 10%") from None
    if not 0 <= number <= 100 or math.isnan(number):
        raise _fail(f"{name} {value!r} must be between 0% and 100%")
    return number


def _seconds(value: Any, name: str) -> float:
    found = _DURATION.match(str(value).strip().lower())
    if not found:
        raise _fail(f"{name} {value!r} is not a duration such as 2h or 1d")
    return float(found.group(1)) * _UNITS[found.group(2)]


def _due(value: Any) -> datetime:
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise _fail(
                f"due {value!r} is not a date and time such as 2026-03-01T23:59+01:00"
            ) from None
    if when.tzinfo is None:
        raise InputError(ZONE_NEEDED.format(text=str(value)))
    return when


def _policy(settings: dict[str, Any]) -> Policy:
    unknown = set(settings) - {"due", "per_day", "max", "grace"}
    if unknown:
        raise _fail(f"unknown setting(s) {', '.join(sorted(unknown))} (due, per_day, max, grace)")
    if "due" not in settings:
        raise _fail("no due date (due = 2026-03-01T23:59+01:00)")
    if "per_day" not in settings:
        raise _fail("no penalty per day (per_day = 10%)")
    cap = settings.get("max")
    max_percent, max_days = 100.0, None
    if cap is not None:
        text = str(cap).strip().lower()
        if text.endswith("%"):
            max_percent = _percent(text, "max")
        else:
            days = _seconds(text, "max") / 86400
            if days != int(days):
                raise _fail(f"max {cap!r}: give whole days (3d) or a percentage (30%)")
            max_days = int(days)
    grace = _seconds(settings["grace"], "grace") if "grace" in settings else 0.0
    return Policy(
        _due(settings["due"]),
        _percent(settings["per_day"], "per_day"),
        max_percent,
        max_days,
        grace,
    )


def _inline(text: str) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "=" in part:
            key, value = (s.strip() for s in part.split("=", 1))
        elif part.lower().endswith("/day"):
            key, value = "per_day", part
        else:
            raise _fail(f"{part!r}: write key=value (due=, per_day=, max=, grace=) or N%/day")
        settings[key.lower()] = value
    return settings


def parse(value: str | None) -> Policy | None:
    """The policy given to ``--late-policy`` (a TOML file or inline settings); None for none."""
    if value is None or value.strip().lower() == "none":
        return None
    path = Path(value)
    if path.is_file():
        try:
            settings = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"{path}: cannot be read ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise _fail(f"{path}: not valid TOML ({exc})") from None
        return _policy(settings)
    if "=" not in value and "/day" not in value:
        raise _fail(f"{value}: no such file, and not settings such as due=…,10%/day")
    return _policy(_inline(value))


def submitted_at(path: Path) -> dict[str, datetime]:
    """``--submitted-at CSV``: student (folder, login, LMS id or e-mail) -> submission time.

    The CSV has a header with a ``student`` column (or ``login``, ``id``, ``email``) and a
    ``submitted_at`` column (ISO 8601 with a time zone). Errors are one line (exit 2).
    """
    header, rows = read_rows(path, "empty; give a header row student,submitted_at")
    keys = [i for i, h in enumerate(header) if h in ("student", "login", "id", "email", "folder")]
    times = [i for i, h in enumerate(header) if h in ("submittedat", "submitted", "time")]
    if not keys or not times:
        raise InputError(f"{path}: needs a student column and a submitted_at column")
    found = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        try:
            text = row[times[0]].strip()
            when = datetime.fromisoformat(text)
        except (IndexError, ValueError):
            raise InputError(
                f"{path}, line {number}: not a date and time with a time zone"
            ) from None
        if when.tzinfo is None:
            raise InputError(f"{path}, line {number}: {text!r} has no time zone")
        for index in keys:
            if index < len(row) and row[index].strip():
                found[row[index].strip()] = when
    return found


def assess(
    policy: Policy | None,
    submitted: str | None,
    raw_total: float | None,
    marked_late: bool = False,
) -> dict[str, Any] | None:
    """The late record of one student (None without a policy): time, days, percent, total."""
    if policy is None:
        return None
    record: dict[str, Any] = {"submitted_at": submitted, "days_late": None, "penalty_percent": 0.0}
    if submitted is None:
        record["note"] = (
            "marked late by the LMS, which gives no time: no penalty (give --submitted-at)"
            if marked_late
            else "no submission time known: no penalty"
        )
        record["total"] = raw_total
        return record
    days, percent = policy.penalty(datetime.fromisoformat(submitted))
    record.update(days_late=days, penalty_percent=percent)
    if raw_total is None:
        record["total"] = None
    else:
        total = round(raw_total * (1 - percent / 100), 2)
        record["total"] = int(total) if total == int(total) else total
    return record
