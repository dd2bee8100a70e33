"""Checkers for section 8.5 (emerging fields: IDM acceleration, shortest grid path, valley filling)."""
from __future__ import annotations

import numpy as np

from utils import city as _city
from utils import driving as _dr
from utils.checks import Wrong, exercise, number, tolerance, shaped_array


_array = shaped_array  # one helper for chapter 8's checkers, in utils.checks


# --- 8.5.1 IDM acceleration ----------------------------------------------------------------------

@exercise("8.5.1", "acceleration of the intelligent driver model")
def _check_idm(idm_acceleration) -> str:
    p = _dr.IDM()
    v = np.array([0.0, 10.0, 20.0, 30.0, 25.0, 15.0, 33.0, 5.0])
    gap = np.array([10.0, 40.0, 30.0, 80.0, 200.0, 12.0, 60.0, 3.0])
    dv = np.array([0.0, 0.0, 5.0, -3.0, 0.0, 8.0, -6.0, 1.0])  # dv = v - v_leader: > 0 closing in
    expected = _dr.idm_acceleration(v, gap, dv, p)
    got = _array(idm_acceleration(v.copy(), gap.copy(), dv.copy()), v.shape, "idm_acceleration(v, gap, dv)")
    if np.allclose(got, expected, rtol=0, atol=1e-9):
        return f"{len(v)} situations: standing, cruising, closing in, falling back, free road, tight gap"
    s_star = p.s0 + v * p.T + v * dv / (2 * np.sqrt(p.a * p.b))
    wrong = {
        "no_max": p.a * (1 - (v / p.v0) ** p.delta - (s_star / gap) ** 2),
        "sign": _dr.idm_acceleration(v, gap, -dv, p),
    }
    wrong["linear"] = p.a * (1 - (v / p.v0) ** p.delta
                             - (p.s0 + np.maximum(0.0, v * p.T + v * dv / (2 * np.sqrt(p.a * p.b)))) / gap)
    i = int(np.argmax(np.abs(got - expected)))
    where = f"at v = {v[i]:g} m/s, gap = {gap[i]:g} m, dv = {dv[i]:g} m/s you return {got[i]:.6f}, expected {expected[i]:.6f}"
    if np.allclose(got, wrong["sign"], atol=1e-9):
        raise Wrong(f"{where}: dv is the approach rate v - v_leader (positive when closing in), which must *raise* "
                    "the desired gap s*; your sign lowers it")
    if np.allclose(got, wrong["no_max"], atol=1e-9):
        raise Wrong(f"{where}: the dynamic part of s* is max(0, v T + v dv / (2 sqrt(a b))): without the max, "
                    "a faster leader shrinks the desired gap below the jam distance s0")
    if np.allclose(got, wrong["linear"], atol=1e-9):
        raise Wrong(f"{where}: the interaction term is (s*/gap) squared")
    raise Wrong(f"{where} (the check allows {tolerance(atol=1e-9)}); use the paper's parameters: v0 = 120 km/h, "
                f"T = {p.T} s, a = {p.a} m/s^2, b = {p.b} m/s^2, delta = {p.delta:g}, s0 = {p.s0:g} m")


# --- 8.5.2 shortest path on a grid ---------------------------------------------------------------

def _grids():
    rng = np.random.default_rng(852)
    open_grid = np.zeros((6, 7), dtype=bool)
    wall = np.zeros((5, 5), dtype=bool)
    wall[:, 2] = True  # the goal is cut off
    detour = np.zeros((5, 6), dtype=bool)
    detour[:4, 2] = detour[1:, 4] = True  # a zig-zag corridor
    cases = [(open_grid, (0, 0), (5, 6)), (wall, (0, 0), (4, 4)), (detour, (0, 0), (0, 5)),
             (open_grid, (2, 3), (2, 3))]
    for _ in range(6):
        g = _dr.random_grid(rng, (12, 15), 0.3)
        cases.append((g, (0, 0), (11, 14)))
    return cases


@exercise("8.5.2", "shortest path length on an occupancy grid")
def _check_shortest(shortest_path_length) -> str:
    for grid, start, goal in _grids():
        expected = float(_dr.grid_distances(grid, start)[goal])
        got_raw = shortest_path_length(grid.copy(), start, goal)
        if got_raw is None:
            raise Wrong(f"you return None for start {start}, goal {goal}; return float('inf') when the goal "
                        "cannot be reached, else the number of moves")
        try:
            got = float(got_raw)
        except (TypeError, ValueError):
            raise Wrong(f"shortest_path_length(...) should return a number, got {type(got_raw).__name__}")
        if got == expected or (np.isinf(expected) and np.isinf(got) and got > 0):
            continue
        if np.isinf(expected):
            hint = "; you ignore the obstacles (True cells)" if got == _dr.manhattan(start, goal) else ""
            raise Wrong(f"a wall cuts the goal {goal} off from {start}: expected inf (unreachable), got {got:g}{hint}")
        if got == expected + 1:
            raise Wrong(f"from {start} to {goal} you return {got:g}, expected {expected:g}: count moves, not the "
                        "cells on the path (a path of n cells has n - 1 moves)")
        if got < expected:
            free = float(_dr.manhattan(start, goal))
            hint = ("you ignore the obstacles (True cells)" if got == free else
                    "only the 4 moves up/down/left/right are allowed, no diagonals")
            raise Wrong(f"from {start} to {goal} you return {got:g}, but the shortest 4-connected path around the "
                        f"obstacles has {expected:g} moves: {hint}")
        raise Wrong(f"from {start} to {goal} the shortest path has {expected:g} moves, you return {got:g} "
                    "(the answer must be exact): is your search optimal? A* needs a heuristic that never "
                    "overestimates, and a node is final only when it leaves the priority queue")
    return f"{len(_grids())} grids: open, cut-off goal, zig-zag corridor, start = goal, and random grids"


# --- 8.5.3 valley filling ------------------------------------------------------------------------

@exercise("8.5.3", "valley filling: schedule a flexible load to keep the peak low")
def _check_valley(valley_fill) -> str:
    rng = np.random.default_rng(853)
    t = np.arange(48)
    cases = []
    for energy, cap in ((3.0, 1.0), (8.0, 2.0), (0.5, 0.3), (20.0, 1.0)):
        base = 4 + np.sin(2 * np.pi * (t - 12) / 48) + 0.2 * rng.normal(size=48)
        cases.append((base, energy, cap))
    for base, energy, cap in cases:
        ref = _city.valley_fill(base, energy, cap)
        got = _array(valley_fill(base.copy(), energy, cap), (48,), "valley_fill(base, energy, cap)")
        delivered = got.sum() * _city.DT
        if got.min() < -1e-9:
            raise Wrong(f"your schedule draws {got.min():.4f} GW in some half hour: the load can only consume (>= 0)")
        if abs(delivered - energy) > 1e-6:
            hint = (": each half hour lasts 0.5 h, so energy = sum(load) x 0.5"
                    if abs(delivered - 2 * energy) < 1e-6 or abs(delivered - energy / 2) < 1e-6 else "")
            raise Wrong(f"your schedule delivers {delivered:.6f} GWh, the load needs {energy:g} GWh "
                        f"(the check allows {tolerance(atol=1e-6)}){hint}")
        if got.max() > cap + 1e-6:
            raise Wrong(f"your schedule draws {got.max():.4f} GW in some half hour, above the cap of {cap:g} GW")
        peak, best = float(np.max(base + got)), float(np.max(base + ref))
        if peak > best + 1e-6:
            raise Wrong(f"for {energy:g} GWh at up to {cap:g} GW, the peak of base + load is {peak:.6f} GW; "
                        f"the lowest possible is {best:.6f} GW (the check allows {tolerance(atol=1e-6)}): "
                        "fill the valleys up to one water level L, load = clip(L - base, 0, cap)")
    return f"{len(cases)} days: energy, cap and peak checked (peak within 1e-6 GW of the optimum)"
