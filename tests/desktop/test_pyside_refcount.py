"""Regression: PySide6 6.12 on CPython 3.11 drops a reference to None/True on every void call
and signal emit, and the process aborts within minutes (none_dealloc). Python >= 3.12's
immortal objects make it harmless; this keeps both facts checked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STRESS = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QCoreApplication, QObject, Signal, QTimer

    class Emitter(QObject):
        void = Signal()
        flag = Signal(bool)
        value = Signal(object)

    app = QCoreApplication(sys.argv)
    emitter = Emitter()
    seen = [0]
    def bump(*_):
        seen[0] += 1
    emitter.void.connect(bump)
    emitter.flag.connect(bump)
    emitter.value.connect(bump)
    timer = QTimer()
    before = sys.getrefcount(None), sys.getrefcount(True)
    # On 3.11 each of these drops None's or True's count by one until it underflows and
    # the process aborts; on >= 3.12 the objects are immortal and nothing happens.
    for _ in range(300_000):
        emitter.void.emit()
        emitter.flag.emit(True)
        emitter.value.emit(None)
        timer.setInterval(5)   # a void C++ call returning None
        timer.stop()
    after = sys.getrefcount(None), sys.getrefcount(True)
    assert seen[0] == 900_000, seen
    print("ok", before, after)
""")


def test_interpreter_is_at_least_3_12() -> None:
    assert sys.version_info >= (3, 12), "PySide6 6.12 aborts on CPython 3.11 (none_dealloc)"


def test_many_emits_and_void_calls_do_not_abort() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", STRESS],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")


def test_tg_refuses_python_3_11(tmp_path) -> None:
    """The bootstrap never builds the environment on an interpreter with the bug."""
    script = (ROOT / "tg").read_text()
    assert "sys.version_info >= (3, 12)" in script
