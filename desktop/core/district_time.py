"""The district's clock for display: China Standard Time whatever the machine's zone is.

The backend counts days and hours in CST (UTC+8, no daylight saving); the wall must show
the same hours, or the trend, the alert times and the header would disagree.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def local(seconds: float) -> datetime:
    """District time of epoch seconds."""
    return datetime.fromtimestamp(seconds, CST)


def midnight(seconds: float) -> float:
    """The district's local midnight that began the day of `seconds`."""
    return local(seconds).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def hms(seconds: float) -> str:
    """hh:mm:ss in district time."""
    return local(seconds).strftime("%H:%M:%S")


def hm(seconds: float) -> str:
    """hh:mm in district time."""
    return local(seconds).strftime("%H:%M")


def moment(seconds: float, now: float) -> str:
    """When something happened, as the wall says it: hh:mm today, mm-dd hh:mm before (or
    when the district's day is not known yet)."""
    if now and local(seconds).date() == local(now).date():
        return hm(seconds)
    return day_hm(seconds)


def day_hm(seconds: float) -> str:
    """mm-dd hh:mm in district time (a moment in a list or a record)."""
    return local(seconds).strftime("%m-%d %H:%M")


def date_hm(seconds: float) -> str:
    """yyyy-mm-dd hh:mm in district time."""
    return local(seconds).strftime("%Y-%m-%d %H:%M")


def day_hms(seconds: float) -> str:
    """mm-dd hh:mm:ss in district time (the desk's clock)."""
    return local(seconds).strftime("%m-%d %H:%M:%S")


def clock_text(seconds: float | None = None) -> str:
    """The header's clock: date and time in district time."""
    return local(time.time() if seconds is None else seconds).strftime("%Y-%m-%d  %H:%M:%S")


def happened_at(observed_at: float | None, received_at: float) -> float:
    """When something happened: the source's own time when it said one (a camera's event,
    a sensor's reading), else when it was received."""
    return received_at if observed_at is None else observed_at
