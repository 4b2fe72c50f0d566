"""``leakage estimate``: leakage estimated from a log (or a sampled system)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import InvalidParameterError
from ._common import (
    _ARRAY_HELP,
    BaseOpt,
    JsonOpt,
    _naming_options,
    _number,
    _one_line,
    _spinner,
    app,
)
from ._estimate_system import _ESTIMATE_MEASURES, _estimate_system, _print_estimates

# --------------------------------------------------------------------------- estimate


def _log_columns(path: Path, secret: str, observable: str, *, counted: bool = False):
    """The two columns of a CSV/Parquet log as NumPy arrays (pyarrow: the release extra).

    ``counted``: their :class:`~leakage.estimate.Counts` instead, the file streamed in
    batches by :func:`~leakage.estimate.count_log` (only its schema is read here)."""
    try:
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - the release extra is missing
        raise InvalidParameterError(
            "estimate: reading a log needs pyarrow: pip install 'leakage[release]'."
        ) from exc
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InvalidParameterError(
            f"estimate: the '--data' option must name a .csv or .parquet file; got '{path}'."
        )
    try:
        if counted:  # the column names only (a CSV's first block)
            csv = suffix == ".csv"
            names = pcsv.open_csv(path).schema.names if csv else pq.read_schema(path).names
        elif suffix == ".csv":
            table = pcsv.read_csv(path)
            names = table.column_names
        else:  # only the two columns are read
            names = pq.read_schema(path).names
            want = [c for c in (secret, observable) if c in names]
            table = pq.read_table(path, columns=want)
        missing = [c for c in (secret, observable) if c not in names]
        if missing:
            raise InvalidParameterError(
                f"estimate: '--secret {secret}' and '--observable {observable}' must be "
                f"columns of '{path}'; missing: {', '.join(missing)} (columns: "
                f"{', '.join(names[:20])})."
            )
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        if isinstance(exc, InvalidParameterError):
            raise
        if isinstance(exc, FileNotFoundError):
            raise
        raise InvalidParameterError(
            f"estimate: cannot read the '--data' file '{path}' ({_one_line(str(exc))[:200]})."
        ) from None
    if counted:
        from ..estimate import count_log

        with _naming_options({"source": "--data"}), _spinner("counting"):
            return count_log(path, secret, observable)
    return (
        table.column(secret).to_numpy(zero_copy_only=False),
        table.column(observable).to_numpy(zero_copy_only=False),
    )


@app.command("estimate")
def _estimate(
    data: Annotated[
        Path | None,
        typer.Option("--data", metavar="FILE", help="The log: a .csv or .parquet file."),
    ] = None,
    secret: Annotated[
        str | None, typer.Option("--secret", metavar="COL", help="Secret column X (--data).")
    ] = None,
    observable: Annotated[
        str | None,
        typer.Option("--observable", metavar="COL", help="Observable column Y (--data)."),
    ] = None,
    system: Annotated[
        str | None,
        typer.Option(
            "--system",
            metavar="MODULE:FUNC",
            help="Instead of --data: a Python function system(secret, rng) -> observable "
            "(module or file.py, then ':' and its name), sampled until --width.",
        ),
    ] = None,
    prior: Annotated[
        str | None,
        typer.Option(
            "--prior",
            metavar="PMF",
            help=f"Prior of the secrets 0..k-1 for --system: {_ARRAY_HELP}.",
        ),
    ] = None,
    width: Annotated[
        float, typer.Option("--width", help="--system: stop when the interval is this narrow.")
    ] = 0.05,
    max_samples: Annotated[
        int, typer.Option("--max-samples", help="--system: most calls of the system.")
    ] = 1_000_000,
    vectorized: Annotated[
        bool,
        typer.Option("--vectorized", help="--system: call it once per look on an array."),
    ] = False,
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            metavar="LIST",
            help="Comma-separated: " + ", ".join(_ESTIMATE_MEASURES) + ".",
        ),
    ] = "mi",
    level: Annotated[float, typer.Option("--level", help="Interval level.")] = 0.95,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            metavar="NAME",
            help="Estimator: auto, plugin, miller_madow, jackknife, chao_shen, dirichlet; "
            "knn for a numeric observable (mi, bayes-risk: the 1-NN lower bound); knn-log, "
            "knn-log10 (bayes-risk: F-BLEAU's k-NN estimates).",
        ),
    ] = "auto",
    interval: Annotated[
        str,
        typer.Option("--interval", metavar="KIND", help="bootstrap, bootstrap-bc or dirichlet."),
    ] = "bootstrap",
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the resampling.")] = 0,
    test: Annotated[
        bool, typer.Option("--test", help="Also test independence of secret and observable.")
    ] = False,
    base: BaseOpt = "2",
    json_out: JsonOpt = False,
) -> None:
    """Leakage of a system estimated from a log of (secret, observable) pairs, with intervals.

    Prints, per measure, the estimate and its interval at --level (units: bits unless
    --base), the estimator and how the interval was made; --test adds a test of
    independence (p-value). With --system instead of --data, a Python function is run on
    secrets drawn from --prior until the interval is narrower than --width (one run per
    measure; the interval keeps its --level at the data-dependent stop).
    """
    from .. import estimate as est

    b = _number(base, "--base")
    names = [m.strip() for m in measure.split(",") if m.strip()]
    unknown = [m for m in names if m not in _ESTIMATE_MEASURES]
    if unknown or not names:
        raise InvalidParameterError(
            f"estimate: the '--measure' option must list names from "
            f"{', '.join(_ESTIMATE_MEASURES)}; got {measure!r} instead."
        )
    if (data is None) == (system is None):
        raise InvalidParameterError(
            "estimate: give exactly one source: --data FILE (a log, with --secret and "
            "--observable) or --system MODULE:FUNC (with --prior)."
        )
    if system is not None:
        _estimate_system(
            system,
            prior,
            names,
            width,
            max_samples,
            vectorized,
            level,
            method,
            resamples,
            seed,
            test,
            b,
            json_out,
        )
        return
    if secret is None or observable is None:
        raise InvalidParameterError(
            "estimate: --data needs --secret COL and --observable COL (the log's columns)."
        )
    if method.startswith("knn"):  # numeric observables: the samples themselves
        x, y = _log_columns(data, secret, observable)
    else:  # discrete: the count table, the file streamed in batches
        x, y = _log_columns(data, secret, observable, counted=True), None
    options = {"level": "--level", "method": "--method", "interval": "--interval"}
    options.update({"resamples": "--resamples", "base": "--base", "rng": "--seed"})
    results = []
    with _naming_options(options), _spinner("estimating"):
        for name in names:
            func_name, label, info = _ESTIMATE_MEASURES[name]
            func = getattr(est, func_name)
            takes = inspect.signature(func).parameters
            kw: dict[str, Any] = dict(level=level, rng=seed)
            if "method" not in takes and method != "auto":
                raise InvalidParameterError(
                    f"estimate: the '--method' option applies to mi and bayes-risk only; "
                    f"'--measure {name}' uses its plug-in estimate (drop --method)."
                )
            if method.startswith("knn"):  # a numeric observable: bootstrap over samples
                kw.update(method=method, resamples=min(resamples, 200))
            else:
                kw.update(interval=interval, resamples=resamples)
                if "method" in takes:
                    auto = "frequentist" if func_name == "bayes_risk" else "auto"
                    kw["method"] = auto if method == "auto" else method
            if "base" in takes:
                kw["base"] = b
            results.append((name, label, info, func(x, y, **kw)))
        indep = est.independence_test(x, y, rng=seed) if test else None
    _print_estimates(
        results,
        f"{results[0][3].n:,} pairs from {data}",
        b,
        level,
        json_out,
        {"data": str(data), "n": results[0][3].n},
        indep,
    )
