"""Double-entry ledger: every rouble moves from one account to another.

Organisations' cash *is* their ledger balance: there is no other place where
money is stored, so money cannot appear outside the ledger. Sources outside
the region (federal funds, tax revenue, markets, citizens) and sinks (wages,
running costs) are accounts too; they start at zero and go negative
(sources) or positive (sinks). The sum of all balances is therefore zero at
all times, which :meth:`Ledger.check` verifies every step, to within the
rounding of double precision (:data:`CONSERVATION_ULPS` units of roundoff on
the sum of absolute balances: a kopeck is caught in any preset).

Overdrafts: external sources go negative by design, NGOs may run into debt
(overhead is always due; insolvency follows), endowment reserves absorb
market losses, and municipalities and businesses can be overdrawn when
several partnerships are paid in the same month (each checks the balance
alone). Accounts declared with :meth:`Ledger.forbid_overdraft` (the model
declares the regional government, the management company, resource centres
and endowment principal) must never be negative; :meth:`Ledger.check`
flags them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from numba import njit

CHANNELS: tuple[str, ...] = (
    "opening_balance",
    "budget_regional",
    "budget_municipal",
    "business_profit",
    "grant_regional",
    "grant_federal",
    "grant_corporate",
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
    "rc_funding",
    "rc_grant",
    "rc_costs",
    "rc_programme",
    "cluster_funding",
    "one_window",
    "one_window_costs",
    "ngo_costs",
    "liquidation",
    "technology_funding",  # socio-technological: the region funds adopted NGO technologies
    "house_funding",  # organisational-structural: the region funds the houses of NGOs
    "house_costs",  # the houses' running costs (shared premises and services)
    "delegated_budget",  # organisational-structural: the delegated function's budget to its centre
    "delegated_costs",  # the centre's costs of delivering the delegated function
    "endowment_manager_expenses",
    "specialised_fund_donation",
    "specialised_fund_return",
    "specialised_fund_refund",
    "specialised_fund_payout",
    "cf_donation",
    "cf_grant",
    "cf_family_fund",
    "cf_fund_return",
    "fair_donation",
)
"""Flow channels, in the order used for the ``channel`` code column."""

CH = {name: i for i, name in enumerate(CHANNELS)}

CONSERVATION_ULPS = 1024.0
"""Conservation tolerance in units of double-precision roundoff (2.2e-16) on the sum of absolute balances.

Observed imbalances are about one unit (60 months, small and large presets);
1024 leaves room for long runs. Small region: tolerance ~5e-5 roubles."""
OVERDRAFT_TOL = 1e-6
"""Roubles below zero an account declared with :meth:`Ledger.forbid_overdraft` may show (rounding)."""


_Step = tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""The rows one step recorded: step, channel codes, sources, destinations, amounts."""


class Ledger:
    """Balances of all accounts plus the per-step record of transfers.

    Args:
        n_accounts: Number of accounts.
        account_names: Optional labels for external accounts, index -> name.
    """

    def __init__(self, n_accounts: int, account_names: dict[int, str] | None = None) -> None:
        self.balance = np.zeros(n_accounts, dtype=np.float64)
        self.account_names = dict(account_names or {})
        self._steps: list[_Step] = []
        self._alloc(4096)
        self.turnover = 0.0  # total absolute flow (roubles moved so far)
        self.step_by_channel = np.zeros(len(CHANNELS), dtype=np.float64)
        self.no_overdraft = np.zeros(n_accounts, dtype=bool)

    def forbid_overdraft(self, *accounts: np.ndarray | int) -> None:
        """Declare accounts that must never hold a negative balance (checked by :meth:`check`)."""
        for a in accounts:
            self.no_overdraft[np.asarray(a, dtype=np.int64)] = True

    def renumber(self, new_index: Callable[[np.ndarray], np.ndarray], n_accounts: int, account_names: dict[int, str]) -> None:
        """Move every account to a new index (the model grows its account layout).

        Balances, overdraft flags, the rows recorded so far and the current
        step's rows follow their accounts; accounts that did not exist before
        start at zero.

        Args:
            new_index: Maps an array of old account indices to their new ones.
            n_accounts: Number of accounts in the new layout.
            account_names: Labels of external accounts in the new layout.
        """
        moved = new_index(np.arange(self.balance.size))
        balance = np.zeros(n_accounts, dtype=np.float64)
        balance[moved] = self.balance
        no_overdraft = np.zeros(n_accounts, dtype=bool)
        no_overdraft[moved] = self.no_overdraft
        self.balance, self.no_overdraft = balance, no_overdraft
        self._steps = [(step, ch, new_index(src), new_index(dst), amt) for step, ch, src, dst, amt in self._steps]
        pos = self._pos
        self._rec[1][:pos] = new_index(self._rec[1][:pos])
        self._rec[2][:pos] = new_index(self._rec[2][:pos])
        self.account_names = dict(account_names)

    def _alloc(self, cap: int) -> None:
        """(Re)allocate the buffers of the current step's rows, keeping the rows so far."""
        old = getattr(self, "_rec", None)
        self._rec = (np.zeros(cap, np.int16), np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap))
        if old is not None:
            for new, prev in zip(self._rec, old, strict=True):
                new[: self._pos] = prev[: self._pos]
        else:
            self._pos = 0

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
        src_a = src if type(src) is np.ndarray and src.ndim == 1 else np.asarray(src, dtype=np.int64)
        dst_a = dst if type(dst) is np.ndarray and dst.ndim == 1 else np.asarray(dst, dtype=np.int64)
        n = max(amount.size, src_a.size, dst_a.size)
        if (amount.ndim and amount.size != n) or (src_a.ndim and src_a.size != n) or (dst_a.ndim and dst_a.size != n):
            if 0 in (amount.size, src_a.size, dst_a.size):
                return
            raise ValueError(f"ledger: mismatched transfer sizes in channel {channel}")
        if amount.ndim == 0:
            amount = np.full(n, float(amount))
        total = float(amount.sum())
        if not math.isfinite(total):
            raise ValueError(f"ledger: bad amount in channel {channel}")
        if total == 0.0:
            if n and not float(amount.min()) >= 0.0:
                raise ValueError(f"ledger: bad amount in channel {channel}")
            return  # zero rows are not recorded
        if self._pos + n > self._rec[0].size:
            self._alloc(2 * (self._pos + n))
        if not ledger_book(
            self.balance, src_a.reshape(-1), dst_a.reshape(-1), amount, total, ch, self._rec, self._pos
        ):  # fmt: skip
            raise ValueError(f"ledger: bad amount in channel {channel}")
        self._pos += n
        self.turnover += total
        self.step_by_channel[ch] += total

    def close_step(self, step: int) -> None:
        """Keep the step's transfers (aggregated later, off the hot path)."""
        if self._pos:
            ch, src, dst, amount = (a[: self._pos].copy() for a in self._rec)
            self._steps.append((step, ch, src, dst, amount))
            self._pos = 0
        self.step_by_channel[:] = 0.0

    def tolerance(self) -> float:
        """Largest imbalance :meth:`check` accepts, roubles (rounding of the balances' sum)."""
        return CONSERVATION_ULPS * float(np.finfo(np.float64).eps) * float(np.abs(self.balance).sum()) + 1e-6

    def check(self) -> float:
        """Verify conservation (all balances sum to zero) and that no declared account is overdrawn.

        Returns:
            The absolute imbalance.

        Raises:
            AssertionError: If money was created or destroyed, or an account of
                :meth:`forbid_overdraft` is negative.
        """
        imbalance = abs(float(self.balance.sum()))
        tol = self.tolerance()
        if imbalance > tol:
            raise AssertionError(f"ledger imbalance {imbalance:.6f} roubles exceeds {tol:.6f}")
        over = np.flatnonzero(self.no_overdraft & (self.balance < -OVERDRAFT_TOL))
        if over.size:
            i = int(over[0])
            name = self.account_names.get(i, f"account {i}")
            raise AssertionError(
                f"ledger: {name} overdrawn ({self.balance[i]:.2f} roubles); {over.size} account(s) that may not be negative"
            )
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
        parts: dict[str, list[np.ndarray]] = {"step": [], "channel": [], "src": [], "dst": [], "amount": []}
        for step, channel, src, dst, amount in self._steps:
            parts["step"].append(np.full(amount.size, step, dtype=np.int32))
            parts["channel"].append(channel)
            parts["src"].append(src.astype(np.int32))
            parts["dst"].append(dst.astype(np.int32))
            parts["amount"].append(amount)
        df = pd.DataFrame({key: np.concatenate(v) for key, v in parts.items()})
        df = df[df["amount"] > 0]  # record only real movements
        return df.groupby(["step", "channel", "src", "dst"], sort=True, as_index=False)["amount"].sum()


# ----------------------------------------------------------------- kernel
@njit(cache=True, nogil=True)
def ledger_book(
    balance: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    amount: np.ndarray,
    total: float,
    channel: int,
    rec: tuple,
    pos: int,
) -> bool:
    """Move ``amount[k]`` from ``balance[src[k]]`` to ``balance[dst[k]]`` and record the rows from ``pos``.

    A side with one element while there are more rows is one account for
    every row: it is booked ``total`` (the caller's sum of ``amount``) in one
    go; otherwise rows are booked in order (as ``np.subtract.at`` /
    ``np.add.at``). Nothing moves if any amount is negative or NaN.

    Returns:
        False if an amount was negative or NaN (nothing moved), else True.
    """
    rec_channel, rec_src, rec_dst, rec_amount = rec
    n = amount.size
    for k in range(n):
        if not amount[k] >= 0.0:
            return False
    if src.size == n and n > 1:
        for k in range(n):
            balance[src[k]] -= amount[k]
    else:
        balance[src[0]] -= total
    if dst.size == n and n > 1:
        for k in range(n):
            balance[dst[k]] += amount[k]
    else:
        balance[dst[0]] += total
    one_src = src.size == 1
    one_dst = dst.size == 1
    for k in range(n):
        rec_channel[pos + k] = channel
        rec_src[pos + k] = src[0] if one_src else src[k]
        rec_dst[pos + k] = dst[0] if one_dst else dst[k]
        rec_amount[pos + k] = amount[k]
    return True

