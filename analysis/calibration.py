"""Likelihood-free Bayesian calibration of the model to a survey: ABC-SMC with pyabc.

A calibration file (``experiments/calibration/volgograd_2021.yaml``) names the
targets file, the base overrides (the regional preset), the survey month, the
ABC budget and a prior for every parameter the survey can inform::

    name: volgograd_2021
    targets: ../../../shared/targets/volgograd_2021_calibration.yaml
    base: [region=volgograd_rural_2021]
    month: 36
    population: 200          # particles per generation
    generations: 8           # at most
    max_simulations: 4000    # budget: stop after this many model runs
    min_epsilon: 1.0         # stop when the distance threshold falls below this
    seed: 1
    parameters:
      finance.request_prob: [0.02, 0.3]                           # uniform
      scenario.grant_budget_scale: {prior: loguniform, low: 0.02, high: 1.5}

**Summary statistics and distance.** Each model run is asked the synthetic
survey; the summary is the vector of the simulated target shares. The distance
is the RMS of the differences divided by each share's sampling standard error
at the survey's n (:func:`analysis.surveystats.survey_se`): a share the survey
knows to +-3 points weighs more than one it knows to +-9. A distance of about 1
means "as close as the survey's own precision", which is what ``min_epsilon``
is expressed in.

**Seeds.** Every particle is a fresh model seed (drawn from the sampler's
random stream). The real survey is one realisation of a stochastic process;
ABC with one seed per particle targets the posterior under that same noise. Averaging
several seeds per particle would compare a smoothed model with one noisy
survey and make the posterior too narrow.

**Resumable.** pyabc keeps every finished generation in an SQLite history
(``results/<name>/abc.db``). Rerunning the same command loads it and runs only
the generations still missing; an interrupted generation is redone from its
start. A history of a changed calibration file (priors, targets) or of other
model code (``sim/``, ``configs/``) is refused rather than silently mixed
(delete the database to start over).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.specs import override_list, positive_int, read_mapping, safe_name
from sim.params import Config, ConfigError, iter_parameters, replace

ROOT = Path(__file__).resolve().parent.parent
PRIORS = ("uniform", "loguniform")
SPEC_KEYS = {"name", "targets", "base", "month", "population", "generations", "max_simulations", "min_epsilon", "seed",
             "parameters", "validation_seeds", "exclude", "transition"}  # fmt: skip
TRANSITIONS = ("global", "local")


@dataclass(frozen=True)
class Prior:
    """Prior of one calibrated parameter (a dotted config key)."""

    key: str
    kind: str
    low: float
    high: float
    integer: bool = False

    def rv(self) -> Any:
        """The pyabc random variable, on the scale the sampler works in (:meth:`natural` maps it back).

        A log-uniform parameter is sampled as ``log10`` of it, uniform: a Gaussian proposal on the natural scale of a
        log-uniform prior gives the few particles at the small end most of the importance weight (the prior density
        ~ 1/x), and the particles' effective sample size collapses within a generation or two.
        """
        import pyabc

        lo, hi = self.sampler_range()
        return pyabc.RV("uniform", lo, hi - lo)

    def sampler_range(self) -> tuple[float, float]:
        """The interval the prior is uniform on, on the sampler's scale.

        ``log10`` of the bounds for a log-uniform prior; for an integer, half a unit beyond each bound, so every integer
        of ``[low, high]`` is equally likely after rounding.
        """
        if self.kind == "loguniform":
            return float(np.log10(self.low)), float(np.log10(self.high))
        if self.integer:
            return self.low - 0.5, self.high + 0.5
        return self.low, self.high

    def natural(self, x: Any) -> Any:
        """A sampler value (scalar or array) on the parameter's own scale (``10**x`` for a log-uniform prior)."""
        return np.power(10.0, x) if self.kind == "loguniform" else x

    def sampler(self, x: Any) -> Any:
        """A value on the parameter's own scale as the sampler holds it (the inverse of :meth:`natural`)."""
        if self.kind != "loguniform":
            return x
        with np.errstate(divide="ignore"):  # a declared default of 0 maps to -inf and back to 0
            return np.log10(x)

    def mean_sd(self) -> tuple[float, float]:
        """Mean and standard deviation of the prior."""
        if self.kind == "loguniform":
            from scipy import stats

            d = stats.loguniform(self.low, self.high)
            return float(d.mean()), float(d.std())
        return (self.low + self.high) / 2, (self.high - self.low) / np.sqrt(12)

    def quantiles(self, q: tuple[float, float] = (0.05, 0.95)) -> tuple[float, float]:
        """Prior quantiles (for the width of the prior's central 90%)."""
        if self.kind == "loguniform":
            lo, hi = np.log(self.low), np.log(self.high)
            return float(np.exp(lo + q[0] * (hi - lo))), float(np.exp(lo + q[1] * (hi - lo)))
        return self.low + q[0] * (self.high - self.low), self.low + q[1] * (self.high - self.low)


def parse_priors(path: str | Path, params: Any) -> dict[str, Prior]:
    """Check ``parameters`` against the declared model parameters and their bounds.

    Each value is ``[low, high]`` (uniform) or ``{prior: uniform|loguniform, low: .., high: ..}``.

    Raises:
        ConfigError: One line naming the bad parameter and what is allowed.
    """
    if not isinstance(params, dict) or not params:
        raise ConfigError(f"{path}: parameters={params!r} is not allowed: allowed a mapping of config keys to priors")
    known = {name: (d, meta) for name, d, meta in iter_parameters()}
    out: dict[str, Prior] = {}
    for key, spec in params.items():
        where = f"{path}: parameters.{key}"
        if key not in known:
            raise ConfigError(f"{where} is not a model parameter: allowed the dotted keys of docs/parameters.md")
        default, meta = known[key]
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            raise ConfigError(f"{where}: a {type(default).__name__} parameter cannot be calibrated: allowed numeric scalars")
        kind = "uniform"
        if isinstance(spec, dict):
            bad = set(spec) - {"prior", "low", "high"}
            if bad:
                raise ConfigError(f"{where}: unknown key '{sorted(bad)[0]}': allowed keys high, low, prior")
            kind = spec.get("prior", "uniform")
            if kind not in PRIORS:
                raise ConfigError(f"{where}.prior={kind!r} is not allowed: allowed {', '.join(PRIORS)}")
            bounds = [spec.get("low"), spec.get("high")]
        else:
            bounds = spec
        ok = (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in bounds)
        )
        if not ok or not bounds[0] < bounds[1]:
            raise ConfigError(f"{where}={spec!r} is not allowed: allowed [low, high] with low < high")
        lo, hi = meta.get("lo"), meta.get("hi")
        if (lo is not None and bounds[0] < lo) or (hi is not None and bounds[1] > hi):
            raise ConfigError(f"{where}={bounds!r} is not allowed: allowed within the parameter's range {lo}..{hi}")
        if kind == "loguniform" and bounds[0] <= 0:
            raise ConfigError(f"{where}: loguniform needs low > 0: allowed a positive low bound")
        integer = isinstance(default, int)
        out[str(key)] = Prior(str(key), str(kind), float(bounds[0]), float(bounds[1]), integer)
    return out


def share_key(question: str, group: str, answer: str) -> str:
    """The ``question/group/answer`` name of one target share (the keys of ``exclude``)."""
    return f"{question}/{group}/{answer}"


def parse_exclude(path: str | Path, data: Any, targets: list[Any]) -> dict[str, str]:
    """``exclude``: target shares left out of the distance, each with its written reason.

    Raises:
        ConfigError: One line naming the bad entry and what is allowed.
    """
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: exclude={data!r} is not allowed: allowed a mapping question/group/answer -> reason")
    known = {share_key(t.question, t.group, t.answer) for t in targets}
    out: dict[str, str] = {}
    for key, reason in data.items():
        if key not in known:
            raise ConfigError(f"{path}: exclude.{key} is not a target share: allowed question/group/answer of the targets "
                              f"file, e.g. {sorted(known)[0]}")  # fmt: skip
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{path}: exclude.{key} has no reason: allowed a sentence naming the mechanism responsible")
        out[str(key)] = " ".join(reason.split())
    return out


def load_spec(path: str | Path) -> dict[str, Any]:
    """Read and check a calibration file (keys in the module docstring).

    Raises:
        ConfigError: One line naming the bad key and what is allowed.
    """
    from sim.survey import load_targets

    path = Path(path)
    data = read_mapping(path, SPEC_KEYS)
    spec: dict[str, Any] = {"spec_path": str(path)}
    spec["name"] = safe_name(path, data.get("name", path.stem))
    spec["base"] = override_list(path, "base", data.get("base", []))
    spec["month"] = positive_int(path, "month", data["month"]) if data.get("month") is not None else None
    spec["population"] = positive_int(path, "population", data.get("population", 200), minimum=4)
    spec["generations"] = positive_int(path, "generations", data.get("generations", 8))
    spec["max_simulations"] = positive_int(path, "max_simulations", data.get("max_simulations", 4000))
    spec["seed"] = positive_int(path, "seed", data.get("seed", 1), minimum=0)
    spec["transition"] = data.get("transition", "global")
    if spec["transition"] not in TRANSITIONS:
        raise ConfigError(f"{path}: transition={spec['transition']!r} is not allowed: allowed {', '.join(TRANSITIONS)}")
    spec["validation_seeds"] = positive_int(path, "validation_seeds", data.get("validation_seeds", 10), minimum=2)
    eps = data.get("min_epsilon", 0.0)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps < 0:
        raise ConfigError(f"{path}: min_epsilon={eps!r} is not allowed: allowed a number >= 0 (in survey standard errors)")
    spec["min_epsilon"] = float(eps)
    if not isinstance(data.get("targets"), str) or not data["targets"]:
        raise ConfigError(f"{path}: targets={data.get('targets')!r} is not allowed: allowed the path of a targets YAML file")
    spec["targets_path"] = (path.parent / data["targets"]).resolve()
    spec["priors"] = parse_priors(path, data.get("parameters"))
    targets = load_targets(spec["targets_path"])
    n_targets = len(targets)
    spec["exclude"] = parse_exclude(path, data.get("exclude", {}), targets)
    if len(spec["priors"]) * 2 > n_targets:
        n = len(spec["priors"])
        raise ConfigError(f"{path}: parameters: {n} for {n_targets} target shares: allowed at most half as many")
    return spec


def check_spec(spec: dict[str, Any]) -> Config:
    """Compose the base overrides and try both ends of every prior, before any run.

    Raises:
        ConfigError: One line naming the bad override or parameter value.
    """
    from sim.cli import compose

    where = spec.get("spec_path", "calibration")
    try:
        base = compose(list(spec["base"]))
    except ConfigError as e:
        raise ConfigError(f"{where}: base: {e}") from None
    for end in ("low", "high"):
        changes = {k: _value(p, getattr(p, end)) for k, p in spec["priors"].items()}
        if spec.get("month") is not None:
            changes["steps"] = spec["month"]
        try:
            replace(base, **changes)
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
    return base


def _value(p: Prior, x: float) -> float | int:
    """A particle's value as the config takes it: integers rounded and kept inside the prior."""
    return int(min(max(round(x), p.low), p.high)) if p.integer else float(x)


def model_hash() -> str:
    """Fingerprint of the model's code (``sim/**/*.py``, ``configs/**/*.yaml``): a history of other code is not resumed."""
    h = hashlib.sha256()
    for pattern, root in (("*.py", ROOT / "sim"), ("*.yaml", ROOT / "configs")):
        for f in sorted(root.rglob(pattern)):
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def spec_hash(spec: dict[str, Any], observed: np.ndarray) -> str:
    """Fingerprint of what the history depends on (priors, base, month, targets, population, model code)."""
    data = {"priors": {k: [p.kind, p.low, p.high] for k, p in spec["priors"].items()}, "base": spec["base"],
            "month": spec["month"], "population": spec["population"], "observed": np.round(observed, 6).tolist(),
            "scale": "log10 of log-uniform parameters", "transition": spec.get("transition", "global") + "-2cov",
            "model": model_hash()}  # fmt: skip
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# ------------------------------------------------------------ the simulator
_COUNTER: Any = None  # multiprocessing.Value shared with forked workers (progress bar)


class SurveySimulator:
    """Model run -> vector of simulated target shares (picklable; one fresh seed per call)."""

    def __init__(self, base: Config, rows: list[tuple[str, str, str]], priors: dict[str, Prior], month: int | None):
        """Remember the base config, which shares to read and which keys the particles set."""
        # no second family thread: the sampler forks worker processes, and a fork must not inherit a running thread
        changes = {"steps": month or base.steps, "output.plots": False, "output.check_conservation": False,
                   "output.family_thread": False}  # fmt: skip
        self.base = replace(base, **changes)
        self.rows = rows
        self.priors = priors

    def config(self, params: dict[str, float], seed: int) -> Config:
        """The config of one particle."""
        changes = {k: _value(p, float(p.natural(float(params[k])))) for k, p in self.priors.items()}
        return replace(self.base, seed=int(seed), **changes)

    def shares(self, params: dict[str, float], seed: int) -> np.ndarray:
        """Simulated shares (percent) of the target rows for one particle and seed; NaN where not asked."""
        from sim.model import run_model
        from sim.survey import survey

        try:
            s = survey(run_model(self.config(params, seed)))
        except ConfigError:
            return np.full(len(self.rows), np.nan)
        return np.array([s.get(q, {}).get(g, {}).get(a, np.nan) for q, g, a in self.rows], float)

    def __call__(self, params: dict[str, float]) -> dict[str, np.ndarray]:
        """The pyabc model interface: a fresh seed per particle from the sampler's stream."""
        seed = int(np.random.randint(1, 2**31 - 1))
        out = {"shares": self.shares(params, seed)}
        if _COUNTER is not None:
            with _COUNTER.get_lock():
                _COUNTER.value += 1
        return out


def standardised_distance(scale: np.ndarray) -> Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], float]:
    """RMS of differences in units of the survey's standard error (NaN shares ignored; all-NaN is infinite)."""

    def dist(x: dict[str, np.ndarray], y: dict[str, np.ndarray]) -> float:
        d = (np.asarray(x["shares"], float) - np.asarray(y["shares"], float)) / scale
        d = d[np.isfinite(d)]
        return float(np.sqrt(np.mean(d**2))) if d.size else float("inf")

    return dist


# --------------------------------------------------------------------- ABC
def _beaumont_bandwidth(n: float, d: int) -> float:
    """Bandwidth factor sqrt(2): the proposal covariance is twice the particles' weighted covariance (Beaumont 2009)."""
    return float(np.sqrt(2.0))


def run_abc(
    simulate: Callable[[dict[str, float]], dict[str, np.ndarray]],
    observed: np.ndarray,
    scale: np.ndarray,
    priors: dict[str, Prior],
    db: Path,
    population: int,
    generations: int,
    max_simulations: int,
    min_epsilon: float = 0.0,
    jobs: int = 1,
    seed: int = 1,
    fingerprint: str = "",
    transition: str = "global",
) -> Any:
    """Run (or continue) ABC-SMC; return the pyabc History.

    A history at ``db`` with the same ``fingerprint`` is continued: only the missing generations run, and the
    simulation budget counts what was already spent.

    Raises:
        ConfigError: The database belongs to a different calibration.
    """
    import multiprocessing

    import pyabc

    global _COUNTER
    for name in ("ABC", "ABC.History", "ABC.Sampler", "ABC.Epsilon", "ABC.Distance", "ABC.Population", "ABC.Transition"):
        logging.getLogger(name).setLevel(logging.WARNING)
    prior = pyabc.Distribution(**{k: p.rv() for k, p in priors.items()})
    sampler = pyabc.sampler.SingleCoreSampler() if jobs == 1 else pyabc.sampler.MulticoreEvalParallelSampler(n_procs=jobs)
    np.random.seed(seed)
    # the proposal: one Gaussian over all particles with twice their weighted covariance (Beaumont et al. 2009), on the
    # sampler's scale (log10 of log-uniform parameters). pyabc's default Silverman bandwidth shrinks the covariance to
    # about half in 16 dimensions, and "local" (a k-nearest-neighbour Gaussian per particle) has near-singular local
    # covariances: with either, the particles in the proposal's thin tails took most of the importance weight (ESS 15
    # and 20 of 500 by the third/fourth generation on the Volgograd file)
    kernel = (pyabc.LocalTransition(k_fraction=0.25) if transition == "local"
              else pyabc.MultivariateNormalTransition(bandwidth_selector=_beaumont_bandwidth))  # fmt: skip
    abc = pyabc.ABCSMC(simulate, prior, standardised_distance(scale), population_size=population, sampler=sampler,
                       transitions=kernel)  # fmt: skip
    url = f"sqlite:///{db}"
    db.parent.mkdir(parents=True, exist_ok=True)
    done, spent = 0, 0
    if db.exists():
        h = pyabc.History(url)
        runs = h.all_runs()
        if runs:
            h.id = runs[-1].id
            stored = _read_fingerprint(db)
            if fingerprint and stored and stored != fingerprint:
                raise ConfigError(f"{db}: of another calibration (priors, targets or model changed): allowed delete it first")
            done = h.max_t + 1
            spent = int(h.total_nr_simulations)
            if done >= generations or spent >= max_simulations:
                return h
            np.random.seed(seed + done)  # a resumed run draws a new stream, not the first generations' again
            abc.load(url, h.id)
    if done == 0:
        if db.exists():
            db.unlink()
        abc.new(url, {"shares": np.asarray(observed, float)})
        _write_fingerprint(db, fingerprint)
    _COUNTER = multiprocessing.Value("l", 0)
    stop = threading.Event()
    bar_thread = threading.Thread(target=_progress, args=(stop, max_simulations, spent), daemon=True)
    bar_thread.start()
    try:
        h = abc.run(minimum_epsilon=min_epsilon, max_nr_populations=generations - done,
                    max_total_nr_simulations=max_simulations)  # fmt: skip
    finally:
        stop.set()
        bar_thread.join()
        _COUNTER = None
    return h


def _fingerprint_path(db: Path) -> Path:
    return db.with_suffix(db.suffix + ".spec")


def _write_fingerprint(db: Path, fingerprint: str) -> None:
    _fingerprint_path(db).write_text(fingerprint + "\n")


def _read_fingerprint(db: Path) -> str:
    p = _fingerprint_path(db)
    return p.read_text().strip() if p.exists() else ""


def _progress(stop: threading.Event, total: int, spent: int) -> None:
    """A tqdm bar over the simulation budget (ETA included), fed by the shared counter."""
    from tqdm import tqdm

    from analysis.progress import show_bars

    bar = tqdm(total=total, initial=min(spent, total), desc="ABC-SMC", unit="sim", disable=not show_bars(), dynamic_ncols=True)
    last = 0
    while not stop.wait(0.5):
        c = _COUNTER
        if c is None:
            break
        now = int(c.value)
        bar.update(max(0, min(now - last, total - bar.n)))
        last = now
    bar.close()


def posterior_frame(history: Any, priors: dict[str, Prior]) -> pd.DataFrame:
    """Particles (parameter columns), normalised ``weight`` and ``distance`` of the last generation."""
    df, w = history.get_distribution(m=0, t=history.max_t)
    pop = history.get_weighted_distances(t=history.max_t)
    out = df[list(priors)].reset_index(drop=True).astype(float)
    for k, p in priors.items():  # back from the sampler's scale (log10 of log-uniform parameters; integers rounded)
        x = p.natural(out[k].to_numpy())
        out[k] = np.clip(np.round(x), p.low, p.high) if p.integer else x
    out["weight"] = np.asarray(w, float) / float(np.sum(w))
    out["distance"] = pop["distance"].to_numpy() if len(pop) == len(out) else np.nan
    out.attrs["generation"] = int(history.max_t)
    return out


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Quantile of a weighted sample."""
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    cw = cw / cw[-1]
    return float(np.interp(q, cw - w[order] / cw[-1] / 2, x[order]))


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size of importance weights, ``(sum w)^2 / sum w^2``."""
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / np.sum(w**2)) if w.size else 0.0


def posterior_summary(post: pd.DataFrame, priors: dict[str, Prior]) -> pd.DataFrame:
    """Per parameter: prior and posterior mean, sd and central 90%, width ratio and a verdict.

    ``width_ratio`` = posterior 90% width / prior 90% width (in log10 for a log-uniform prior): below 0.5 the survey
    pins the parameter down ("pinned"), above 0.8 it stays loose ("loose"), between "partly". When the particles'
    effective sample size (``1 / sum w^2``) is below 10% of them, widths are not trustworthy and the verdict says so
    ("few particles").
    """
    w = post["weight"].to_numpy()
    ess = effective_sample_size(w)
    few = ess < 0.1 * len(w)
    rows = []
    for k, p in priors.items():
        x = post[k].to_numpy()
        m = float(np.sum(w * x))
        sd = float(np.sqrt(np.sum(w * (x - m) ** 2)))
        lo, hi = weighted_quantile(x, w, 0.05), weighted_quantile(x, w, 0.95)
        plo, phi = p.quantiles()
        pm, psd = p.mean_sd()
        # widths on the scale the prior is uniform on (log10 for a log-uniform prior)
        ratio = (float(p.sampler(hi) - p.sampler(lo)) / float(p.sampler(phi) - p.sampler(plo))
                 if lo > 0 or p.kind != "loguniform" else float("nan"))  # fmt: skip
        verdict = "pinned" if ratio < 0.5 else ("loose" if ratio > 0.8 else "partly")
        if few:
            verdict = f"few particles (ESS {ess:.1f}): {verdict}?"
        rows.append({"parameter": k, "prior": f"{p.kind}[{p.low:g}, {p.high:g}]", "prior_mean": pm, "prior_sd": psd,
                     "post_mean": m, "post_median": weighted_quantile(x, w, 0.5), "post_sd": sd, "post_q05": lo,
                     "post_q95": hi, "width_ratio": ratio, "verdict": verdict})  # fmt: skip
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- plots
def plot_marginals(post: pd.DataFrame, priors: dict[str, Prior], path: Path) -> None:
    """Weighted posterior histogram of every parameter over its prior range (prior density dashed)."""
    from analysis.sweep import _save, _setup

    plt = _setup()
    n = len(priors)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    w = post["weight"].to_numpy()
    for ax, (k, p) in zip(axes.ravel(), priors.items(), strict=False):
        # on the scale the prior is uniform on: log10 for a log-uniform parameter, so the prior is a flat line
        lo, hi = p.sampler_range()
        edges = np.arange(lo, hi + 0.5) if p.integer else np.linspace(lo, hi, 21)
        ax.hist(p.sampler(post[k].to_numpy()), bins=edges, weights=w, density=True, color="C0", alpha=0.7)
        ax.plot([lo, hi], [1 / (hi - lo)] * 2, "k--", lw=1)
        ax.set_title(f"log10 {k}" if p.kind == "loguniform" else k, fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle("Posterior marginals (bars) against the prior (dashed)", fontsize=9)
    _save(fig, path)


def plot_pairs(post: pd.DataFrame, priors: dict[str, Prior], path: Path) -> None:
    """Pair plot of the posterior particles (point size by weight)."""
    from analysis.sweep import _save, _setup

    plt = _setup()
    keys = list(priors)
    n = len(keys)
    fig, axes = plt.subplots(n, n, figsize=(1.3 * n + 1, 1.3 * n + 1), squeeze=False)
    s = 60 * post["weight"].to_numpy() / post["weight"].max()
    post = post.assign(**{k: p.sampler(post[k].to_numpy()) for k, p in priors.items()})  # log10 of log-uniform ones
    for i, ki in enumerate(keys):
        for j, kj in enumerate(keys):
            ax = axes[i, j]
            if i == j:
                ax.hist(post[ki], bins=15, weights=post["weight"], color="C0")
            elif i > j:
                ax.scatter(post[kj], post[ki], s=s, alpha=0.4, lw=0, rasterized=True)  # an SVG of 120,000 points: ~40 MB
            else:
                ax.axis("off")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == n - 1:
                ax.set_xlabel(kj.split(".")[-1], fontsize=5, rotation=30)
            if j == 0:
                ax.set_ylabel(ki.split(".")[-1], fontsize=5, rotation=60)
    fig.suptitle("Posterior pairs (log-uniform parameters in log10)", fontsize=9)
    _save(fig, path)


# ---------------------------------------------------- prior predictive check
def _prior_draws(priors: dict[str, Prior], n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter sets drawn from the priors on the sampler's scale, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    ranges = {k: p.sampler_range() for k, p in priors.items()}
    return [{k: lo + rng.random() * (hi - lo) for k, (lo, hi) in ranges.items()} for _ in range(n)]


def _simulate_one(args: tuple[SurveySimulator, dict[str, float], int]) -> np.ndarray:
    sim, params, seed = args
    return sim.shares(params, seed)


def _map_runs(work: list[tuple[SurveySimulator, dict[str, float], int]], jobs: int, chunksize: int) -> list[np.ndarray]:
    """Simulated shares of each ``(simulator, sampler-scale parameters, seed)``, on ``jobs`` forked workers."""
    import multiprocessing

    if jobs <= 1:
        return [_simulate_one(w) for w in work]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return pool.map(_simulate_one, work, chunksize=chunksize)


def prior_check(spec: dict[str, Any], n: int, jobs: int = 2, out: Path | None = None) -> Path:
    """Prior predictive check: can the model, anywhere in the priors, produce each survey share.

    Runs ``n`` parameter sets drawn from the priors (one seed each) and writes ``prior_predictive.csv`` and ``.md``:
    per target share the survey's 95% interval, the 2.5/50/97.5% of the simulated share over the prior, and whether
    the survey interval is reached. A share no draw reaches is structural: no parameter of the prior fixes it.

    Returns:
        The path of ``prior_predictive.md``.
    """
    from analysis.surveystats import load_design, share_table
    from sim.survey import load_targets

    base = check_spec(spec)
    targets = load_targets(spec["targets_path"])
    design = load_design(spec["targets_path"])
    out = out or ROOT / "experiments" / "calibration" / "results" / spec["name"]
    out.mkdir(parents=True, exist_ok=True)
    rows = [(t.question, t.group, t.answer) for t in targets]
    sim = SurveySimulator(base, rows, spec["priors"], spec["month"])
    sim.shares({k: p.sampler(_default(base, k)) for k, p in spec["priors"].items()}, 1)  # compile before forking
    draws = _prior_draws(spec["priors"], n, spec["seed"])
    work = [(sim, d, spec["seed"] * 100_003 + i + 1) for i, d in enumerate(draws)]
    x = np.vstack(_map_runs(work, jobs, chunksize=4))
    table = share_table(targets, [{}], design)
    q = np.full((3, len(rows)), np.nan)
    asked = np.isfinite(x).any(axis=0)
    q[:, asked] = np.nanpercentile(x[:, asked], [2.5, 50, 97.5], axis=0)
    reach = ((x >= table["survey_low"].to_numpy()) & (x <= table["survey_high"].to_numpy())).mean(axis=0)
    frame = pd.DataFrame({"question": [r[0] for r in rows], "group": [r[1] for r in rows], "answer": [r[2] for r in rows],
                          "target": table["target"], "survey_low": table["survey_low"], "survey_high": table["survey_high"],
                          "prior_q025": q[0], "prior_median": q[1], "prior_q975": q[2], "draws_inside": reach})  # fmt: skip
    frame = frame[np.isfinite(frame["prior_median"])]
    frame.to_csv(out / "prior_predictive.csv", index=False)
    lines = [f"# Prior predictive check: {spec['name']}\n",
             f"{n} parameter sets drawn from the priors of `{spec['spec_path']}`, one seed each, survey at month "
             f"{spec['month']}. A share that no draw puts inside the survey's 95% interval is a structural misfit: no "
             "parameter of the prior fixes it.\n",
             "| share | survey [95%] | prior predictive median [2.5%, 97.5%] | draws inside the survey interval |",
             "|---|---|---|---|"]  # fmt: skip
    for r in frame.itertuples():
        lines.append(f"| {share_key(r.question, r.group, r.answer)} | {r.target:.1f} [{r.survey_low:.1f}, {r.survey_high:.1f}]"
                     f" | {r.prior_median:.1f} [{r.prior_q025:.1f}, {r.prior_q975:.1f}] | {100 * r.draws_inside:.0f}% |")
    md = out / "prior_predictive.md"
    md.write_text("\n".join(lines) + "\n")
    return md


# ----------------------------------------------------------- the command
def parse_fold(text: str) -> tuple[int, int]:
    """``"I/K"`` -> ``(I, K)``: hold out fold I of K (1 <= I <= K, K >= 2).

    Raises:
        ConfigError: One line naming ``--fold`` and the allowed form.
    """
    try:
        i, k = (int(x) for x in text.split("/"))
    except ValueError:
        i, k = 0, 0
    if not (k >= 2 and 1 <= i <= k):
        raise ConfigError(f"--fold={text}: allowed I/K with 1 <= I <= K and K >= 2 (e.g. 1/5)")
    return i, k


def held_out_questions(questions: list[str], fold: tuple[int, int]) -> set[str]:
    """The questions of fold ``I`` of ``K``: sorted question names dealt round-robin (every question in one fold)."""
    i, k = fold
    return {q for n, q in enumerate(sorted(set(questions))) if n % k == i - 1}


def calibrate(spec: dict[str, Any], jobs: int = 2, out: Path | None = None, preset_dir: Path | None = None,
              fold: tuple[int, int] | None = None, report_only: bool = False) -> dict[str, Any]:  # fmt: skip
    """Run ABC-SMC for a calibration file; save the posterior, its summary and plots, the preset and the validation.

    With ``fold=(I, K)`` the questions of fold I are left out of the calibration (cross-validation by question):
    no preset is written, and the summary gives the RMS of the calibrated and of the held-out shares.

    Returns:
        Paths and headline figures.
    """
    import time

    from analysis.surveystats import load_design, share_table, survey_se
    from analysis.validate import validate_report
    from sim.survey import load_targets

    t0 = time.time()
    base = check_spec(spec)
    targets = load_targets(spec["targets_path"])
    design = load_design(spec["targets_path"])
    default_out = ROOT / "experiments" / "calibration" / "results" / spec["name"]
    out = out or (default_out / f"fold_{fold[0]}_of_{fold[1]}" if fold else default_out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [(t.question, t.group, t.answer) for t in targets]
    sim = SurveySimulator(base, rows, spec["priors"], spec["month"])
    defaults = {k: p.sampler(_default(base, k)) for k, p in spec["priors"].items()}
    probe = sim.shares(defaults, 1)  # compiles the kernels before the workers fork; finds the shares the survey asks
    asked = np.isfinite(probe)
    if not asked.any():
        raise ConfigError(f"{spec['spec_path']}: targets: the synthetic survey answers none of them")
    sim.rows = [r for r, a in zip(rows, asked, strict=True) if a]
    kept = [t for t, a in zip(targets, asked, strict=True) if a]
    held = held_out_questions([t.question for t in kept], fold) if fold else set()
    excluded = spec.get("exclude", {})
    use = [t.question not in held and share_key(t.question, t.group, t.answer) not in excluded for t in kept]
    sim.rows = [r for r, u in zip(sim.rows, use, strict=True) if u]
    kept = [t for t, u in zip(kept, use, strict=True) if u]
    table = share_table(kept, [{}], design)
    observed = table["target"].to_numpy(float)
    scale = survey_se(table)
    fp = spec_hash(spec, observed)
    if report_only:  # the reports of a finished history again (e.g. after a change of the report code), no simulation
        import pyabc

        if not (out / "abc.db").exists():
            raise ConfigError(f"--report-only: no history {out / 'abc.db'}: allowed after a calibration has run")
        h = pyabc.History(f"sqlite:///{out / 'abc.db'}")
        h.id = h.all_runs()[-1].id
    else:
        h = run_abc(sim, observed, scale, spec["priors"], out / "abc.db", spec["population"], spec["generations"],
                    spec["max_simulations"], spec["min_epsilon"], jobs, spec["seed"], fp, spec["transition"])  # fmt: skip
    abc_seconds = time.time() - t0
    pops = h.get_all_populations()
    wall = float(pops["wall_time"].sum())
    post = posterior_frame(h, spec["priors"])
    post.to_parquet(out / "posterior.parquet", index=False)
    summ = posterior_summary(post, spec["priors"])
    summ.to_csv(out / "posterior_summary.csv", index=False)
    plot_marginals(post, spec["priors"], out / "marginals.png")
    plot_pairs(post, spec["priors"], out / "pairs.png")
    median = {k: _value(spec["priors"][k], v) for k, v in zip(summ["parameter"], summ["post_median"], strict=True)}
    point, choice = best_point(sim, post, median, observed, scale, spec["priors"], jobs, spec["seed"])
    choice.to_csv(out / "point_choice.csv", index=False)
    preset = None if fold else write_preset(spec, point, preset_dir or ROOT / "configs" / "calibration", len(kept),
                                            int(h.total_nr_simulations))  # fmt: skip
    month = spec["month"]
    nseeds = spec["validation_seeds"]
    before = validate_report(base, targets, design, nseeds, month, jobs, out / "before", "Before calibration (declared defaults)")
    after = validate_report(replace(base, **point), targets, design, nseeds, month, jobs, out / "after",
                            "After calibration (the preset: the best-fitting particle over seeds)")  # fmt: skip
    at_median = validate_report(replace(base, **median), targets, design, nseeds, month, jobs, out / "after_median",
                                "After calibration, at the posterior median of each parameter")  # fmt: skip
    lines = [
        f"# ABC-SMC calibration: {spec['name']}\n",
        f"{len(spec['priors'])} parameters, {len(kept)} simulated target shares, population {spec['population']}, "
        f"{h.max_t + 1} generations, {int(h.total_nr_simulations)} simulations, {wall / 60:.1f} min (sum of the "
        f"generations' wall time, {jobs} workers; this call {abc_seconds / 60:.1f} min); final epsilon "
        f"{float(pops['epsilon'].iloc[-1]):.2f} survey standard errors; effective sample "
        f"size of the last generation {effective_sample_size(post['weight'].to_numpy()):.1f} of {len(post)}.\n",
        "| | RMS (pp) | inside survey 95% | questions not rejected | deviance | qualitative patterns hold |",
        "|---|---|---|---|---|---|",
        *(
            f"| {lbl} | {f['rms']:.1f} | {f['inside']}/{f['shares']} | {f['not_rejected']}/{f['tests']} | {f['deviance']:.0f} "
            f"| {f['patterns_hold']}/{f['patterns']} |"
            for lbl, f in (("before", before), ("after: the preset", after), ("after: posterior median", at_median))
        ),  # fmt: skip
        "\nPatterns: `after/patterns.csv`; every share: `after/validation.md` and `after/validation.png`. The preset is "
        f"the particle of the last generation with the smallest distance averaged over {POINT_SEEDS} seeds, among the "
        f"{POINT_CANDIDATES} closest particles and the posterior median (`point_choice.csv`): the median of each "
        "marginal separately can fall between the regions that fit. The posterior itself carries the uncertainty.",
        *(_fold_lines(out, held, fold) if fold else []),
        *(["\n## Left out of the distance (still validated above)\n", "| share | reason |", "|---|---|",
           *(f"| {k} | {v} |" for k, v in excluded.items())] if excluded else []),  # fmt: skip
        "\n## Posterior (last generation)\n",
        "| parameter | prior | posterior median [5%, 95%] | width / prior width | verdict |",
        "|---|---|---|---|---|",
        *(
            f"| {r.parameter} | {r.prior} | {r.post_median:.3g} [{r.post_q05:.3g}, {r.post_q95:.3g}] | {r.width_ratio:.2f} | "
            f"{r.verdict} |"
            for r in summ.itertuples()
        ),  # fmt: skip
        "\n## Generations\n",
        pops.to_markdown(index=False) if _has_tabulate() else pops.to_string(index=False),
    ]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    return {"summary": str(out / "summary.md"), "posterior": str(out / "posterior.parquet"), "preset": str(preset or ""),
            "generations": int(h.max_t + 1), "simulations": int(h.total_nr_simulations), "minutes": round(wall / 60, 1),
            "before": before, "after": after}  # fmt: skip


POINT_CANDIDATES = 40
POINT_SEEDS = 5


def best_point(
    sim: SurveySimulator, post: pd.DataFrame, median: dict[str, float | int], observed: np.ndarray, scale: np.ndarray,
    priors: dict[str, Prior], jobs: int, seed: int,
) -> tuple[dict[str, Any], pd.DataFrame]:  # fmt: skip
    """The preset: the candidate whose distance averaged over :data:`POINT_SEEDS` seeds is smallest.

    Candidates: the :data:`POINT_CANDIDATES` closest particles of the last generation and the posterior median (a
    single seed's distance is noisy, and the median of each marginal can fall between the regions that fit).

    Returns:
        The chosen parameter values (as the config takes them) and the table of candidates with their mean distance.
    """
    order = np.argsort(post["distance"].to_numpy(float), kind="stable")[:POINT_CANDIDATES]
    cands = [median] + [{k: _value(p, float(post[k].iloc[i])) for k, p in priors.items()} for i in order]
    dist = standardised_distance(scale)
    work = [(sim, {k: p.sampler(c[k]) for k, p in priors.items()}, seed * 7919 + s) for c in cands
            for s in range(1, POINT_SEEDS + 1)]  # fmt: skip
    shares = _map_runs(work, jobs, chunksize=POINT_SEEDS)
    d = np.array([dist({"shares": x}, {"shares": observed}) for x in shares]).reshape(len(cands), POINT_SEEDS)
    table = pd.DataFrame(cands)
    table.insert(0, "candidate", ["posterior median"] + [f"particle {int(i)}" for i in order])
    table["mean_distance"] = d.mean(axis=1)
    table["sd_distance"] = d.std(axis=1, ddof=1)
    best = int(np.argmin(table["mean_distance"].to_numpy()))
    return cands[best], table.sort_values("mean_distance", kind="stable").reset_index(drop=True)


def fold_rms(validation_csv: Path, held: set[str]) -> tuple[float, float]:
    """RMS (percentage points) of the calibrated and of the held-out simulated shares of a validation table."""
    t = pd.read_csv(validation_csv)
    t = t[t["status"] == "ok"]
    d = t["simulated"] - t["target"]
    mask = t["question"].isin(held)
    rms = [float(np.sqrt(np.mean(d[m] ** 2))) if m.any() else float("nan") for m in (~mask, mask)]
    return rms[0], rms[1]


def _fold_lines(out: Path, held: set[str], fold: tuple[int, int]) -> list[str]:
    lines = [f"\n## Fold {fold[0]} of {fold[1]}: held out {', '.join(sorted(held))}\n",
             "| | RMS calibrated shares (pp) | RMS held-out shares (pp) |", "|---|---|---|"]  # fmt: skip
    for lbl in ("before", "after"):
        cal, val = fold_rms(out / lbl / "validation.csv", held)
        lines.append(f"| {lbl} | {cal:.1f} | {val:.1f} |")
    return lines


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def _default(cfg: Config, key: str) -> float:
    node: Any = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return float(node)


def write_preset(spec: dict[str, Any], point: dict[str, float | int], preset_dir: Path, n_shares: int, sims: int) -> Path:
    """Write the posterior median as the Hydra preset ``configs/calibration/<name>.yaml``."""
    nested: dict[str, Any] = {}
    for k, v in point.items():
        node = nested
        *parents, leaf = k.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = v
    header = (
        f"# @package _global_\n# Calibrated by `sim-calibrate` (ABC-SMC, pyabc) against {Path(spec['targets_path']).name}:\n"
        f"# {len(point)} parameters, {n_shares} simulated target shares, {sims} simulations; the best-fitting particle\n"
        f"# over seeds (results/{spec['name']}/point_choice.csv; the posterior median is validated beside it).\n"
        f"# The full posterior: experiments/calibration/results/{spec['name']}/posterior.parquet\n"
        f"# (sim-experiment ... --posterior). Regenerate on purpose only.\n"
    )
    preset_dir.mkdir(parents=True, exist_ok=True)
    path = preset_dir / f"{spec['name']}.yaml"
    path.write_text(header + yaml.safe_dump(nested, sort_keys=True))
    return path


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-calibrate``."""
    import argparse

    ap = argparse.ArgumentParser(prog="sim-calibrate", description="ABC-SMC calibration to survey targets (pyabc); resumable.")
    ap.add_argument("spec", help="calibration YAML, e.g. experiments/calibration/volgograd_2021.yaml")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--out", type=Path, default=None, help="results folder (default experiments/calibration/results/<name>)")
    ap.add_argument("--preset-dir", type=Path, default=None, help="where the preset goes (default configs/calibration)")
    ap.add_argument("--population", type=int, default=None, help="override the file's population")
    ap.add_argument("--max-simulations", type=int, default=None, help="override the file's budget")
    ap.add_argument("--fold", default=None, help="I/K: leave fold I of K of the questions out (cross-validation), e.g. 1/5")
    ap.add_argument("--report-only", action="store_true",
                    help="write the posterior, plots, preset and validation of a finished history again, no simulation")
    ap.add_argument("--prior-check", type=int, default=None, metavar="N",
                    help="only a prior predictive check with N draws from the priors (writes prior_predictive.md)")
    args = ap.parse_args(argv)
    try:
        fold = parse_fold(args.fold) if args.fold is not None else None
        spec = load_spec(args.spec)
        for key, val in (("--jobs", args.jobs), ("--population", args.population), ("--max-simulations", args.max_simulations)):
            if val is not None and val < 1:
                raise ConfigError(f"{key}={val}: allowed a positive integer")
        if args.population is not None:
            spec["population"] = args.population
        if args.max_simulations is not None:
            spec["max_simulations"] = args.max_simulations
        check_spec(spec)
        if args.prior_check is not None:
            if args.prior_check < 2:
                raise ConfigError(f"--prior-check={args.prior_check}: allowed an integer >= 2")
            print(prior_check(spec, args.prior_check, args.jobs, args.out))
            return
        res = calibrate(spec, args.jobs, args.out, args.preset_dir, fold, report_only=args.report_only)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    print(yaml.safe_dump(res, sort_keys=False))
