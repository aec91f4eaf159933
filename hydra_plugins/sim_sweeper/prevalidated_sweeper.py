"""A basic sweeper that trusts ``sim.cli.prevalidate``.

Hydra's basic sweeper composes every job's configuration in the main process
before launching the batch, only to check it; ``sim-run`` has already
checked every override value (one line, exit 2), so on sweeps of hundreds of
jobs that serial step would dominate. This sweeper is the basic one without
it. Jobs still compose their own configuration in the launcher's workers.
"""

from __future__ import annotations

from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper


class PrevalidatedSweeper(BasicSweeper):
    """:class:`BasicSweeper` without the serial per-job validation pass."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Skip: the overrides were validated by ``sim.cli.prevalidate``."""
        return None
