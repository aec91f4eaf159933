"""The common frame of a mechanism: a named step acting on the shared state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

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

    def lifelong_multiplier(self, prop: np.ndarray, slots: np.ndarray, k: float, stream: str) -> np.ndarray | float:
        """Each NGO's lifelong ``Gamma(k, 1/k)`` multiplier (mean 1) of a probability, kept in the state array ``prop``.

        Drawn once per NGO slot, the first time the slot is asked for (0 in ``prop``: not drawn yet), from the named
        ``stream`` (its own: switching it on shifts no other mechanism's draws). ``k <= 0``: off, 1.0 for all, no draw.

        Args:
            prop: The state array of multipliers (one per NGO slot).
            slots: NGO slots (alive).
            k: Gamma shape (smaller: NGOs differ more).
            stream: Name of the random stream.

        Returns:
            The multipliers of ``slots``, or 1.0 when off.
        """
        if k <= 0:
            return 1.0
        new = slots[prop[slots] <= 0]
        if new.size:
            prop[new] = np.maximum(self.model.streams[stream].gamma(k, 1.0 / k, new.size), 1e-300)
        return prop[slots]

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
