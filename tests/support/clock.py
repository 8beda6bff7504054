"""The clock the test stack runs on, in the test's hands.

By default it is real time plus an offset the test moves. A test whose margins are tighter than the
time a slow machine takes between two steps, or that must not meet a day's end it did not ask for
(Beijing's midnight is 16:00 UTC), stops it: from then on time moves only when the test moves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class StackClock:
    """``whole_seconds`` drops the fraction, to see how instants that fall on a whole second are
    written."""

    offset: timedelta = field(default_factory=timedelta)
    stopped_at: datetime | None = None
    whole_seconds: bool = False

    def now(self) -> datetime:
        moment = (datetime.now(UTC) if self.stopped_at is None else self.stopped_at) + self.offset
        return moment.replace(microsecond=0) if self.whole_seconds else moment

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def stop(self, at: datetime | None = None) -> datetime:
        """Stops the clock at ``at`` (by default where it is now) and returns that moment."""
        moment = at or self.now()
        assert moment.tzinfo is not None
        self.stopped_at, self.offset = moment, timedelta()
        return moment

    def restart(self) -> None:
        """Back to real time, with no offset."""
        self.offset, self.stopped_at, self.whole_seconds = timedelta(), None, False
