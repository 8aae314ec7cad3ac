"""Layered configuration: built-in defaults → system file → ``$AVLEDGER_CONFIG``/``--config``.

``AVLEDGER_HOME`` puts everything (config, data, keys, log) under one directory, for
development and demos. Every value remembers which layer it came from (``config show``).

On a real installation (no ``AVLEDGER_HOME``) staff run avledger through sudo as the service
account, so the configuration is a trust boundary: it comes only from ``/etc/avledger/``, from
root-owned files that group and others cannot write; an override file is refused unless the
caller is root, and even root's override cannot replace the roster, the players or the device
profiles (docs/security.md, "Threat model").
"""

from __future__ import annotations

import copy
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avledger.config import schema
from avledger.config.layout import SYSTEM_CONFIG, Layout
from avledger.errors import ConfigError, RefusedError
from avledger.i18n import _

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "data"
# Who may act, what runs on footage, and what a recorder is: never from an override file.
PROTECTED_KEYS = ("personnel", "access.player", "access.players", "profiles")
PATH_KEYS = ("store.path", "catalog.path", "catalog.password_file", "ledger.key_path",
             "ledger.checkpoint_file", "daemon.mount_dir", "access.package_dir",
             "store.s3.credentials_file", "witness.key_path", "witness.state_dir",
             "store.second.path")


@dataclass
class Config:
    """The effective configuration, with the origin of every value."""

    data: dict[str, Any]
    sources: dict[str, str]
    layout: Layout
    files: list[Path] = field(default_factory=list)

    def get(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            node = node[part]
        return node

    def path(self, dotted: str) -> Path:
        return Path(self.get(dotted))

    # Frequently used values, typed.
    @property
    def store_path(self) -> Path:
        return self.path("store.path")

    @property
    def catalog_path(self) -> Path:
        return self.path("catalog.path")

    @property
    def key_path(self) -> Path:
        return self.path("ledger.key_path")

    @property
    def checkpoint_file(self) -> Path:
        return self.path("ledger.checkpoint_file")

    @property
    def timezone(self) -> str:
        return str(self.get("site.timezone"))

    @property
    def roster(self) -> list[dict[str, Any]]:
        return list(self.get("personnel"))

    def profile_dirs(self) -> list[Path]:
        return [Path(p) for p in self.get("profiles.dirs")]


def read_yaml(path: Path) -> Any:
    """Safe-load one YAML file; syntax errors become a ConfigError with file and line."""
    import yaml  # here, not at the top: every start reads Layout to choose the language

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([_("cannot read: {strerror}").format(strerror=exc.strerror)],
                          source=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([_("not UTF-8 text (byte {start})").format(start=exc.start)],
                          source=str(path)) from exc
    try:  # libyaml's parser where PyYAML was built with it: the same data, parsed in C
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        message = _("line {line}, column {column}: invalid YAML: {problem}") if mark else \
            _("invalid YAML: {problem}")
        raise ConfigError([message.format(line=mark.line + 1 if mark else None,
                                          column=mark.column + 1 if mark else None,
                                          problem=problem)], source=str(path)) from exc


def _merge(base: dict[str, Any], top: dict[str, Any], sources: dict[str, str], origin: str,
           prefix: str = "") -> None:
    for key, value in top.items():
        dotted = f"{prefix}{key}"
        if value is None and isinstance(base.get(key), dict | list):
            continue  # an empty section: keep what lower layers say
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, sources, origin, dotted + ".")
        else:
            base[key] = copy.deepcopy(value)
            _mark(value, dotted, sources, origin)


def _mark(value: Any, dotted: str, sources: dict[str, str], origin: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _mark(v, f"{dotted}.{k}", sources, origin)
    else:
        sources[dotted] = origin


def _resolve_relative(data: dict[str, Any], base: Path) -> None:
    """Relative paths written in a file are relative to that file's directory."""
    for dotted in PATH_KEYS:
        *sections, key = dotted.split(".")
        node: Any = data
        for section in sections:
            node = node.get(section) if isinstance(node, dict) else None
        value = node.get(key) if isinstance(node, dict) else None
        if isinstance(value, str) and value and not value.startswith(("/", "{", "~")):
            node[key] = str(base / value)
    prof = data.get("profiles")
    if isinstance(prof, dict) and isinstance(prof.get("dirs"), list):
        prof["dirs"] = [
            str(base / p) if isinstance(p, str) and not p.startswith(("/", "{", "~")) else p
            for p in prof["dirs"]
        ]


def _expand(value: Any, placeholders: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, repl in placeholders.items():
            value = value.replace("{" + name + "}", repl)
        return os.path.expanduser(value) if value.startswith("~") else value
    if isinstance(value, list):
        return [_expand(v, placeholders) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, placeholders) for k, v in value.items()}
    return value


def load(explicit: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Load, merge, validate and expand the configuration; ConfigError lists every problem."""
    env = os.environ if environ is None else environ
    layout = Layout.discover(env)
    data: dict[str, Any] = schema.defaults()
    sources: dict[str, str] = {}
    _mark(data, "", sources, "default")
    sources = {k.lstrip("."): v for k, v in sources.items()}

    layers: list[Path] = []
    if layout.config_file.exists():
        if not layout.development:
            require_trusted_file(layout.config_file)
        layers.append(layout.config_file)
    override = explicit or (Path(env["AVLEDGER_CONFIG"]) if env.get("AVLEDGER_CONFIG") else None)
    if override is not None:
        if not layout.development:
            refuse_override_unless_root(override)
        if not override.exists():
            raise ConfigError([_("file not found")], source=str(override))
        if override.resolve() not in [p.resolve() for p in layers]:
            layers.append(override)

    problems: list[str] = []
    for path in layers:
        raw = read_yaml(path)
        if raw is None:
            continue
        file_problems = schema.validate(raw) + schema.roster_problems(raw)
        if not layout.development and path != layout.config_file:
            file_problems += [_("{key}: may only be set in {config_file}").format(
                                  key=key, config_file=layout.config_file)
                              for key in PROTECTED_KEYS if _has(raw, key)]
        if file_problems:
            problems += [_("{where}: {problem}").format(where=path, problem=p)
                         for p in file_problems]
            continue
        _resolve_relative(raw, path.resolve().parent)
        _merge(data, raw, sources, str(path))
    problems += schema.store_problems(data)
    if problems:
        raise ConfigError(problems)

    placeholders = {name: str(p) for name, p in layout.dirs.items()}
    placeholders["builtin"] = str(BUILTIN_DIR)
    data = _expand(data, placeholders)
    for person in data.get("personnel", []):
        person["badge"] = str(person["badge"])
        person.setdefault("unit", data["site"]["unit"])
        person.setdefault("os_user", None)
    return Config(data=data, sources=sources, layout=layout, files=layers)


def _has(data: Any, dotted: str) -> bool:
    node = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return node is not None  # an empty section sets nothing


def refuse_override_unless_root(path: Path) -> None:
    """On a real installation only root may point avledger at another config file."""
    if os.getuid() != 0 or os.geteuid() != 0:
        raise RefusedError(
            _("--config / AVLEDGER_CONFIG ({path}) are refused on a real installation unless run "
              "by root").format(path=path),
            hint=_("the configuration is {SYSTEM_CONFIG}, kept by root").format(
                                    SYSTEM_CONFIG=SYSTEM_CONFIG))


def require_trusted_file(path: Path) -> None:
    """A system config file (and its folder) must be root's and writable by root only:
    whoever can write it decides the roster."""
    for item in (path.parent, path):
        st = os.stat(item)
        if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ConfigError([_("refused: must be owned by root and not writable by group or "
                                 "others (owner uid {st_uid}, mode {st_mode:04o})").format(
                                   st_uid=st.st_uid,
                                          st_mode=stat.S_IMODE(st.st_mode))],
                              source=str(item))


def check_file(path: Path) -> list[str]:
    """Problems in one file on its own (for ``config check FILE``)."""
    raw = read_yaml(path)
    return [] if raw is None else schema.validate(raw) + schema.roster_problems(raw)
