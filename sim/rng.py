"""Named random streams derived from the run seed (common random numbers).

Each mechanism draws from its own generator, keyed by a stable hash of its
name, so adding a mechanism or drawing more in one never shifts another
mechanism's draws.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """Stable 32-bit key of a stream name (independent of PYTHONHASHSEED)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Lazily created, named :class:`numpy.random.Generator` objects.

    Args:
        seed: The run seed.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._gens: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._gens.get(name)
        if gen is None:
            ss = np.random.SeedSequence(entropy=self.seed, spawn_key=(stream_key(name),))
            gen = np.random.Generator(np.random.PCG64(ss))
            self._gens[name] = gen
        return gen

    def names(self) -> list[str]:
        """Names of the streams used so far."""
        return sorted(self._gens)
