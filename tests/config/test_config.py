"""The configuration: the sample hall loads, and every kind of mistake names its key."""
from __future__ import annotations

import pytest

from kiosk.config.settings import DEFAULT_CONFIG, config_path, load_settings, parse_settings
from kiosk.domain.errors import ConfigError

SAMPLE = DEFAULT_CONFIG.read_text(encoding="utf-8")


def test_sample_hall_works_out_of_the_box():
    s = load_settings(DEFAULT_CONFIG)
    assert [x.prefix for x in s.services] == ["A", "B", "V"]
    assert s.service("V").priority == "vip"
    assert len(s.counters) >= 4
    assert sum(c.vip_first for c in s.counters) == 2
    assert s.service("A").name.get("zh") == "缴费" and s.service("A").name.get("en") == "Payments"
    assert s.store.synchronous == "FULL"


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_settings(text, source="kiosk.toml")
    return str(exc.value)


def test_unknown_key_is_named_with_its_line():
    bad = SAMPLE.replace("level1_per_counter = 2.5", "level1_per_countr = 2.5")
    msg = _error(bad)
    line = next(i for i, l in enumerate(bad.splitlines(), 1) if l.startswith("level1_per_countr"))
    assert f"kiosk.toml:{line}: alerts.level1_per_countr: unknown key" in msg


def test_wrong_type_names_the_key_in_an_array_of_tables():
    bad = SAMPLE.replace("vip_first = true", 'vip_first = "maybe"', 1)
    msg = _error(bad)
    assert "counters[0].vip_first" in msg
    line = next(i for i, l in enumerate(bad.splitlines(), 1) if 'vip_first = "maybe"' in l)
    assert f"kiosk.toml:{line}:" in msg


def test_out_of_range_value():
    msg = _error(SAMPLE.replace("level2_per_counter = 3.5", "level2_per_counter = -1"))
    assert "alerts.level2_per_counter" in msg and "greater than 0" in msg


def test_duplicate_prefix():
    msg = _error(SAMPLE.replace('prefix = "B"', 'prefix = "A"'))
    assert "services[1].prefix" in msg and "duplicate service prefix 'A'" in msg


def test_counter_naming_unknown_service():
    msg = _error(SAMPLE.replace('services = ["A", "B"]\nvip_first = false', 'services = ["A", "X"]\nvip_first = false', 1))
    assert "counters[2].services[1]" in msg and "unknown service 'X'" in msg


def test_bad_time_and_hours():
    assert "day.rollover" in _error(SAMPLE.replace('rollover = "04:00"', 'rollover = "25:00"'))
    msg = _error(SAMPLE.replace('hours = ["00:00-24:00"]', 'hours = ["18:00-09:00"]', 1))
    assert "services[0].hours" in msg and "ends before it starts" in msg


def test_bad_timezone_and_missing_section():
    assert "unknown time zone" in _error(SAMPLE.replace("Asia/Shanghai", "Mars/Olympus"))
    no_branch = SAMPLE.replace('[branch]\nid = "demo-001"', '[branchx]\nid = "demo-001"')
    msg = _error(no_branch)
    assert "branch: Field required" in msg and "branchx: unknown key" in msg


def test_not_toml_and_missing_file(tmp_path):
    assert "not valid TOML" in _error("this is = = not toml")
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_settings(tmp_path / "nope.toml")


def test_config_path_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    assert config_path(None) == DEFAULT_CONFIG
    monkeypatch.setenv("KIOSK_CONFIG", str(tmp_path / "env.toml"))
    assert config_path(None) == tmp_path / "env.toml"
    assert config_path(tmp_path / "cli.toml") == tmp_path / "cli.toml"
