"""Section 8.5, smart city: day-ahead electricity demand forecasts and load shifting on top of them.

Demand is laid out as a day matrix ``D`` (days x 48 half hours). A day-ahead forecast for day
``d`` may use every day before ``d`` (and, here, the day's temperature: a perfect weather
forecast, which flatters every model that uses it). A flexible load (batteries, electric-car
charging) of ``energy`` GWh a day, drawing at most ``cap`` GW, is then scheduled into the day.
"""
from __future__ import annotations

import numpy as np

SLOTS = 48       # half hours a day
DT = 0.5         # hours per slot


def day_matrix(series, per_day: int = SLOTS) -> np.ndarray:
    """Reshape a series of whole days into (days, per_day)."""
    y = np.asarray(series, dtype=float).reshape(-1)
    if y.size == 0 or y.size % per_day:
        raise ValueError(f"the series has {y.size} values, not a whole number of days of {per_day}")
    return y.reshape(-1, per_day)


def seasonal_naive_days(D, day: int, lag: int = 7) -> np.ndarray:
    """Forecast day ``day`` as the same half hours ``lag`` days earlier (lag 7: same weekday last week)."""
    D = np.asarray(D, dtype=float)
    if not lag <= day < len(D):
        raise ValueError(f"day must be in [{lag}, {len(D)}) for a lag of {lag} days, got {day}")
    return D[day - lag].copy()


def mae(y, y_hat) -> float:
    """Mean absolute error."""
    y, y_hat = np.asarray(y, dtype=float), np.asarray(y_hat, dtype=float)
    if y.shape != y_hat.shape:
        raise ValueError(f"shapes differ: actual {y.shape}, forecast {y_hat.shape}")
    return float(np.mean(np.abs(y - y_hat)))


def mape(y, y_hat) -> float:
    """Mean absolute percentage error (a fraction: 0.05 is 5%)."""
    y, y_hat = np.asarray(y, dtype=float), np.asarray(y_hat, dtype=float)
    if y.shape != y_hat.shape:
        raise ValueError(f"shapes differ: actual {y.shape}, forecast {y_hat.shape}")
    return float(np.mean(np.abs(y - y_hat) / np.abs(y)))


def _check_load(energy, cap, n):
    if not energy >= 0 or not cap > 0:
        raise ValueError(f"energy must be >= 0 GWh and cap > 0 GW, got energy={energy!r}, cap={cap!r}")
    if energy > cap * DT * n + 1e-9:
        raise ValueError(f"{energy} GWh cannot be delivered in {n} half hours at {cap} GW "
                         f"(at most {cap * DT * n:g} GWh)")


def valley_fill(base, energy: float, cap: float) -> np.ndarray:
    """Schedule ``energy`` GWh into the half hours of ``base`` (GW) so that the peak of base + load is as
    low as possible, drawing 0..``cap`` GW each half hour: the load is clip(L - base, 0, cap), with the
    water level L found by bisection so that the energy adds up (water filling)."""
    base = np.asarray(base, dtype=float).reshape(-1)
    _check_load(energy, cap, base.size)
    if energy == 0:
        return np.zeros_like(base)
    lo, hi = base.min(), base.max() + cap
    for _ in range(100):
        level = 0.5 * (lo + hi)
        if np.clip(level - base, 0, cap).sum() * DT < energy:
            lo = level
        else:
            hi = level
    load = np.clip(hi - base, 0, cap)
    return load * energy / (load.sum() * DT)  # exact energy (the level is known to ~1e-15 GW)


def fixed_schedule(energy: float, cap: float, slots) -> np.ndarray:
    """Spread ``energy`` GWh evenly over the given half-hour ``slots`` (indices 0..47)."""
    slots = np.unique(np.asarray(slots, dtype=int))
    if slots.size == 0 or slots.min() < 0 or slots.max() >= SLOTS:
        raise ValueError(f"slots must be a non-empty list of half-hour indices in 0..{SLOTS - 1}")
    _check_load(energy, cap, slots.size)
    load = np.zeros(SLOTS)
    load[slots] = energy / (DT * slots.size)
    return load


def peak_increase(actual, load) -> float:
    """How much the flexible load raises the day's peak demand (GW), judged on the ACTUAL demand."""
    actual, load = np.asarray(actual, dtype=float), np.asarray(load, dtype=float)
    if actual.shape != load.shape:
        raise ValueError(f"shapes differ: actual {actual.shape}, load {load.shape}")
    return float(np.max(actual + load) - np.max(actual))
