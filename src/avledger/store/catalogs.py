"""Which catalog a configuration names: the SQLite file (default) or a PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

from avledger.config.loader import Config
from avledger.errors import ConfigError
from avledger.i18n import _
from avledger.store.catalog import Catalog


def open_catalog(config: Config) -> Catalog:
    """The configured catalog, not yet connected (PostgreSQL support is imported only here)."""
    if config.get("catalog.backend") != "postgres":
        return Catalog(config.catalog_path)
    dsn = config.get("catalog.dsn")
    if not dsn:
        raise ConfigError([_("catalog.dsn: must be set when catalog.backend is postgres (e.g. "
                             "'host=127.0.0.1 dbname=avledger user=avledger')")])
    from avledger.store.postgres import PgCatalog, PgSettings

    password = config.get("catalog.password_file")
    return PgCatalog(PgSettings(str(dsn), Path(password) if password else None))
