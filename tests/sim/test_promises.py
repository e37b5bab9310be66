"""The promise figures of a day (kiosk/sim/day/promises.py): waits per tier and for normal
tickets, people-ahead accuracy, the same figures from a `simulate-day --out` folder and on the
command line, and the lines the day's summary prints; the simulated hall that produces them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.config.settings import parse_settings
from kiosk.sim.day.checks import Checks, promise_checks, summary
from kiosk.sim.day.hall import PRIORITY_SERVICES, SERVICES, HallSpec, config_text
from kiosk.sim.day.promises import main, measure, measure_out, nearest_rank
from tests.sim.synthetic_day import SyntheticDay


@pytest.fixture
def day(tmp_path):
    """D001, ten normal tickets (A and B, printing the people ahead right) and V001 at 08:00;
    D001 called at once; D002 at 08:01 ("0 ahead"), called at 08:04 at counter 1 after three normal
    tickets, the third of them called at counter 1 too; the normal tickets called one a minute
    from 08:01 (at counter 2 but that third one), V001 at 08:20."""
    d = SyntheticDay(tmp_path / "day")
    d.counter("opened", 1, 2)
    d1 = d.issue("D", ahead=0)
    normal = [d.issue("A" if k % 2 else "B", ahead=k + 1) for k in range(10)]
    v = d.issue("V", ahead=0)
    d.at(1).call(d1, 1)
    d2 = d.issue("D", ahead=0)
    for k, tid in enumerate(normal):
        d.at(k + 1)
        if k + 1 == 4:
            d.call(d2, 1)
        d.call(tid, 1 if k == 2 else 2)
    d.at(20).call(v, 1)
    yield d
    d.store.close()


def test_waits_per_tier_and_for_normal_tickets(day):
    waits = measure(day.log())["waits"]
    assert waits["normal"] == {"tickets": 10, "called": 10, "mean_min": 5.5, "p90_min": 9.0, "max_min": 10.0,
                               "longest": "A005"}
    assert waits["tiers"]["diamond"] == {"tickets": 2, "called": 2, "mean_min": 2.0, "p90_min": 3.0,
                                         "max_min": 3.0, "longest": "D002", "target_min": 5.0}
    assert waits["tiers"]["silver"]["max_min"] == 20.0 and waits["tiers"]["silver"]["longest"] == "V001"
    assert waits["tiers"]["gold"] == {"tickets": 0, "called": 0, "mean_min": None, "p90_min": None,
                                      "max_min": None, "longest": None, "target_min": 8.0}
    assert waits["priority"]["tickets"] == 3 and waits["priority"]["max_min"] == 20.0


def test_nearest_rank_percentile():
    assert nearest_rank([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 0.9) == 9
    assert nearest_rank([3.0], 0.9) == 3.0


def test_people_ahead_figures(day):
    ahead = measure(day.log())["people_ahead"]
    # judged: D001, the first three normal tickets (right) and D002 ("0 ahead"; three called before it,
    # one of them at counter 1, which serves D: the two at counter 2, which does not, are not ahead of it);
    # not judged: the normal tickets D002 overtook, and V001 (D002 came after it and went first)
    assert {k: ahead[k] for k in ("judged", "exact", "share", "excluded_later_priority", "printed_too_low",
                                  "printed_too_high", "within_one")} == {
        "judged": 5, "exact": 4, "share": 0.8, "excluded_later_priority": 8, "printed_too_low": 1,
        "printed_too_high": 0, "within_one": 5}
    assert ahead["examples"] == [{"ticket": "D002", "printed": 0, "called_before": 1}]
    assert ahead["all_called"]["tickets"] == 13


def test_the_same_figures_from_an_out_folder_and_on_the_command_line(day, capsys):
    expected = measure(day.log())
    assert measure_out(day.out) == expected
    assert main([str(day.out)]) == 0
    assert json.loads(capsys.readouterr().out) == {str(day.out): json.loads(json.dumps(expected))}


def test_the_summary_lists_the_waits_per_tier_people_ahead_ratings_and_button_tickets(day):
    c = Checks()
    figures = promise_checks(c, day.log(), [])
    text = summary({"ok": c.ok, "checks": c.items, "promises": figures})
    lines = text.splitlines()
    row = next(line for line in lines if line.strip().startswith("silver (target 12)"))
    assert row.split()[-4:] == ["20.0", "20.0", "20.0", "V001"]
    assert any(line.strip().startswith("normal") and line.endswith("A005") for line in lines)
    assert any(line.startswith("people ahead: 4/5 printed figures came true (80.0%)") for line in lines)
    assert any(line.startswith("people ahead:") for line in lines)
    assert any(line.startswith("ratings: 0 of 0") for line in lines)
    assert any(line.startswith("take-ticket button: 0 tickets") for line in lines)
    assert lines[-1].startswith("FAILED")     # V001 (silver) waited 20 min, longer than normal tickets


def test_the_simulated_hall_has_every_tier_strict_counters_and_vip_first_counters_for_every_tier():
    s = parse_settings(config_text(HallSpec(), Path("/dev/null"), "mqtt://127.0.0.1:1883"))
    assert [(t.id, t.target_wait_min) for t in s.tiers] == [("diamond", 5), ("gold", 8), ("silver", 12)]
    ranks = {p: s.default_rank(s.service(p)) for p in PRIORITY_SERVICES}
    assert sorted(ranks.values()) == [1, 2, 3]
    assert all(c.order == "strict" for c in s.counters)
    vip_first = [c for c in s.counters if c.vip_first]
    assert vip_first and all(set(PRIORITY_SERVICES) <= set(c.services) for c in vip_first)
    assert sum(share for share, _ in SERVICES.values()) == pytest.approx(1.0)
