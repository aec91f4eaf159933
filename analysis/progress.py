"""Progress bars with ETA for long commands (tqdm on stderr; silent when stderr is not a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any


def parallel(calls: Iterable[tuple[Callable[..., Any], tuple[Any, ...]]], total: int, jobs: int, desc: str) -> list[Any]:
    """Run ``fn(*args)`` for every call on ``jobs`` joblib workers, in order, with a progress bar.

    Args:
        calls: ``(function, args)`` pairs.
        total: Number of calls (for the bar and its ETA).
        jobs: Worker processes (joblib ``n_jobs``).
        desc: Label of the bar.

    Returns:
        The results in the order of ``calls``.
    """
    from joblib import Parallel, delayed
    from tqdm import tqdm

    gen = Parallel(n_jobs=jobs, return_as="generator")(delayed(fn)(*args) for fn, args in calls)
    return list(tqdm(gen, total=total, desc=desc, unit="run", disable=not sys.stderr.isatty(), dynamic_ncols=True))


def show_bars() -> bool:
    """Whether progress bars are shown (stderr is a terminal)."""
    return sys.stderr.isatty()
