"""`kiosk clerk add|list|remove` (the PIN from stdin, never stored in clear), and the clerks'
figures in `kiosk stats --json` and in the table per clerk."""
from __future__ import annotations

import io
import json

import pytest

from kiosk.cli.main import main


@pytest.fixture
def kiosk(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("KIOSK_DATA", str(tmp_path / "data"))

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_clerks_are_added_listed_and_removed(kiosk, tmp_path):
    assert kiosk("clerk", "add", "E1042", "--name", "王芳", stdin="482913\n")[:2] == (0, "clerk E1042 (王芳) added\n")
    assert kiosk("clerk", "add", "E7", "--name", "Li Lei", "--json", stdin="1234\n")[1].strip() == \
        '{"id": "E7", "name": "Li Lei"}'
    code, out, _ = kiosk("--json", "clerk", "list")
    assert code == 0 and json.loads(out) == [{"id": "E1042", "name": "王芳"}, {"id": "E7", "name": "Li Lei"}]
    for f in (tmp_path / "data").iterdir():
        if f.is_file():
            assert b"482913" not in f.read_bytes()
    assert kiosk("clerk", "remove", "E7")[1] == "clerk E7 (Li Lei) removed\n"
    assert kiosk("clerk", "list")[1] == "E1042\t王芳\n"


@pytest.mark.parametrize("argv, stdin, says", [
    (("clerk", "add", "E 1", "--name", "Li"), "1234\n", "clerk: a clerk ID is 1 to 16"),
    (("clerk", "add", "E1", "--name", "Li"), "12\n", "pin: a clerk's PIN is 4 to 12 digits"),
    (("clerk", "add", "E1", "--name", ""), "1234\n", "name: a clerk needs a name"),
    (("clerk", "remove", "E9"), "", "no clerk E9"),
])
def test_bad_input_is_refused_with_the_field_named(kiosk, argv, stdin, says):
    code, out, err = kiosk(*argv, stdin=stdin)
    assert code == 2 and out == "" and says in err
    assert kiosk("clerk", "list")[1] == "no clerks\n"


def test_stats_json_has_the_clerks_and_the_table_per_clerk(kiosk):
    from kiosk.app.kiosk_app import data_dir
    from kiosk.config.settings import load_settings
    from kiosk.engine.queue_engine import QueueEngine
    from kiosk.storage.store import Store, db_path
    kiosk("clerk", "add", "E1", "--name", "Li", stdin="1234\n")
    kiosk("clerk", "add", "E2", "--name", "Wang", stdin="5678\n")
    store = Store(db_path(data_dir(None)))
    try:
        engine = QueueEngine(store, load_settings())
        for c in (3, 4):
            engine.set_counter(c, "open")
        engine.sign_in(3, "E1")
        engine.sign_in(4, "E2")
        engine.issue("B", form={"document": "id_card"})
        engine.issue("A")
        engine.issue("A")
        engine.call_next(3)
        engine.call_next(4)
        engine.finish(3)
        engine.transfer(4, to_counter=3, note="fee first")
        engine.call_next(3)
        engine.noshow(3)
        engine.rate("A001", 5)
        day = engine.current_day()
    finally:
        store.close()
    code, out, _ = kiosk("stats", "--json", "--from", day, "--to", day)
    clerks = {c["clerk"]: c for c in json.loads(out)["clerks"]}
    assert code == 0 and set(clerks) == {"E1", "E2"}
    assert (clerks["E1"]["name"], clerks["E1"]["served"], clerks["E1"]["satisfaction"]["ratings"]) == ("Li", 1, 1)
    assert clerks["E2"]["transfers"] == 1 and clerks["E2"]["served"] == 0
    table = kiosk("stats", "--from", day, "--to", day)[1]
    assert "by clerk" in table and "E1" in table and "Wang" in table


def test_transfer_and_pause_reason_from_the_command_line(kiosk):
    kiosk("counter", "3", "open")
    kiosk("issue", "A")
    kiosk("call", "3")
    assert kiosk("transfer", "3", "--to-counter", "4", "--note", "see Wang")[1] == "A001 → counter 4\n"
    assert kiosk("counter", "2", "pause", "--reason", "lunch")[1] == "counter 2 paused\n"
    code, _, err = kiosk("counter", "2", "pause", "--reason", "nap")
    assert code == 2 and "reason: unknown pause reason 'nap'" in err
