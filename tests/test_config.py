"""Configuration: every mistake reported with its path, in one go; layered loading; the sample."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avledger.config import loader, schema
from avledger.config.schema import ROLES, SCHEMA, ListOf, Section
from avledger.errors import ConfigError, RefusedError
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parent.parent

THREE_MISTAKES = textwrap.dedent("""\
    site:
      timezone: Mars/Base
    retention:
      default_days: 0
    personnel:
      - name: Li Na
        roles: [clerk]
""")
THREE_PATHS = ("site.timezone: unknown time zone 'Mars/Base'",
               "retention.default_days: must be a positive integer",
               "personnel[0].badge: is required")


def _one_line(out) -> str:  # type: ignore[no-untyped-def]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_three_mistakes_with_config_check(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(THREE_MISTAKES)
    out = run_cli("config", "check", str(path))
    assert out.returncode == 3
    line = _one_line(out)
    assert line.startswith(f"avledger: error: {path}: 3 problems: ")
    for phrase in THREE_PATHS:
        assert phrase in line


def test_three_mistakes_stop_any_command(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (home / "avledger.yaml").write_text(THREE_MISTAKES)
    for args in (("config", "check"), ("status",), ("ledger", "verify"), ("store", "verify"),
                 ("init",), ("config", "show")):
        out = cli(*args)
        assert out.returncode == 3, (args, out.stderr)
        line = _one_line(out)
        assert all(phrase in line for phrase in THREE_PATHS), line


def test_three_mistakes_through_config_option(home: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "extra.yaml"
    extra.write_text(THREE_MISTAKES)
    for args in (("--config", str(extra), "status"), ("status",)):
        env = {"AVLEDGER_CONFIG": str(extra)} if args[0] == "status" else None
        out = cli(*args, env=env)
        assert out.returncode == 3 and f"{extra}: site.timezone" in out.stderr


def test_problems_in_several_files_are_all_reported(home: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (home / "avledger.yaml").write_text("window:\n  hours: -1\n")
    extra = tmp_path / "extra.yaml"
    extra.write_text("clock:\n  tolerance_seconds: fast\n")
    out = cli("--config", str(extra), "config", "check")
    assert out.returncode == 3
    line = _one_line(out)
    assert "window.hours: must be a positive integer" in line
    assert "clock.tolerance_seconds: must be a number of at least 0" in line


@pytest.mark.parametrize(("text", "expected"), [
    ("site:\n  colour: green\n",
     "site.colour: unknown key (known here: unit, timezone, station, language)"),
    ("stores:\n  path: /x\n", "stores: unknown key"),
    ("personnel:\n  - {badge: '1', name: A, roles: [clerk], phone: 1}\n",
     "personnel[0].phone: unknown key"),
    ("ledger:\n  origin: 'avledger.example/custody+x'\n",
     "ledger.origin: must not contain spaces or '+'"),
    ("ledger:\n  origin: 'my ledger'\n", "ledger.origin: must not contain spaces"),
    ("personnel:\n  - {badge: '1', name: A, roles: [boss]}\n",
     "personnel[0].roles: unknown role(s) boss"),
    ("personnel:\n  - {badge: '1', name: A, roles: [clerk], os_user: zhang}\n"
     "  - {badge: '1', name: B, roles: [clerk], os_user: zhang}\n",
     "personnel[1].badge: duplicate '1' (also at [0])"),
    ("personnel:\n  - {badge: '1', name: A, roles: [clerk], os_user: zhang}\n"
     "  - {badge: '2', name: B, roles: [clerk], os_user: zhang}\n",
     "personnel[1].os_user: 'zhang' is already used at personnel[0] (one login acts as one "
     "person)"),
    ("- just\n- a list\n", "(top level): must be a mapping"),
    ("site: 3\n", "site: must be a mapping"),
    ("clock:\n  reset_before_year: 1800\n", "clock.reset_before_year: must be a year"),
    ("profiles:\n  dirs: /one/dir\n", "profiles.dirs: must be a list of paths"),
])
def test_single_mistakes(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        loader.load(path, environ={"AVLEDGER_HOME": str(tmp_path / "h")})
    assert expected in info.value.one_line()
    assert info.value.exit_code == 3


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("site:\n  unit: Bureau\n  timezone: [Asia/Shanghai\nstore:\n  path: /x\n")
    out = run_cli("config", "check", str(path))
    assert out.returncode == 3
    line = _one_line(out)
    assert re.search(rf"{re.escape(str(path))}: line \d+, column \d+: invalid YAML", line), line


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("site:\n\tunit: Bureau\n")
    with pytest.raises(ConfigError, match=r"line 2, column 1: invalid YAML"):
        loader.load(path, environ={"AVLEDGER_HOME": str(tmp_path / "h")})


def test_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes("site:\n  unit: 生态环境局\n".encode("gb18030"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        loader.load(path, environ={"AVLEDGER_HOME": str(tmp_path / "h")})


def test_missing_config_file(tmp_path: Path) -> None:
    out = run_cli("--config", str(tmp_path / "nope.yaml"), "config", "check")
    assert out.returncode == 3 and "file not found" in _one_line(out)


def test_empty_sections_are_allowed(tmp_path: Path) -> None:
    """A section whose keys are all commented out is empty, not an error."""
    path = tmp_path / "c.yaml"
    path.write_text("site:\n#  unit: x\nretention:\npersonnel:\n")
    cfg = loader.load(path, environ={"AVLEDGER_HOME": str(tmp_path / "h")})
    assert cfg.get("site.timezone") == "Asia/Shanghai" and cfg.roster == []


def test_layers_and_sources(home: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "extra.yaml"
    extra.write_text("clock:\n  tolerance_seconds: 2\nstore:\n  path: relative/store\n")
    cfg = loader.load(extra)
    assert cfg.get("clock.tolerance_seconds") == 2
    assert cfg.store_path == tmp_path / "relative" / "store"  # relative to its file
    assert cfg.sources["clock.tolerance_seconds"] == str(extra)
    assert cfg.sources["clock.reset_before_year"] == "default"
    assert cfg.sources["personnel"] == str(home / "avledger.yaml")
    assert cfg.catalog_path == home / "data" / "catalog.db"  # {data} placeholder
    out = cli("--config", str(extra), "config", "show", "--json")
    shown = __import__("json").loads(out.stdout)
    assert shown["sources"]["clock.tolerance_seconds"] == str(extra)
    assert shown["config"]["clock"]["tolerance_seconds"] == 2
    table = cli("--config", str(extra), "config", "show")
    assert "clock.tolerance_seconds" in table.stdout and "default" in table.stdout


def test_example_file_is_the_generated_sample() -> None:
    out = run_cli("config", "sample")
    assert out.returncode == 0
    example = (REPO / "config" / "avledger.example.yaml").read_text(encoding="utf-8")
    assert example == out.stdout, ("config/avledger.example.yaml is stale: regenerate it with "
                                   "'avledger config sample > config/avledger.example.yaml'")


def test_sample_is_valid_and_equals_the_defaults() -> None:
    doc = yaml.safe_load(schema.sample_yaml())
    assert schema.validate(doc) == []
    defaults = schema.defaults()
    for key, value in defaults.items():
        if key != "personnel":
            assert doc[key] == value, key


def test_config_check_ok(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("config", "check", "--json")
    assert out.returncode == 0
    assert __import__("json").loads(out.stdout) == {
        "ok": True, "files": [str(home / "avledger.yaml")],
        "profiles": ["fieldcam-json", "generic"]}


# ---- property tests ------------------------------------------------------------------------


def _field_names(node: Any) -> set[str]:
    if isinstance(node, Section):
        names = set(node.fields)
        for sub in node.fields.values():
            names |= _field_names(sub)
        return names
    if isinstance(node, ListOf):
        return _field_names(node.item)
    return set()


KEYS = st.sampled_from(sorted(_field_names(SCHEMA)) + ["bogus", "Site", "x y"])
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.text(max_size=30) | st.sampled_from(["Asia/Shanghai", "clerk", "0001", ROLES[3]]))
YAMLISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(KEYS | st.integers() | st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, YAMLISH, max_size=6) | YAMLISH)
def test_validator_never_crashes_and_every_problem_has_a_path(data: Any) -> None:
    problems = schema.validate(data)
    assert isinstance(problems, list)
    if not isinstance(data, dict):
        assert problems == ["(top level): must be a mapping"]
        return
    # every problem starts with the path of one of the keys given, then says what is wrong
    tops = [schema.key_path("", k) for k in data]
    for problem in problems:
        assert any(problem.startswith(top) and re.match(r"(\.[\w-]+|\[.*?\])*: \S",
                                                        problem[len(top):])
                   for top in tops), problem


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.dictionaries(KEYS, YAMLISH, max_size=6))
def test_loader_gives_a_config_or_a_config_error(tmp_path: Path, data: Any) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    try:
        cfg = loader.load(path, environ={"AVLEDGER_HOME": str(tmp_path / "h")})
    except ConfigError as exc:
        assert exc.problems and "\n" not in exc.one_line()
        return
    # a config that loads is usable
    assert cfg.store_path and cfg.timezone and isinstance(cfg.roster, list)
    for person in cfg.roster:
        assert isinstance(person["badge"], str) and person["roles"]


@given(st.text(max_size=40))
def test_origin_check(origin: str) -> None:
    problem = schema.origin(origin)
    ok = bool(origin) and "+" not in origin and not any(c.isspace() for c in origin)
    assert (problem is None) == ok


# ---- a real installation (no AVLEDGER_HOME): the override is root's, and limited ------------


def test_override_is_refused_unless_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("clock:\n  tolerance_seconds: 2\n")
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    for explicit, env in ((path, {}), (None, {"AVLEDGER_CONFIG": str(path)})):
        with pytest.raises(RefusedError, match=r"--config / AVLEDGER_CONFIG .* are refused on "
                                               r"a real installation unless run by root"):
            loader.load(explicit, environ=env)
    # In a development home the override is the developer's own business.
    cfg = loader.load(path, environ={"AVLEDGER_HOME": str(tmp_path / "h")})
    assert cfg.get("clock.tolerance_seconds") == 2


def test_roots_override_may_not_set_roster_players_or_profiles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text("personnel:\n  - {badge: '9', name: X, os_user: x, roles: [leader]}\n"
                    "access:\n  players: ['/bin/sh -c cat']\nprofiles:\n  dirs: [/tmp]\n")
    monkeypatch.setattr(os, "getuid", lambda: 0)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(ConfigError) as info:
        loader.load(path, environ={})
    line = info.value.one_line()
    for key in ("personnel", "access.players", "profiles"):
        assert f"{key}: may only be set in /etc/avledger/avledger.yaml" in line
