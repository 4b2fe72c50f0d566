"""Helpers of ``leakage estimate``: the measures it knows, its table, and ``--system``
(a Python function sampled until the interval is narrow enough)."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ..errors import InvalidParameterError, LeakageError
from ._common import (
    UNITLESS,
    _fmt,
    _naming_options,
    _one_line,
    _pmf,
    _print_unwrapped,
    _unit,
    to_jsonable,
)

#: --measure names and (function name, label, information measure?)
_ESTIMATE_MEASURES = {
    "mi": ("mutual_information", "I(X;Y)", True),
    "maximal-leakage": ("maximal_leakage", "L(X->Y)", True),
    "min-entropy-leakage": ("min_entropy_leakage", "min-entropy leakage", True),
    "bayes-vulnerability": ("bayes_vulnerability", "posterior Bayes vulnerability", False),
    "bayes-risk": ("bayes_risk", "Bayes risk", False),
}


def _print_estimates(results, title, b, level, json_out, head, indep, samples=False) -> None:
    """The estimates as a table (or one JSON object with ``head`` first)."""
    unit = _unit(b)
    if json_out:
        payload: dict[str, Any] = {
            **head,
            "estimates": {
                name: {**to_jsonable(e), "unit": unit if info else UNITLESS}
                for name, _, info, e in results
            },
        }
        if indep is not None:
            payload["independence_test"] = to_jsonable(indep)
        typer.echo(json.dumps(payload))
        return
    columns = ["measure", "estimate", f"{level:g} interval", "unit", "estimator", "interval"]
    columns += ["samples"] if samples else []
    table = Table(*columns, box=None, pad_edge=False, header_style="bold")
    for _, label, info, e in results:
        shown = "" if math.isnan(e.lower) else f"[{_fmt(e.lower)}, {_fmt(e.upper)}]"
        if e.measure == "bayes_risk" and e.method == "knn":
            label = "Bayes risk, lower bound (1-NN, Cover-Hart)"  # not an estimate of R*
        elif e.measure == "bayes_risk" and e.method.startswith("knn-"):
            label = "Bayes risk (k_n-NN estimate, F-BLEAU)"
        row = [label, _fmt(e.value), shown, unit if info else UNITLESS, e.method, e.interval]
        table.add_row(*row, *([f"{e.n:,}"] if samples else []))
    lines: list[Table | str] = [title, table]
    if indep is not None:
        lines.append(
            f"independence test ({indep.method}): p-value = {_fmt(indep.pvalue)} "
            f"(statistic: plug-in I = {_fmt(indep.statistic)} bits)"
        )
    _print_unwrapped(*lines)


def _system_function(spec: str):
    """``module:func`` or ``path/file.py:func`` -> the callable (cwd importable)."""
    import importlib
    import importlib.util

    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise InvalidParameterError(
            f"estimate: the '--system' option must be MODULE:FUNC or FILE.py:FUNC; got {spec!r}."
        )
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise InvalidParameterError(
                    f"estimate: the '--system' file '{where}' does not exist."
                )
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            assert module_spec is not None and module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(where)
    except LeakageError:
        raise
    except Exception as exc:  # the user's module failed to import
        raise InvalidParameterError(
            f"estimate: cannot import '{where}' for '--system' "
            f"({type(exc).__name__}: {_one_line(str(exc))[:200]})."
        ) from None
    func = getattr(module, name, None)
    if not callable(func):
        raise InvalidParameterError(f"estimate: '{where}' has no function '{name}' for '--system'.")
    return func


def _estimate_system(
    spec,
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
) -> None:
    """``leakage estimate --system``: one :func:`leakage.estimate.from_system` run per
    measure."""
    from .. import estimate as est

    if prior is None:
        raise InvalidParameterError(
            "estimate: --system needs --prior (the distribution of the secrets 0..k-1, "
            "e.g. --prior 0.5,0.5)."
        )
    p = _pmf(prior, "--prior")
    func = _system_function(spec)
    options = {"level": "--level", "method": "--method", "resamples": "--resamples"}
    options.update({"base": "--base", "rng": "--seed", "width": "--width", "prior": "--prior"})
    options.update({"max_samples": "--max-samples"})
    results = []
    with _naming_options(options):
        for k, name in enumerate(names):
            func_name, label, info = _ESTIMATE_MEASURES[name]
            if method not in ("auto", "knn", "knn-log", "knn-log10") and func_name not in (
                "mutual_information",
                "bayes_risk",
            ):
                raise InvalidParameterError(
                    f"estimate: the '--method' option applies to mi and bayes-risk only; "
                    f"'--measure {name}' uses its plug-in estimate (drop --method)."
                )
            e = est.from_system(
                func,
                p,
                measure=func_name,
                width=width,
                level=level,
                max_samples=max_samples,
                method=method if func_name in ("mutual_information", "bayes_risk") else "auto",
                vectorized=vectorized,
                resamples=None if resamples == 1000 else resamples,
                base=b,
                rng=seed + k,
            )
            results.append((name, label, info, e))
    indep = None
    if test:
        first = results[0][3].details.get("counts")
        if first is None:
            raise InvalidParameterError(
                "estimate: --test needs discrete observables (drop --test with --method knn)."
            )
        indep = est.independence_test(first, rng=seed)
    for _, _, _, e in results:
        e.details.pop("counts", None)  # the table stays out of the JSON output
    stops = {e.details["stopped"] for _, _, _, e in results}
    title = f"{spec}: sampled until the interval width <= {width:g} ({', '.join(sorted(stops))})"
    head = {"system": spec, "width": width, "samples": {n: e.n for n, _, _, e in results}}
    _print_estimates(results, title, b, level, json_out, head, indep, samples=True)
