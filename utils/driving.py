"""Section 8.5, autonomous driving: A* path planning on an occupancy grid and car following.

* :func:`astar` plans a shortest path on a 4-connected occupancy grid (Hart, Nilsson &
  Raphael, 1968); with ``weight=0`` it is Dijkstra's algorithm (Dijkstra, 1959), with
  ``weight > 1`` it is weighted A* (faster, no longer guaranteed optimal).
* :func:`idm_acceleration` is the intelligent driver model (Treiber, Hennecke & Helbing,
  2000); :func:`constant_gap_acceleration` a naive controller that holds one fixed gap.
* :func:`simulate_platoon` runs a line of cars behind a leader whose speed is prescribed,
  and :func:`platoon_metrics` measures collisions, time gaps and comfort.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

# --- path planning ---------------------------------------------------------------------

MOVES = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _as_grid(grid) -> np.ndarray:
    g = np.asarray(grid)
    if g.ndim != 2 or g.size == 0:
        raise ValueError(f"grid must be a non-empty 2-D array (rows x columns, True = obstacle), got shape {g.shape}")
    return g.astype(bool)


def _as_cell(cell, grid: np.ndarray, name: str) -> tuple[int, int]:
    try:
        r, c = (int(v) for v in cell)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (row, column) pair, got {cell!r}")
    if not (0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]):
        raise ValueError(f"{name} {cell!r} lies outside the grid of shape {grid.shape}")
    if grid[r, c]:
        raise ValueError(f"{name} {cell!r} is an obstacle cell")
    return r, c


def manhattan(a, b) -> int:
    """The 4-connected grid's distance without obstacles: a lower bound on any path's length."""
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def astar(grid, start, goal, weight: float = 1.0) -> dict:
    """Shortest 4-connected path from ``start`` to ``goal`` avoiding cells where ``grid`` is True.

    Every move costs 1. Nodes leave the open list in order of f = g + weight * h, with h the
    Manhattan distance to the goal (ties: the larger g first, i.e. the node nearer the goal).
    ``weight=1`` is A*, optimal because h never overestimates; ``weight=0`` is Dijkstra.
    Returns a dict with ``path`` (list of (row, col), empty if the goal is unreachable),
    ``cost`` (moves, ``inf`` if unreachable), ``expanded`` (nodes taken off the open list) and
    ``closed`` (those nodes, in the order they were expanded).
    """
    grid = _as_grid(grid)
    start, goal = _as_cell(start, grid, "start"), _as_cell(goal, grid, "goal")
    if not weight >= 0:
        raise ValueError(f"weight must be >= 0 (0 = Dijkstra, 1 = A*), got {weight!r}")
    g_best = {start: 0}
    parent = {start: None}
    heap = [(weight * manhattan(start, goal), 0, start)]
    closed = {}  # node -> order of expansion (a dict keeps the order)
    expanded = 0
    while heap:
        _, neg_g, node = heapq.heappop(heap)
        if node in closed:
            continue
        closed[node] = expanded
        expanded += 1
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = parent[node]
            return dict(path=path[::-1], cost=float(-neg_g), expanded=expanded, closed=list(closed))
        g = -neg_g + 1
        for dr, dc in MOVES:
            nxt = (node[0] + dr, node[1] + dc)
            if not (0 <= nxt[0] < grid.shape[0] and 0 <= nxt[1] < grid.shape[1]) or grid[nxt]:
                continue
            if g < g_best.get(nxt, np.inf):
                g_best[nxt], parent[nxt] = g, node
                heapq.heappush(heap, (g + weight * manhattan(nxt, goal), -g, nxt))
    return dict(path=[], cost=float("inf"), expanded=expanded, closed=list(closed))


def path_is_valid(grid, path, start, goal) -> bool:
    """True if ``path`` runs from start to goal through free cells in unit 4-connected steps."""
    grid = _as_grid(grid)
    if not path or tuple(path[0]) != tuple(start) or tuple(path[-1]) != tuple(goal):
        return False
    for a, b in zip(path[:-1], path[1:]):
        if manhattan(a, b) != 1:
            return False
    return not any(grid[tuple(p)] for p in path)


def grid_distances(grid, start) -> np.ndarray:
    """Shortest path lengths from ``start`` to every cell by SciPy's graph search (the reference)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    grid = _as_grid(grid)
    rows, cols = grid.shape
    index = np.arange(grid.size).reshape(grid.shape)
    free = ~grid
    src, dst = [], []
    for a, b in ((free[:, :-1] & free[:, 1:], (0, 1)), (free[:-1, :] & free[1:, :], (1, 0))):
        r, c = np.nonzero(a)
        src.append(index[r, c])
        dst.append(index[r + b[0], c + b[1]])
    src, dst = np.concatenate(src), np.concatenate(dst)
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(grid.size, grid.size)).tocsr()
    return shortest_path(graph, directed=False, indices=index[tuple(start)], unweighted=True).reshape(rows, cols)


def random_grid(rng: np.random.Generator, shape=(30, 30), density: float = 0.25) -> np.ndarray:
    """A random occupancy grid (True = obstacle) with the two opposite corners kept free."""
    grid = rng.uniform(size=shape) < density
    grid[0, 0] = grid[-1, -1] = False
    return grid


def drawn_map() -> np.ndarray:
    """A small synthetic city map (60 x 80 cells of 1 m): building blocks, a car park with parked
    cars, and a road works barrier. Drawn by hand, not measured."""
    grid = np.zeros((60, 80), dtype=bool)
    for r0 in (4, 24, 44):  # three rows of building blocks, streets between them
        for c0 in (4, 24, 44, 64):
            grid[r0:r0 + 12, c0:c0 + 12] = True
    grid[26:40, 26:54] = False  # a car park in the middle...
    for r in (28, 33, 38):
        for c in range(27, 53, 3):
            grid[r:r + 2, c:c + 2] = True  # ...with parked cars
    grid[16:24, 40:42] = True  # road works close one street
    grid[36:44, 60:62] = True
    return grid


# --- car following --------------------------------------------------------------------

@dataclass(frozen=True)
class IDM:
    """Intelligent driver model parameters: the highway values of Treiber, Hennecke & Helbing (2000)."""
    v0: float = 120 / 3.6   # desired speed, m/s
    T: float = 1.6          # safe time headway, s
    a: float = 0.73         # maximum acceleration, m/s^2
    b: float = 1.67         # comfortable deceleration, m/s^2
    delta: float = 4.0      # acceleration exponent
    s0: float = 2.0         # jam distance, m


def idm_acceleration(v, gap, dv, p: IDM = IDM()):
    """IDM acceleration (m/s^2) for speed ``v`` (m/s), bumper-to-bumper ``gap`` (m) and approach rate
    ``dv = v - v_leader`` (m/s):  a [1 - (v/v0)^delta - (s*/gap)^2],
    s* = s0 + max(0, v T + v dv / (2 sqrt(a b)))."""
    v, gap, dv = (np.asarray(x, dtype=float) for x in (v, gap, dv))
    s_star = p.s0 + np.maximum(0.0, v * p.T + v * dv / (2 * np.sqrt(p.a * p.b)))
    return p.a * (1 - (v / p.v0) ** p.delta - (s_star / np.maximum(gap, 1e-3)) ** 2)


def constant_gap_acceleration(v, gap, dv, gap_target=20.0, kp=0.2, kd=0.6, v0=120 / 3.6, a_max=0.73):
    """A naive controller: steer the gap to one fixed distance, whatever the speed,
    a = kp (gap - gap_target) - kd dv, never above a_max nor above the desired speed."""
    v, gap, dv = (np.asarray(x, dtype=float) for x in (v, gap, dv))
    acc = kp * (gap - gap_target) - kd * dv
    acc = np.minimum(acc, a_max)
    return np.where(v >= v0, np.minimum(acc, 0.0), acc)


def leader_profile(kind: str = "emergency", duration: float = 120.0, dt: float = 0.1) -> np.ndarray:
    """The leader's prescribed speed (m/s) every ``dt`` seconds.

    ``"slowdown"``: cruise at 25 m/s, brake at 2 m/s^2 to 10 m/s, hold, speed up at 1 m/s^2.
    ``"emergency"``: cruise at 30 m/s, brake at 7 m/s^2 to a stop, wait 10 s, speed up to 20 m/s.
    """
    t = np.arange(0.0, duration, dt)
    if kind == "slowdown":
        v = np.full_like(t, 25.0)
        v = np.minimum(v, np.maximum(10.0, 25.0 - 2.0 * np.clip(t - 20, 0, None)))
        v = np.where(t > 50, np.minimum(25.0, 10.0 + 1.0 * (t - 50)), v)
    elif kind == "emergency":
        v = np.maximum(0.0, 30.0 - 7.0 * np.clip(t - 20, 0, None))
        v = np.where(t > 35, np.minimum(20.0, 1.0 * (t - 35)), v)
    else:
        raise ValueError(f"kind must be 'slowdown' or 'emergency', got {kind!r}")
    return v


def simulate_platoon(controller, leader_speed, n_followers: int = 8, dt: float = 0.1, length: float = 5.0,
                     b_max: float = 9.0, v_init=None, gap_init=None) -> dict:
    """Cars in one lane behind a leader that drives ``leader_speed`` (m/s, one value per step).

    ``controller(v, gap, dv)`` gives each follower's wish (m/s^2); it is clipped to the tyres'
    limit ``-b_max`` and speeds never go negative. Cars start at the leader's first speed with
    the gap ``gap_init`` (default: the IDM equilibrium gap at that speed). Ballistic update.
    Returns positions ``x`` (steps x cars, front bumper, m), speeds ``v``, accelerations ``acc``
    (followers only) and the bumper-to-bumper ``gap`` of each follower (steps x followers).
    """
    leader_speed = np.asarray(leader_speed, dtype=float)
    if leader_speed.ndim != 1 or len(leader_speed) < 2:
        raise ValueError("leader_speed must be a 1-D array with at least 2 steps")
    if n_followers < 1:
        raise ValueError(f"n_followers must be >= 1, got {n_followers}")
    v_start = leader_speed[0] if v_init is None else float(v_init)
    if gap_init is None:
        p = IDM()
        gap_init = (p.s0 + v_start * p.T) / np.sqrt(max(1 - (v_start / p.v0) ** p.delta, 1e-6))
    n, cars = len(leader_speed), n_followers + 1
    x, v = np.zeros((n, cars)), np.zeros((n, cars))
    acc, gap = np.zeros((n, n_followers)), np.zeros((n, n_followers))
    x[0] = -np.arange(cars) * (gap_init + length)
    v[0] = v_start
    v[0, 0] = leader_speed[0]
    for k in range(n):
        gap[k] = x[k, :-1] - x[k, 1:] - length
        if k == n - 1:
            break
        a = np.maximum(np.asarray(controller(v[k, 1:], gap[k], v[k, 1:] - v[k, :-1]), dtype=float), -b_max)
        a = np.maximum(a, -v[k, 1:] / dt)  # a car stops, it does not reverse
        acc[k] = a
        v[k + 1, 1:] = v[k, 1:] + a * dt
        x[k + 1, 1:] = x[k, 1:] + v[k, 1:] * dt + 0.5 * a * dt ** 2
        v[k + 1, 0] = leader_speed[k + 1]
        x[k + 1, 0] = x[k, 0] + 0.5 * (leader_speed[k] + leader_speed[k + 1]) * dt
    acc[-1] = acc[-2]
    return dict(x=x, v=v, acc=acc, gap=gap, dt=dt)


def platoon_metrics(sim: dict, min_speed: float = 5.0) -> dict:
    """Safety and comfort of a platoon run.

    ``collisions``: followers whose gap ever reached 0; ``min_gap`` (m); ``min_time_gap``: the
    smallest gap / speed (s) while the follower drives faster than ``min_speed``; ``max_brake``
    (m/s^2); ``rms_acc`` (m/s^2) and ``rms_jerk`` (m/s^3, jerk = change of acceleration per second),
    over all followers and steps."""
    gap, v, acc, dt = sim["gap"], sim["v"][:, 1:], sim["acc"], sim["dt"]
    moving = v > min_speed
    time_gap = np.where(moving, gap / np.maximum(v, 1e-9), np.inf)
    jerk = np.diff(acc, axis=0) / dt
    return dict(collisions=int(np.sum((gap <= 0).any(axis=0))), min_gap=float(gap.min()),
                min_time_gap=float(time_gap.min()), max_brake=float(-acc.min()),
                rms_acc=float(np.sqrt(np.mean(acc ** 2))), rms_jerk=float(np.sqrt(np.mean(jerk ** 2))))
