"""Double-entry ledger: every rouble moves from one account to another.

Organisations' cash *is* their ledger balance: there is no other place where
money is stored, so money cannot appear outside the ledger. Sources outside
the region (federal funds, tax revenue, markets, citizens) and sinks (wages,
running costs) are accounts too; they start at zero and go negative
(sources) or positive (sinks). The sum of all balances is therefore zero at
all times, which :meth:`Ledger.check` verifies every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

CHANNELS: tuple[str, ...] = (
    "opening_balance",
    "budget_regional",
    "budget_municipal",
    "business_profit",
    "grant_regional",
    "grant_federal",
    "social_order",
    "reporting_cost",
    "subsidy",
    "partnership_gov",
    "partnership_business",
    "donation_business",
    "donation_citizens",
    "founder_contribution",
    "endowment_donation",
    "endowment_match",
    "endowment_return",
    "endowment_refund",
    "endowment_fee",
    "endowment_payout",
    "endowment_admin",
    "state_institutions",
    "ngo_costs",
    "liquidation",
)
"""Flow channels, in the order used for the ``channel`` code column."""

CH = {name: i for i, name in enumerate(CHANNELS)}


@dataclass
class _Batch:
    channel: int
    src: np.ndarray
    dst: np.ndarray
    amount: np.ndarray


class Ledger:
    """Balances of all accounts plus the per-step record of transfers.

    Args:
        n_accounts: Number of accounts.
        account_names: Optional labels for external accounts, index -> name.
    """

    def __init__(self, n_accounts: int, account_names: dict[int, str] | None = None) -> None:
        self.balance = np.zeros(n_accounts, dtype=np.float64)
        self.account_names = dict(account_names or {})
        self._pending: list[_Batch] = []
        self._steps: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.turnover = 0.0  # total absolute flow, scale for the conservation tolerance
        self.step_by_channel = np.zeros(len(CHANNELS), dtype=np.float64)

    def transfer(self, channel: str, src: np.ndarray | int, dst: np.ndarray | int, amount: np.ndarray | float) -> None:
        """Move money from ``src`` to ``dst`` accounts (vectorised).

        Args:
            channel: One of :data:`CHANNELS`.
            src: Source account index or array of indices.
            dst: Destination account index or array of indices.
            amount: Non-negative amounts, broadcast against src/dst.

        Raises:
            ValueError: On negative or non-finite amounts or unknown channel.
        """
        ch = CH[channel]
        amount = np.asarray(amount, dtype=np.float64)
        src_a = np.asarray(src, dtype=np.int64)
        dst_a = np.asarray(dst, dtype=np.int64)
        sizes = [a.size for a in (amount, src_a, dst_a) if a.ndim > 0]
        if 0 in sizes:
            return
        n = max(sizes) if sizes else 1
        if amount.ndim == 0 or amount.size == 1 < n:
            amount = np.full(n, float(amount.reshape(-1)[0]) if amount.size else 0.0)
        if src_a.ndim == 0 or src_a.size == 1 < n:
            src_a = np.full(n, int(src_a.reshape(-1)[0]), dtype=np.int64)
        if dst_a.ndim == 0 or dst_a.size == 1 < n:
            dst_a = np.full(n, int(dst_a.reshape(-1)[0]), dtype=np.int64)
        if not amount.size == src_a.size == dst_a.size:
            raise ValueError(f"ledger: mismatched transfer sizes in channel {channel}")
        total = float(amount.sum())
        if not math.isfinite(total) or float(amount.min()) < 0:
            raise ValueError(f"ledger: bad amount in channel {channel}")
        if total == 0.0:
            return
        if float(amount.min()) == 0.0:  # record only real movements
            keep = amount > 0
            amount, src_a, dst_a = amount[keep], src_a[keep], dst_a[keep]
        np.subtract.at(self.balance, src_a, amount)
        np.add.at(self.balance, dst_a, amount)
        self.turnover += total
        self.step_by_channel[ch] += total
        self._pending.append(_Batch(ch, src_a.copy(), dst_a.copy(), amount.copy()))

    def close_step(self, step: int) -> None:
        """Store the step's transfers (aggregated later, off the hot path)."""
        if self._pending:
            ch = np.concatenate([np.full(b.amount.size, b.channel, dtype=np.int16) for b in self._pending])
            src = np.concatenate([b.src for b in self._pending]).astype(np.int32)
            dst = np.concatenate([b.dst for b in self._pending]).astype(np.int32)
            amt = np.concatenate([b.amount for b in self._pending])
            self._steps.append((step, ch, src, dst, amt))
        self._pending.clear()
        self.step_by_channel[:] = 0.0

    def check(self) -> float:
        """Verify conservation: all balances sum to zero.

        Returns:
            The absolute imbalance.

        Raises:
            AssertionError: If money was created or destroyed.
        """
        imbalance = abs(float(self.balance.sum()))
        tol = 1e-9 * max(self.turnover, 1.0) + 1e-6
        if imbalance > tol:
            raise AssertionError(f"ledger imbalance {imbalance:.6f} roubles exceeds {tol:.6f}")
        return imbalance

    def flows(self) -> pd.DataFrame:
        """All recorded transfers aggregated by (step, channel, src, dst)."""
        if not self._steps:
            return pd.DataFrame(
                {
                    "step": pd.Series(dtype=np.int32),
                    "channel": pd.Series(dtype=np.int16),
                    "src": pd.Series(dtype=np.int32),
                    "dst": pd.Series(dtype=np.int32),
                    "amount": pd.Series(dtype=np.float64),
                }
            )
        step = np.concatenate([np.full(t[1].size, t[0], dtype=np.int32) for t in self._steps])
        df = pd.DataFrame(
            {
                "step": step,
                "channel": np.concatenate([t[1] for t in self._steps]),
                "src": np.concatenate([t[2] for t in self._steps]),
                "dst": np.concatenate([t[3] for t in self._steps]),
                "amount": np.concatenate([t[4] for t in self._steps]),
            }
        )
        return df.groupby(["step", "channel", "src", "dst"], sort=True, as_index=False)["amount"].sum()
