"""The common frame of a mechanism: a named step acting on the shared state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import CrossSectorModel


class Mechanism:
    """One mechanism of the monthly step (in the spirit of a Starsim module).

    A mechanism reads and writes the shared :class:`~sim.state.State`
    (``self.state``), draws from its own named random streams
    (``self.model.streams[name]``) and keeps in its own attributes only the
    state no other mechanism needs. :class:`~sim.model.CrossSectorModel`
    calls :meth:`step` once a month, in the order of its ``loop``.

    Args:
        model: The model.
    """

    name: str = ""
    """Name in the step order (``model.loop``)."""

    group: str | None = None
    """The config group of its parameters (``cfg.<params>``, declared in :mod:`sim.params`), if any."""

    def __init__(self, model: CrossSectorModel) -> None:
        self.model = model
        self.state = model.state
        self.cfg = model.cfg

    def step(self) -> None:
        """One month of the mechanism."""
        raise NotImplementedError

    def add_ngo_slots(self, old: int, add: int) -> None:
        """Extend the mechanism's per-NGO-slot arrays by ``add`` new slots after the ``old`` ones (none by default)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


_EXECUTOR: ThreadPoolExecutor | None = None


def second_thread() -> ThreadPoolExecutor:
    """The one worker thread per process that runs the families' passes and the trust update (numba releases the GIL).

    One worker runs its jobs in the order they were submitted.
    """
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="families")
    return _EXECUTOR
