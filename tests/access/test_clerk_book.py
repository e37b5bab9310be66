"""Clerks' PINs: stored only as scrypt hashes, checked with the admin PIN's lockout (per clerk,
surviving a restart); an unknown clerk answers as a wrong PIN; bad input names the field."""
from __future__ import annotations

import pytest

from kiosk.access.clerks import Clerk, ClerkBook
from kiosk.access.pin import PinGuard, verify_pin
from kiosk.domain.errors import BadField, BadPin, IllegalState, LockedOut, UnknownClerk


class Wall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def book(tmp_path, wall):
    b = ClerkBook(tmp_path, now=wall)
    yield b
    b.close()


def test_a_pin_is_stored_only_as_a_hash(book, tmp_path):
    book.add("E1042", "王芳", "482913")
    assert book.list() == [Clerk("E1042", "王芳")]
    stored = book.store.conn.execute("SELECT pin_hash FROM clerks WHERE id = 'E1042'").fetchone()[0]
    assert stored.startswith("scrypt$") and "482913" not in stored and verify_pin("482913", stored)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"482913" not in raw                     # not in the database file, its WAL, or anything beside it
    assert book.verify("E1042", "482913") == Clerk("E1042", "王芳")


def test_wrong_pins_lock_the_clerk_out_like_the_admin_pin(book, wall, tmp_path):
    book.add("E1", "Li", "1234")
    book.add("E2", "Zhou", "5678")
    admin = PinGuard("x", tmp_path / "admin", now=wall)          # the admin PIN's schedule
    for n in range(1, 4):                                         # the free tries
        with pytest.raises(BadPin, match="wrong clerk ID or PIN$"):
            book.verify("E1", "0000")
    with pytest.raises(BadPin, match="locked for 30 s"):
        book.verify("E1", "0000")
    assert admin.delay_after(4) == 30
    with pytest.raises(LockedOut) as locked:                      # even the right PIN waits
        book.verify("E1", "1234")
    assert locked.value.locked_s == pytest.approx(30)
    assert book.verify("E2", "5678").id == "E2"                   # another clerk is not locked
    again = ClerkBook(tmp_path, now=wall)                         # a restart keeps the lockout
    try:
        with pytest.raises(LockedOut):
            again.verify("E1", "1234")
        wall.t += 31
        with pytest.raises(BadPin, match="locked for 60 s"):     # the delay doubles, as the admin PIN's
            again.verify("E1", "9999")
        wall.t += 61
        assert again.verify("E1", "1234").name == "Li"            # a right PIN resets the count
        for _ in range(3):
            with pytest.raises(BadPin, match="PIN$"):
                again.verify("E1", "0000")
    finally:
        again.close()


def test_an_unknown_clerk_is_a_wrong_pin(book):
    with pytest.raises(BadPin, match="wrong clerk ID or PIN"):
        book.verify("NOBODY", "1234")


@pytest.mark.parametrize("clerk_id, name, pin, field", [
    ("", "Li", "1234", "clerk"), ("x" * 17, "Li", "1234", "clerk"), ("E 1", "Li", "1234", "clerk"),
    ("../etc", "Li", "1234", "clerk"), ("E1", "", "1234", "name"), ("E1", "L\x1bi", "1234", "name"),
    ("E1", "Li", "12", "pin"), ("E1", "Li", "12345678901234", "pin"), ("E1", "Li", "12a4", "pin"),
])
def test_bad_input_is_refused_naming_the_field(book, clerk_id, name, pin, field):
    with pytest.raises(BadField) as exc:
        book.add(clerk_id, name, pin)
    assert exc.value.field == field
    assert book.list() == []


def test_add_twice_and_remove(book):
    book.add("E1", "Li", "1234")
    with pytest.raises(IllegalState, match="exists already"):
        book.add("E1", "Other", "9999")
    assert book.verify("E1", "1234").name == "Li"
    assert book.remove("E1") == Clerk("E1", "Li")
    with pytest.raises(UnknownClerk):
        book.remove("E1")
    with pytest.raises(BadPin):
        book.verify("E1", "1234")
