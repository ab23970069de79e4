"""The exports benchmark runs end to end on a small data set and prints its verdicts."""

from __future__ import annotations

from bench import exports


def test_a_small_export_bench_writes_both_formats(capsys) -> None:
    exports.main(["--events", "300"])
    out = capsys.readouterr().out
    assert "| csv    | 300   |" in out and "| xlsx   | 300   |" in out
    assert "met" in out and "reproduce: " in out
