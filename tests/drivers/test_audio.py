"""Announcements: sentences, tokens, voice pack joining, espeak fallback, queueing, mock."""

import os
import shutil
import sys
import wave

import pytest

from drivers.audio.announcer import (AlsaAnnouncer, AudioFormat, MockAnnouncer, SilentAnnouncer, VoicePack,
                           UtteranceBuilder, chime_frames, write_wav)
from drivers.jobs import CallInfo
from drivers.audio.speech import call_sentence, call_tokens, en_number, zh_number

CALL = CallInfo("A023", 3, {"zh": "3号窗口", "en": "Counter 3"})


def test_sentences():
    assert call_sentence(CALL, "zh") == "请A023号到3号窗口办理"
    assert call_sentence(CALL, "en") == "Ticket A023, please go to counter 3"


def test_tokens():
    assert [t.id for t in call_tokens(CALL, "zh")] == [
        "please", "letter_A", "digit_0", "digit_2", "digit_3", "hao", "dao", "number_3",
        "hao_chuangkou", "banli"]
    assert "".join(t.text for t in call_tokens(CALL, "zh")) == "请A零二三号到三号窗口办理"
    assert " ".join(t.text for t in call_tokens(CALL, "en")) == (
        "Ticket A zero two three please go to counter three")


@pytest.mark.parametrize("n,zh,en", [(3, "三", "three"), (10, "十", "ten"), (12, "十二", "twelve"),
                                     (20, "二十", "twenty"), (35, "三十五", "thirty-five"),
                                     (105, "一百零五", "one hundred and five"),
                                     (115, "一百一十五", "one hundred and fifteen")])
def test_numbers(n, zh, en):
    assert zh_number(n) == zh and en_number(n) == en


def make_pack(root, fmt=AudioFormat(1, 2, 16000)):
    tone = chime_frames(fmt)[: fmt.rate // 10 * 2]  # 0.1 s
    for lang, ids in {"zh": ["please", "letter_A", "digit_0", "digit_2", "digit_3", "hao", "dao",
                             "number_3", "hao_chuangkou", "banli"],
                      "en": ["ticket", "letter_A", "digit_0", "digit_2"]}.items():
        os.makedirs(root / lang, exist_ok=True)
        for i in ids:
            write_wav(str(root / lang / f"{i}.wav"), fmt, tone)
    return fmt


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                    reason="needs espeak-ng and sox (Debian packages)")
def test_voice_pack_joined_with_espeak_fallback(tmp_path):
    fmt = make_pack(tmp_path / "pack")
    builder = UtteranceBuilder(VoicePack(str(tmp_path / "pack")), espeak=True,
                               workdir=str(tmp_path))
    path, missing = builder.build([("zh", call_tokens(CALL, "zh")), ("en", call_tokens(CALL, "en"))])
    assert missing == [("zh", []), ("en", ["digit_3", "please_go_to_counter", "number_3"])]
    with wave.open(path) as w:
        assert AudioFormat.of(w) == fmt  # espeak output converted to the pack's format
        seconds = w.getnframes() / w.getframerate()
    # chime (0.85 s) + 14 clips (1.4 s) + gaps (1.05 s) + espeak phrase: at least 3.3 s
    assert seconds > 3.3


def test_alsa_announcer_plays_in_order_without_overlap(tmp_path, faults):
    make_pack(tmp_path / "pack")
    log = tmp_path / "played.log"
    player = [sys.executable, "-c",
              "import sys,time,wave;"
              "f=open(sys.argv[2],'a');f.write('start\\n');f.flush();"
              "w=wave.open(sys.argv[1]);f.write(str(w.getnframes())+'\\n');time.sleep(0.05);"
              "f.write('end\\n');f.close()",
              "{wav}", str(log)]
    a = AlsaAnnouncer(voice_dir=str(tmp_path / "pack"), espeak=False, player=player,
                      listener=faults)
    try:
        futs = [a.announce(CALL, ["zh"]), a.announce(CallInfo("B101", 1, recall=True), ["zh", "en"])]
        said = [f.result(30) for f in futs]
        assert [s.text for s in said[1]] == ["请B101号到1号窗口办理", "Ticket B101, please go to counter 1"]
        assert said[1][0].recall
        lines = log.read_text().split()
        assert lines[0::3] == ["start", "start"] and lines[2::3] == ["end", "end"]
        assert all(int(n) > 0 for n in lines[1::3])
        assert not faults.calls
    finally:
        a.close()


def test_alsa_announcer_player_failure_is_a_fault_then_recovers(tmp_path, faults):
    flag = tmp_path / "broken"
    flag.write_text("1")
    player = [sys.executable, "-c",
              "import os,sys; sys.exit(1 if os.path.exists(sys.argv[1]) else 0)", str(flag), "{wav}"]
    a = AlsaAnnouncer(espeak=False, player=player, listener=faults)
    try:
        with pytest.raises(OSError):
            a.announce(CALL, ["en"]).result(30)
        assert faults.kinds() == ["unplugged"]
        flag.unlink()
        a.announce(CALL, ["en"]).result(30)
        assert faults.kinds() == ["unplugged", "recovered"]
    finally:
        a.close()


def test_missing_player_is_reported(faults):
    a = AlsaAnnouncer(espeak=False, player=["/nonexistent/aplay", "{wav}"], listener=faults)
    try:
        with pytest.raises(OSError):
            a.announce(CALL, ["en"]).result(30)
        assert faults.kinds() == ["unplugged"]
    finally:
        a.close()


def test_mock_records_and_recall_repeats(faults, waiter):
    m = MockAnnouncer(listener=faults)
    try:
        m.announce(CALL, ["zh", "en"])
        m.announce(CallInfo("A023", 3, recall=True), ["zh", "en"]).result(10)
        assert m.texts == ["请A023号到3号窗口办理", "Ticket A023, please go to counter 3"] * 2
        assert m.chimes == 2 and m.overlaps == 0
    finally:
        m.close()


@pytest.mark.parametrize("switch,kind", [("unplugged", "unplugged"), ("no_reply", "no_reply")])
def test_mock_fault_switches(faults, switch, kind):
    m = MockAnnouncer(listener=faults)
    try:
        m.set_faults(**{switch: True})
        with pytest.raises(OSError):
            m.announce(CALL, ["en"]).result(10)
        m.clear_faults()
        m.announce(CALL, ["en"]).result(10)
        assert faults.kinds() == [kind, "recovered"]
    finally:
        m.close()


def test_mock_slow_times_out(faults, waiter):
    m = MockAnnouncer(listener=faults, play_timeout_s=0.1)
    try:
        m.set_faults(slow_s=30)
        with pytest.raises(TimeoutError):
            m.announce(CALL, ["en"]).result(10)
        m.clear_faults()
        waiter(lambda: faults.has("recovered"))
    finally:
        m.close()


def test_silent():
    assert SilentAnnouncer().announce(CALL, ["en"]).result(1)[0].text.startswith("Ticket A023")
