"""utils.driving against references: SciPy's graph search, brute-force properties of the IDM and the platoon."""
import numpy as np
import pytest

from utils import driving as dr


def test_astar_and_dijkstra_are_optimal_on_random_grids():
    rng = np.random.default_rng(0)
    for _ in range(40):
        grid = dr.random_grid(rng, (15, 18), 0.3)
        ref = dr.grid_distances(grid, (0, 0))[14, 17]
        a, d = dr.astar(grid, (0, 0), (14, 17)), dr.astar(grid, (0, 0), (14, 17), weight=0)
        assert a["cost"] == d["cost"] == ref
        if np.isfinite(ref):
            assert dr.path_is_valid(grid, a["path"], (0, 0), (14, 17)) and len(a["path"]) == ref + 1
            assert a["expanded"] <= d["expanded"]
        else:
            assert a["path"] == []


def test_weighted_astar_is_valid_but_may_be_longer():
    grid = dr.drawn_map()
    opt = dr.astar(grid, (30, 2), (30, 77))
    fast = dr.astar(grid, (30, 2), (30, 77), weight=5)
    assert dr.path_is_valid(grid, fast["path"], (30, 2), (30, 77))
    assert fast["cost"] > opt["cost"] and fast["expanded"] < opt["expanded"]  # greedier: less work, longer path


def test_astar_rejects_bad_input():
    grid = np.zeros((4, 4), dtype=bool)
    grid[1, 1] = True
    with pytest.raises(ValueError, match="obstacle"):
        dr.astar(grid, (1, 1), (3, 3))
    with pytest.raises(ValueError, match="outside"):
        dr.astar(grid, (0, 0), (4, 0))
    with pytest.raises(ValueError, match="2-D"):
        dr.astar(np.zeros(5), (0,), (1,))
    with pytest.raises(ValueError, match="weight"):
        dr.astar(grid, (0, 0), (3, 3), weight=-1)


def test_idm_free_road_and_equilibrium():
    p = dr.IDM()
    assert dr.idm_acceleration(0.0, 1e9, 0.0) == pytest.approx(p.a)  # standing, empty road: full acceleration
    assert dr.idm_acceleration(p.v0, 1e9, 0.0) == pytest.approx(0.0, abs=1e-12)  # at the desired speed
    v = 20.0
    s_eq = (p.s0 + v * p.T) / np.sqrt(1 - (v / p.v0) ** p.delta)
    assert dr.idm_acceleration(v, s_eq, 0.0) == pytest.approx(0.0, abs=1e-12)
    assert dr.idm_acceleration(v, s_eq, 3.0) < 0 < dr.idm_acceleration(v, s_eq, -3.0)


def test_platoon_idm_is_collision_free_and_steady_state_is_still():
    steady = dr.simulate_platoon(dr.idm_acceleration, np.full(200, 20.0), n_followers=4)
    assert np.abs(steady["acc"]).max() < 1e-9  # starts at the IDM equilibrium gap
    sim = dr.simulate_platoon(dr.idm_acceleration, dr.leader_profile("emergency"), n_followers=6)
    m = dr.platoon_metrics(sim)
    assert m["collisions"] == 0 and m["min_gap"] > 0
    assert np.all(sim["v"] >= 0)
    with pytest.raises(ValueError):
        dr.leader_profile("nope")


def test_platoon_detects_a_collision():
    sim = dr.simulate_platoon(lambda v, g, dv: np.zeros_like(v), dr.leader_profile("emergency"), n_followers=2)
    assert dr.platoon_metrics(sim)["collisions"] == 1  # the first follower runs into the braking leader; the
    # second, at the same constant speed as the first, never closes in
