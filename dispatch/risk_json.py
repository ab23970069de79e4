"""The deadline-risk model as JSON: what the training process writes on its pipe, and what
the writer keeps in the store so that its standbys and gateways score the cases with the
very same model (docs/kpis.md §8). Never a pickle: bytes read from a database are data.

Floats go out in their shortest exact form and come back the same, so every node that loads
a model gives each case the same probability to the last digit.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np

from dispatch.risk import Rates, RiskModel

VERSION = 1  # of this form; a node that reads another refuses it (and trains its own)


class _Stored(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    trained_at: float
    samples: int
    index: dict[str, int]
    weights: list[float]
    district: float
    category: dict[str, float]
    category_street: list[tuple[str, str, float]]
    assignee: dict[str, float]
    cases: int
    new_overdue: dict[str, float]
    open_scale: float


class _Form(msgspec.Struct):
    version: int


_decoder = msgspec.json.Decoder(_Stored)
_form = msgspec.json.Decoder(_Form)


def dumps(model: RiskModel) -> bytes:
    """The model's JSON."""
    rates = model.rates
    return msgspec.json.encode(
        _Stored(
            version=VERSION,
            trained_at=model.trained_at,
            samples=model.samples,
            index=model.index,
            weights=[float(w) for w in model.weights],
            district=rates.district,
            category=rates.category,
            category_street=[(c, s, p) for (c, s), p in rates.category_street.items()],
            assignee=rates.assignee,
            cases=rates.cases,
            new_overdue=model.new_overdue,
            open_scale=model.open_scale,
        )
    )


def loads(data: bytes) -> RiskModel:
    """A model from its JSON; ValueError, saying what is wrong, for anything else."""
    try:
        form = _form.decode(data).version
        if form != VERSION:  # before its fields: another form may have other ones
            raise ValueError(f"a deadline-risk model of form {form}, not {VERSION}")
        stored = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a deadline-risk model: {exc}") from None
    weights = np.asarray(stored.weights, dtype=np.float64)
    if not weights.size or not np.isfinite(weights).all():
        raise ValueError("a deadline-risk model with no weights, or weights not finite")
    if any(not 0 <= i < weights.size for i in stored.index.values()):
        raise ValueError("a deadline-risk model whose index points past its weights")
    rates = [stored.district, *stored.category.values(), *stored.assignee.values()]
    rates += [p for _, _, p in stored.category_street]
    if any(not 0.0 <= p <= 1.0 for p in rates):
        raise ValueError("a deadline-risk model with a late rate outside 0..1")
    counts = [*stored.new_overdue.values(), stored.open_scale, stored.trained_at]
    if any(not math.isfinite(x) or x < 0 for x in counts) or min(stored.samples, stored.cases) < 0:
        raise ValueError("a deadline-risk model with a negative or infinite figure")
    return RiskModel(
        index=stored.index,
        weights=weights,
        rates=Rates(
            district=stored.district,
            category=stored.category,
            category_street={(c, s): p for c, s, p in stored.category_street},
            assignee=stored.assignee,
            cases=stored.cases,
        ),
        trained_at=stored.trained_at,
        samples=stored.samples,
        new_overdue=stored.new_overdue,
        open_scale=stored.open_scale,
    )
