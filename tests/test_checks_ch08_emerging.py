"""Each checker of section 8.5 accepts the reference answer and rejects plausible mistakes."""
from collections import deque

import numpy as np
from checker_contract import contract_tests

from utils import city, driving

P = driving.IDM()


def idm_acceleration(v, gap, dv):
    s_star = P.s0 + np.maximum(0.0, v * P.T + v * dv / (2 * np.sqrt(P.a * P.b)))
    return P.a * (1 - (v / P.v0) ** P.delta - (s_star / gap) ** 2)


def shortest_path_length(grid, start, goal, moves=((1, 0), (-1, 0), (0, 1), (0, -1))):
    grid = np.asarray(grid, dtype=bool)  # breadth-first search: every move costs 1
    dist = {tuple(start): 0}
    queue = deque([tuple(start)])
    while queue:
        r, c = queue.popleft()
        if (r, c) == tuple(goal):
            return float(dist[(r, c)])
        for dr, dc in moves:
            n = (r + dr, c + dc)
            if 0 <= n[0] < grid.shape[0] and 0 <= n[1] < grid.shape[1] and not grid[n] and n not in dist:
                dist[n] = dist[(r, c)] + 1
                queue.append(n)
    return float("inf")


def valley_fill(base, energy, cap):
    return city.valley_fill(base, energy, cap)


REFERENCE = {"8.5.1": idm_acceleration, "8.5.2": shortest_path_length, "8.5.3": valley_fill}


def idm_sign(v, gap, dv):
    return idm_acceleration(v, gap, -dv)


def idm_no_max(v, gap, dv):
    s_star = P.s0 + v * P.T + v * dv / (2 * np.sqrt(P.a * P.b))
    return P.a * (1 - (v / P.v0) ** P.delta - (s_star / gap) ** 2)


def idm_linear(v, gap, dv):
    s_star = P.s0 + np.maximum(0.0, v * P.T + v * dv / (2 * np.sqrt(P.a * P.b)))
    return P.a * (1 - (v / P.v0) ** P.delta - s_star / gap)


def idm_other_params(v, gap, dv):
    s_star = 2.0 + np.maximum(0.0, v * 1.0 + v * dv / (2 * np.sqrt(P.a * P.b)))
    return P.a * (1 - (v / P.v0) ** P.delta - (s_star / gap) ** 2)


def path_cells(grid, start, goal):
    return shortest_path_length(grid, start, goal) + 1


def path_diagonal(grid, start, goal):
    moves = [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0)]
    return shortest_path_length(grid, start, goal, moves)


def path_no_obstacles(grid, start, goal):
    return float(abs(start[0] - goal[0]) + abs(start[1] - goal[1]))


def path_none(grid, start, goal):
    d = shortest_path_length(grid, start, goal)
    return None if np.isinf(d) else d


def path_unreachable_minus_one(grid, start, goal):
    d = shortest_path_length(grid, start, goal)
    return -1.0 if np.isinf(d) else d


def path_greedy_detour(grid, start, goal):  # returns a longer path length than optimal on some grids
    d = shortest_path_length(grid, start, goal)
    return d + 2 if np.isfinite(d) and d > 8 else d


def valley_no_dt(base, energy, cap):
    return city.valley_fill(base, energy, cap) * 2


def valley_no_cap(base, energy, cap):
    return city.valley_fill(base, energy, 1e9)


def valley_lowest_slots(base, energy, cap):
    load = np.zeros(len(base))  # greedy: full power in the cheapest half hours
    k, rest = divmod(energy / 0.5, cap)
    order = np.argsort(base)
    load[order[:int(k)]] = cap
    if rest > 1e-12:
        load[order[int(k)]] = rest
    return load


def valley_negative(base, energy, cap):
    load = city.valley_fill(base, energy, cap)
    load[0] -= 0.1
    load[1] += 0.1
    return load


WRONG = [
    ("8.5.1", idm_sign, "approach rate"),
    ("8.5.1", idm_no_max, "without the max"),
    ("8.5.1", idm_linear, "squared"),
    ("8.5.1", idm_other_params, "paper's parameters"),
    ("8.5.2", path_cells, "count moves"),
    ("8.5.2", path_diagonal, "no diagonals"),
    ("8.5.2", path_no_obstacles, "ignore the obstacles"),
    ("8.5.2", path_none, "float('inf')"),
    ("8.5.2", path_unreachable_minus_one, "expected inf"),
    ("8.5.2", path_greedy_detour, "is your search optimal"),
    ("8.5.3", valley_no_dt, "0.5 h"),
    ("8.5.3", valley_no_cap, "above the cap"),
    ("8.5.3", valley_lowest_slots, "water level"),
    ("8.5.3", valley_negative, ">= 0"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
