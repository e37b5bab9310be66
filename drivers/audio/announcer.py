"""Announcements: a chime, then the call spoken in each configured language.

* :class:`VoicePack`: a folder of recorded clips, ``<dir>/<lang>/<token>.wav`` (plus an
  optional ``<dir>/chime.wav``); clips are joined into one utterance with the stdlib ``wave``
  module. What the pack lacks is spoken by espeak-ng (if enabled) and converted to the
  pack's format with sox when the formats differ.
* :class:`AlsaAnnouncer` plays through ALSA (``aplay``) on its own worker: announcements
  queue and never overlap; a recall is simply announced again.
* :class:`MockAnnouncer` records what would be said; :class:`SilentAnnouncer` says nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import array
import dataclasses
import logging
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Optional, Sequence

from drivers.base import DeviceState, DeviceUnavailable, FaultKind, FaultListener, FaultTracker
from drivers.jobs import CallInfo
from drivers.audio.speech import Token, call_sentence, call_tokens
from drivers.worker import DeviceWorker

log = logging.getLogger(__name__)

ESPEAK_VOICES = {"zh": "cmn", "en": "en"}


@dataclass(frozen=True)
class Spoken:
    """One announcement in one language (what the mock records, what the real one returns)."""

    ticket: str
    counter: int
    lang: str
    text: str
    tokens: tuple[str, ...]
    recall: bool = False
    missing: tuple[str, ...] = ()  # tokens the voice pack lacked


@dataclass(frozen=True)
class AudioFormat:
    channels: int = 1
    sampwidth: int = 2
    rate: int = 22050

    @classmethod
    def of(cls, w: wave.Wave_read) -> "AudioFormat":
        return cls(w.getnchannels(), w.getsampwidth(), w.getframerate())


def read_wav(path: str) -> tuple[AudioFormat, bytes]:
    with wave.open(path, "rb") as w:
        return AudioFormat.of(w), w.readframes(w.getnframes())


def write_wav(path: str, fmt: AudioFormat, frames: bytes) -> None:
    with wave.open(path, "wb") as w:
        w.setnchannels(fmt.channels)
        w.setsampwidth(fmt.sampwidth)
        w.setframerate(fmt.rate)
        w.writeframes(frames)


def silence(fmt: AudioFormat, seconds: float) -> bytes:
    return b"\x00" * (int(fmt.rate * seconds) * fmt.channels * fmt.sampwidth)


def chime_frames(fmt: AudioFormat) -> bytes:
    """A two-tone "ding-dong" synthesised in pure Python (16-bit formats; else silence)."""
    if fmt.sampwidth != 2:
        return silence(fmt, 0.8)
    samples = array.array("h")
    for freq, dur in ((880.0, 0.35), (660.0, 0.5)):
        n = int(fmt.rate * dur)
        for i in range(n):
            env = math.exp(-3.0 * i / n)
            v = int(12000 * env * math.sin(2 * math.pi * freq * i / fmt.rate))
            samples.extend([v] * fmt.channels)
    return samples.tobytes()


class VoicePack:
    """Recorded clips in ``root/<lang>/<token>.wav``; ``root`` may be empty or missing."""

    def __init__(self, root: Optional[str]) -> None:
        self.root = root

    def clip(self, lang: str, token_id: str) -> Optional[str]:
        if not self.root:
            return None
        for folder in (lang, lang.split("-")[0]):
            path = os.path.join(self.root, folder, f"{token_id}.wav")
            if os.path.isfile(path):
                return path
        return None

    def chime(self) -> Optional[str]:
        path = os.path.join(self.root, "chime.wav") if self.root else None
        return path if path and os.path.isfile(path) else None


class UtteranceBuilder:
    """Joins clips (and espeak-ng for missing tokens) into one WAV file."""

    def __init__(self, pack: VoicePack, *, espeak: bool = True, voices: Optional[dict] = None,
                 workdir: Optional[str] = None, gap_s: float = 0.35) -> None:
        self.pack = pack
        self.espeak = espeak and shutil.which("espeak-ng") is not None
        if espeak and not self.espeak:
            log.warning("espeak-ng not found: tokens missing from the voice pack stay silent")
        self.voices = {**ESPEAK_VOICES, **(voices or {})}
        self.sox = shutil.which("sox")
        self.workdir = workdir or tempfile.mkdtemp(prefix="kiosk-audio-")
        self.gap_s = gap_s
        self._n = 0

    def _tmp(self, stem: str) -> str:
        self._n += 1
        return os.path.join(self.workdir, f"{stem}-{self._n}.wav")

    def _espeak(self, text: str, lang: str) -> Optional[str]:
        if not self.espeak:
            return None
        out = self._tmp("espeak")
        voice = self.voices.get(lang, self.voices.get(lang.split("-")[0], lang))
        try:
            subprocess.run(["espeak-ng", "-v", voice, "-w", out, text], check=True,
                           capture_output=True, timeout=20)
        except (OSError, subprocess.SubprocessError) as exc:
            log.error("espeak-ng failed for %r: %s", text, exc)
            return None
        return out

    def _convert(self, path: str, fmt: AudioFormat) -> Optional[bytes]:
        have, frames = read_wav(path)
        if have == fmt:
            return frames
        if not self.sox:
            log.error("%s is %s, not %s, and sox is missing: skipped", path, have, fmt)
            return None
        out = self._tmp("conv")
        try:
            subprocess.run([self.sox, path, "-r", str(fmt.rate), "-c", str(fmt.channels),
                            "-b", str(8 * fmt.sampwidth), out], check=True, capture_output=True,
                           timeout=20)
        except (OSError, subprocess.SubprocessError) as exc:
            log.error("sox failed on %s: %s", path, exc)
            return None
        return read_wav(out)[1]

    def build(self, parts: Sequence[tuple[str, list[Token]]], chime: bool = True,
              out: Optional[str] = None) -> tuple[str, list[tuple[str, list[str]]]]:
        """``parts`` = [(lang, tokens)...] -> (wav path, [(lang, missing token ids)...])."""
        missing_by_lang = []
        fmt: Optional[AudioFormat] = None
        pieces: list[object] = []
        if chime:
            pieces.append(self.pack.chime() or "CHIME")
            pieces.append("GAP")
        for lang, tokens in parts:
            missing, pending = [], []
            for tok in tokens + [None]:
                clip = self.pack.clip(lang, tok.id) if tok is not None else None
                if tok is not None and clip is None:
                    missing.append(tok.id)
                    pending.append(tok.text)
                    continue
                if pending:  # say the missing run in one go, sounds better than word by word
                    said = self._espeak(" ".join(pending) if lang[:2] != "zh" else "".join(pending), lang)
                    if said:
                        pieces.append(said)
                    pending = []
                if clip:
                    pieces.append(clip)
                    if fmt is None:
                        with wave.open(clip, "rb") as w:
                            fmt = AudioFormat.of(w)
            pieces.append("GAP")
            missing_by_lang.append((lang, missing))
        if fmt is None:
            for piece in pieces:
                if isinstance(piece, str) and piece not in ("GAP", "CHIME"):
                    with wave.open(piece, "rb") as w:
                        fmt = AudioFormat.of(w)
                    break
        fmt = fmt or AudioFormat()
        frames = []
        for piece in pieces:
            if piece == "GAP":
                frames.append(silence(fmt, self.gap_s))
            elif piece == "CHIME":
                frames.append(chime_frames(fmt))
            else:
                data = self._convert(piece, fmt)
                if data:
                    frames.append(data)
        out = out or self._tmp("utterance")
        write_wav(out, fmt, b"".join(frames))
        self._cleanup()
        return out, missing_by_lang

    def _cleanup(self) -> None:
        """Remove espeak/sox intermediates (the SD card must not fill up)."""
        try:
            names = os.listdir(self.workdir)
        except OSError:
            return
        for name in names:
            if name.startswith(("espeak-", "conv-")):
                try:
                    os.unlink(os.path.join(self.workdir, name))
                except OSError:
                    pass


class Announcer(ABC):
    """Interface: ``announce(call, languages)`` returns a Future at once (list of Spoken)."""

    name = "audio"

    @abstractmethod
    def announce(self, call: CallInfo, languages: Sequence[str]) -> "Future[list[Spoken]]":
        ...

    @property
    def state(self) -> DeviceState:
        return DeviceState.READY

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _spoken(call: CallInfo, languages: Sequence[str], missing=None) -> list[Spoken]:
    missing = dict(missing or [])
    return [Spoken(call.ticket, call.counter, lang, call_sentence(call, lang),
                   tuple(t.id for t in call_tokens(call, lang)), call.recall,
                   tuple(missing.get(lang, ())))
            for lang in languages]


class _QueuedAnnouncer(Announcer):
    """One worker: announcements queue and never overlap; faults to the listener."""

    def __init__(self, name: str, *, listener: Optional[FaultListener] = None,
                 play_timeout_s: float = 30.0, max_queue: int = 20) -> None:
        self.name = name
        self.faults = FaultTracker(name, listener)
        self._closed = False
        self.worker = DeviceWorker(name, default_timeout_s=play_timeout_s, max_pending=max_queue,
                                   on_timeout=lambda r: self.faults.fault(FaultKind.TIMEOUT, r))

    def announce(self, call: CallInfo, languages: Sequence[str]) -> "Future[list[Spoken]]":
        return self.worker.submit(self._say, call, tuple(languages), name=f"announce {call.ticket}")

    @abstractmethod
    def _say(self, call: CallInfo, languages: tuple[str, ...]) -> list[Spoken]:
        ...

    @property
    def state(self) -> DeviceState:
        if self._closed:
            return DeviceState.CLOSED
        return DeviceState.FAULT if self.faults.active else DeviceState.READY

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        return self.worker.wait_idle(timeout_s)

    def close(self) -> None:
        self._closed = True
        self.worker.close()


class AlsaAnnouncer(_QueuedAnnouncer):
    """Plays announcements with ``aplay`` (ALSA). ``player`` overrides the command; ``{wav}``
    in it is replaced by the file (default ``aplay -q [-D device] {wav}``)."""

    def __init__(self, name: str = "audio", *, voice_dir: Optional[str] = None, espeak: bool = True,
                 espeak_voices: Optional[dict] = None, device: Optional[str] = None,
                 player: Optional[Sequence[str]] = None, chime: bool = True,
                 listener: Optional[FaultListener] = None, play_timeout_s: float = 30.0,
                 max_queue: int = 20) -> None:
        super().__init__(name, listener=listener, play_timeout_s=play_timeout_s, max_queue=max_queue)
        self.builder = UtteranceBuilder(VoicePack(voice_dir), espeak=espeak, voices=espeak_voices)
        self.chime = chime
        self.player = list(player) if player else (["aplay", "-q"] + (["-D", device] if device else [])
                                                   + ["{wav}"])
        self.play_timeout_s = play_timeout_s

    def _say(self, call: CallInfo, languages: tuple[str, ...]) -> list[Spoken]:
        parts = [(lang, call_tokens(call, lang)) for lang in languages]
        path, missing = self.builder.build(parts, chime=self.chime)
        cmd = [path if arg == "{wav}" else arg for arg in self.player]
        if "{wav}" not in self.player:
            cmd.append(path)
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=self.play_timeout_s)
        except FileNotFoundError as exc:
            self.faults.fault(FaultKind.UNPLUGGED, f"audio player missing: {exc}")
            raise DeviceUnavailable(str(exc)) from exc
        except subprocess.TimeoutExpired as exc:
            self.faults.fault(FaultKind.TIMEOUT, f"{cmd[0]} did not finish in {self.play_timeout_s:g} s")
            raise DeviceUnavailable(str(exc)) from exc
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
        if proc.returncode != 0:
            reason = f"{cmd[0]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-200:]}"
            self.faults.fault(FaultKind.UNPLUGGED, reason)
            raise DeviceUnavailable(reason)
        self.faults.clear()
        return _spoken(call, languages, missing)


@dataclass
class AudioFaults:
    unplugged: bool = False
    no_reply: bool = False
    slow_s: float = 0.0


class MockAnnouncer(_QueuedAnnouncer):
    """Records what would be said (``spoken``) in order; fault switches like the other mocks."""

    def __init__(self, name: str = "audio", **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.spoken: list[Spoken] = []
        self.chimes = 0
        self.switches = AudioFaults()
        self._lock = threading.Lock()
        self.overlaps = 0
        self._speaking = False

    def set_faults(self, **switches) -> None:
        self.switches = dataclasses.replace(self.switches, **switches)

    def clear_faults(self) -> None:
        self.switches = AudioFaults()

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.spoken]

    def _say(self, call: CallInfo, languages: tuple[str, ...]) -> list[Spoken]:
        with self._lock:
            if self._speaking:
                self.overlaps += 1
            self._speaking = True
        try:
            sw = self.switches
            if sw.unplugged:
                self.faults.fault(FaultKind.UNPLUGGED, f"{self.name}: no sound device (simulated)")
                raise DeviceUnavailable("no sound device (simulated)")
            if sw.no_reply:
                self.faults.fault(FaultKind.NO_REPLY, f"{self.name}: player hangs (simulated)")
                raise DeviceUnavailable("player hangs (simulated)")
            end = time.monotonic() + sw.slow_s
            while self.switches.slow_s and time.monotonic() < end:
                time.sleep(0.01)
            said = _spoken(call, languages)
            self.chimes += 1
            self.spoken.extend(said)
            self.faults.clear()
            return said
        finally:
            with self._lock:
                self._speaking = False


class SilentAnnouncer(Announcer):
    """Says nothing (a hall without speakers); the Future still tells what would be said."""

    def announce(self, call: CallInfo, languages: Sequence[str]) -> "Future[list[Spoken]]":
        fut: Future = Future()
        fut.set_result(_spoken(call, languages))
        return fut
