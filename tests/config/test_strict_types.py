"""Strict types: a value of the wrong type is refused, naming the key and its line — never
converted silently (``daily_cap = true`` used to become a cap of 1)."""
from __future__ import annotations

import json

import pytest

from kiosk.config.settings import DEFAULT_CONFIG, Settings, load_settings, parse_settings
from kiosk.domain.errors import ConfigError
from kiosk.sim.day.hall import HallSpec, config_text
from kiosk.tools.replay import settings_from_meta

SAMPLE = DEFAULT_CONFIG.read_text(encoding="utf-8")


def _edit(old: str, new: str) -> str:
    assert old in SAMPLE, old
    return SAMPLE.replace(old, new, 1)


def _line(text: str, written: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(written))


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_settings(text, source="kiosk.toml")
    return str(exc.value)


@pytest.mark.parametrize("old, new, key, expected", [
    ("number = 1", 'number = "1"', "counters[0].number", 'a valid integer (got the text "1")'),
    ("number = 1", "number = 1.0", "counters[0].number", "a valid integer (got the number 1.0)"),
    ("vip_first = true", 'vip_first = "yes"', "counters[0].vip_first", 'a valid boolean (got the text "yes")'),
    ("daily_cap = 0", "daily_cap = true", "services[0].daily_cap", "a valid integer (got the boolean true)"),
    ("repeat_guard_s = 2.0", 'repeat_guard_s = "2"', "policy.repeat_guard_s", 'a valid number (got the text "2")'),
])
def test_each_wrong_type_found_is_refused_with_key_and_line(old, new, key, expected):
    bad = _edit(old, new)
    msg = _error(bad)
    assert f"kiosk.toml:{_line(bad, new)}: {key}: Input should be {expected}" in msg


@pytest.mark.parametrize("old, new, key", [
    ("number = 1", "number = true", "counters[0].number"),
    ("daily_cap = 0", "daily_cap = false", "services[0].daily_cap"),
    ("weeks = 4", "weeks = true", "quiet_hours.weeks"),
    ("satisfaction_min_ratings = 10", "satisfaction_min_ratings = true", "alerts.satisfaction_min_ratings"),
    ("numbers = [1, 999]", "numbers = [true, 999]", "services[0].numbers[0]"),
    ('topic_prefix = "kiosk"', 'topic_prefix = "kiosk"\nkeepalive_s = true', "mqtt.keepalive_s"),
])
def test_a_boolean_is_never_an_integer(old, new, key):
    bad = _edit(old, new)
    msg = _error(bad)
    assert f"{key}: Input should be a valid integer (got the boolean" in msg
    assert f"kiosk.toml:{_line(bad, new.splitlines()[-1])}: {key}" in msg


@pytest.mark.parametrize("old, new, key", [
    ("target_wait_min = 10", "target_wait_min = true", "services[0].target_wait_min"),
    ("repeat_guard_s = 2.0", "repeat_guard_s = false", "policy.repeat_guard_s"),
    ("satisfaction_target = 0.8", "satisfaction_target = true", "alerts.satisfaction_target"),
    ("target_wait_min = 5", "target_wait_min = true", "tiers[0].target_wait_min"),
])
def test_a_boolean_is_never_a_number(old, new, key):
    msg = _error(_edit(old, new))
    assert f"{key}: Input should be a valid number (got the boolean" in msg


@pytest.mark.parametrize("section, key", [
    ("[hardware.printer]\nbaud = true", "hardware.printer.baud"),
    ("[hardware.printer]\npaper_mm = true", "hardware.printer.paper_mm"),
    ("[hardware.printer]\npaper_mm = 80.0", "hardware.printer.paper_mm"),
    ("[hardware.buzzer]\npin = true", "hardware.buzzer.pin"),
    ("[[hardware.keypads]]\ncounter = 1\nnext = 5.0", "hardware.keypads[0].next"),
    ("[ui]\nrotation = true", "ui.rotation"),
    ("[ui]\nrotation = 90.0", "ui.rotation"),
    ("[ui]\ndisplay_calls = \"6\"", "ui.display_calls"),
])
def test_integers_of_every_section_are_strict(section, key):
    bad = SAMPLE + "\n" + section + "\n"
    msg = _error(bad)
    assert f"kiosk.toml:{len(bad.splitlines())}: {key}: Input should be a valid integer" in msg


@pytest.mark.parametrize("section, key, expected", [
    ("[hardware.printer]\nstatus_poll_s = true", "hardware.printer.status_poll_s", "a valid number"),
    ("[hardware.printer]\ncut = 1", "hardware.printer.cut", "a valid boolean"),
    ("[hardware.printer]\nport = 0", "hardware.printer.port", "a valid string"),
    ("[ui]\nrefresh_s = \"5\"", "ui.refresh_s", "a valid number"),
    ("[ui]\nfullscreen = \"no\"", "ui.fullscreen", "a valid boolean"),
])
def test_other_types_of_every_section_are_strict(section, key, expected):
    msg = _error(SAMPLE + "\n" + section + "\n")
    assert f"{key}: Input should be {expected}" in msg


def test_mqtt_section_is_strict():
    msg = _error(_edit("enabled = false", 'enabled = "false"').replace(
        'topic_prefix = "kiosk"', 'topic_prefix = "kiosk"\nreconnect_min_s = "1"'))
    assert 'mqtt.enabled: Input should be a valid boolean (got the text "false")' in msg
    assert "mqtt.reconnect_min_s: Input should be a valid number" in msg


def test_an_integer_is_fine_where_a_number_is_expected():
    s = parse_settings(_edit("repeat_guard_s = 2.0", "repeat_guard_s = 2")
                       .replace('topic_prefix = "kiosk"', 'topic_prefix = "kiosk"\nreconnect_min_s = 2')
                       + "\n[ui]\nrefresh_s = 1\n[hardware.printer]\nstatus_poll_s = 1\n")
    assert s.policy.repeat_guard_s == 2.0 and isinstance(s.policy.repeat_guard_s, float)
    assert s.services[0].target_wait_min == 10.0          # written `target_wait_min = 10` in the sample
    assert s.tiers[0].target_wait_min == 5.0
    assert (s.mqtt.reconnect_min_s, s.ui.refresh_s, s.hardware.printer.status_poll_s) == (2.0, 1.0, 1.0)


def test_toml_arrays_still_fill_tuple_fields():
    s = parse_settings(_edit("numbers = [1, 999]", "numbers = [1, 60]") + "\n[ui]\nsize = [800, 480]\n")
    assert s.services[0].numbers == (1, 60)
    assert s.ui.size == (800, 480)
    msg = _error(_edit("numbers = [1, 999]", "numbers = [1, 60.0]"))
    assert "services[0].numbers[1]: Input should be a valid integer (got the number 60.0)" in msg


def test_infinity_and_nan_are_refused():
    assert "policy.rating_window_s: Input should be a finite number" in _error(
        _edit("rating_window_s = 30", "rating_window_s = nan"))
    assert "hardware.printer.print_timeout_s: Input should be a finite number" in _error(
        SAMPLE + "\n[hardware.printer]\nprint_timeout_s = inf\n")


def test_a_time_with_a_line_break_is_refused():
    assert "day.rollover: must be a time HH:MM" in _error(_edit('rollover = "04:00"', 'rollover = "04:00\\n"'))
    assert "services[0].hours" in _error(_edit('hours = ["00:00-24:00"]', 'hours = ["08:00-12:00\\n"]'))


def test_the_sample_the_simulated_day_and_replay_configs_load(tmp_path):
    sample = load_settings(DEFAULT_CONFIG)
    assert sample.services[0].numbers == (1, 999)
    day = parse_settings(config_text(HallSpec(), tmp_path, "mqtt://127.0.0.1:1883"), source="simday")
    assert len(day.counters) == HallSpec().counters
    replay = settings_from_meta({"services": {"A": "Payments"}, "counters": {"c1": {"services": ["A"]}}})
    assert replay.services[0].numbers == (1, 9999)


def test_settings_survive_a_json_round_trip():
    """The tests' kits and the kiosk child process validate a JSON dump again: tuples come back as
    arrays, whole numbers as integers."""
    s = load_settings(DEFAULT_CONFIG)
    data = json.loads(json.dumps(s.model_dump(mode="json")))
    data["ui"]["size"] = [800, 480]
    again = Settings.model_validate(data)
    assert again.services == s.services and again.ui.size == (800, 480)


def test_documented_example_error_matches():
    """docs/configuration.md shows what a wrong type looks like; it is what the kiosk says."""
    doc = (DEFAULT_CONFIG.parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    shown = 'counters[0].number: Input should be a valid integer (got the text "1")'
    assert shown in doc and shown in _error(_edit("number = 1", 'number = "1"'))
