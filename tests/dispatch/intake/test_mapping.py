"""The 诉求类型 mapping table: the shipped one checks, rules match as documented, a broken
edit is refused with where, and the CLI checks a file."""

from __future__ import annotations

import pytest

from dispatch.cli import main
from dispatch.domain.categories import load_categories
from dispatch.intake.mapping import MappingError, load_mapping, normalise

CATEGORIES = {"": {c.code: c.name for c in load_categories()}}  # one table, unnamed


def test_the_shipped_table_checks_and_maps() -> None:
    mapping = load_mapping(None, CATEGORIES)
    assert mapping.map("噪声扰民").category == "06-01"
    assert mapping.map(" 噪 声 扰 民 ").category == "06-01"  # spaces dropped
    assert mapping.map("城乡建设/市容环境/暴露垃圾").rule == "name:暴露垃圾"
    assert mapping.map("电梯困人").category in ("16-07", "20-04")
    hit = mapping.map("闻所未闻的诉求")
    assert hit.triage and hit.category == mapping.triage


def test_normalise() -> None:
    assert normalise("（电梯）　故障！".replace("！", "")) == "电梯故障"
    assert normalise("ＡＢＣ") == "abc"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('triage = "06-14"\n[types]\n"x" = "99-99"', "unknown category '99-99'"),
        ('triage = "99-99"', "triage: unknown category"),
        ("[types]\n", "triage: a category code is needed"),
        ('triage = "06-14"\nextra = 1', "unknown key(s) extra"),
        ('triage = "06-14"\n[types]\n"停水" = "06-02"\n"停 水" = "06-02"', "are the same key"),
        ("triage = ", "not TOML"),
    ],
)
def test_broken_tables_are_refused(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_mapping(path, CATEGORIES)


def test_the_cli_checks_a_file_and_maps_types(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    assert main(["--url", url, "intake-mapping", "--check", str(_shipped()), "停水", "什么"]) == 0
    out = capsys.readouterr().out
    assert "triage under 06-14 意见建议: ok" in out
    assert "停水\t06-02 供水停水\ttypes:停水" in out
    assert "什么\t06-14 意见建议\ttriage (待分拨)" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('triage = "06-14"\n[types]\n"x" = "99-99"', encoding="utf-8")
    assert main(["--url", url, "intake-mapping", "--check", str(bad)]) == 1
    assert "unknown category '99-99'" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def _shipped():
    from dispatch.intake.mapping import default_mapping_path

    return default_mapping_path()


def test_the_cli_checks_against_every_districts_stored_table(tmp_path, capsys) -> None:
    from tests.dispatch.intake.city_env import city_store

    city_store(tmp_path / "city.db").close()
    url = f"sqlite:///{tmp_path / 'city.db'}"
    good = tmp_path / "good.toml"
    good.write_text('triage = "06-14"\n[types]\n"江堤垃圾清理" = "340802:01-90"', encoding="utf-8")
    assert main(["--url", url, "intake-mapping", "--check", str(good)]) == 0
    assert "1 types, triage under 06-14 意见建议: ok" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('triage = "06-14"\n[types]\n"x" = "340803:01-90"', encoding="utf-8")
    assert main(["--url", url, "intake-mapping", "--check", str(bad)]) == 1
    assert "unknown category '340803:01-90' ('01-90' is not in district 340803's table)" in (
        capsys.readouterr().err
    )
