"""A chime on a new urgent event, with mute; the sound is synthesised, never downloaded."""

from __future__ import annotations

import math
import struct
import tempfile
import time
import wave
from pathlib import Path

from PySide6.QtCore import QObject, QUrl


def write_chime(path: Path, rate: int = 22050) -> Path:
    """A two-tone alert chime (0.9 s, 16-bit mono WAV)."""
    frames = bytearray()
    for tone, length in ((880.0, 0.35), (1175.0, 0.5)):
        for i in range(int(rate * length)):
            t = i / rate
            envelope = min(1.0, t / 0.01) * math.exp(-4.0 * t)
            frames += struct.pack("<h", int(12000 * envelope * math.sin(2 * math.pi * tone * t)))
        frames += b"\0\0" * int(rate * 0.05)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


class Chime(QObject):
    """Plays the chime unless muted, at most once per `gap` seconds (a burst rings once)."""

    def __init__(self, gap: float = 5.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.muted = False
        self.gap = gap
        self.played = 0
        self._last = -gap
        self._effect = None
        try:
            from PySide6.QtMultimedia import QSoundEffect

            self._folder = tempfile.TemporaryDirectory(prefix="tongguan-sound-")
            effect = QSoundEffect(self)
            chime = write_chime(Path(self._folder.name) / "urgent.wav")
            effect.setSource(QUrl.fromLocalFile(str(chime)))
            effect.setVolume(0.8)
            self._effect = effect
        except ImportError:  # QtMultimedia missing: the wall still works, silently
            self._effect = None

    def ring(self) -> bool:
        """Ring for a new urgent event; return whether it rang (not muted, not too soon)."""
        now = time.monotonic()
        if self.muted or now - self._last < self.gap:
            return False
        self._last = now
        self.played += 1
        if self._effect is not None:
            self._effect.play()
        return True
