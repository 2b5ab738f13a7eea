"""GridPulse settings: one typed object with defaults in code.

A TOML file and ``GRIDPULSE_*`` environment variables override the defaults (environment wins).

Every setting is a field of :class:`Settings`. Its environment variable is ``GRIDPULSE_`` plus the
upper-cased field name (``GRIDPULSE_PORT``, ``GRIDPULSE_ETL_INTERVAL_SECONDS``). The TOML file is
named by ``GRIDPULSE_CONFIG`` (default ``gridpulse.toml`` in the working directory if present) and
uses the field names as keys, top level, plus an optional ``[sla.<category_id>]`` table (see
``docs/settings.md``). A wrong value stops start-up with a :class:`SettingsError` that names the
setting and says what was expected.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["Settings", "SettingsError", "calendar_error", "load_settings", "ENV_PREFIX"]

ENV_PREFIX = "GRIDPULSE_"
_ROOT = Path(__file__).resolve().parent


class SettingsError(ValueError):
    """A setting has a value GridPulse cannot use; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """All runtime settings. Paths are resolved against the project root when relative."""

    # --- deployment -------------------------------------------------------------------------
    # Root of all runtime state: landing/, warehouse/, quarantine/, reports/, logs/.
    var_dir: Path = _ROOT / "var"
    # Local zone of the deployment: days, hours and working days are computed in it.
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = 8050
    # The production server (`app.py serve`, gunicorn): worker processes, and threads in each (docs/serving.md).
    workers: int = 2
    threads: int = 8
    # Interface language by default: "zh" (zh-CN) or "en".
    language: str = "zh"
    # The place's display name; empty: the name of the warehouse's top area (from the geography).
    place_name: str = ""
    place_name_en: str = ""
    # Working-day calendar: "cn" (PRC statutory calendar with make-up working days, chinesecalendar) or a
    # country / subdivision code of the `holidays` package such as "US", "US-NY", "US-CA", "GB".
    # Either way, <var_dir>/calendar/holidays.csv (or holiday_file) adds the operator's own days.
    calendar: str = "cn"
    holiday_file: Path | None = None
    debug: bool = False

    # --- web server (issue 13) ----------------------------------------------------------------
    # Host names (comma-separated, no port) the dashboard answers to; any other Host header gets 400, which
    # stops DNS rebinding. Empty: localhost, 127.0.0.1, ::1 and `host` when it names one interface (not
    # 0.0.0.0 or ::). ".example.org" also allows its subdomains; "*" allows any (behind a proxy that checks).
    allowed_hosts: str = ""
    # Largest request body accepted, in bytes; a bigger one gets 413 unread. The biggest real request (the
    # page router's, a wall refresh, the cases grid) is about 1.5 KB: 256 KiB is 170 times that (docs/serving.md).
    max_request_bytes: int = 262_144
    # Signs the session cookies and the shared results (dashboard/shared_cache.py). Empty: a random key generated once into <var_dir>/secrets/secret_key (mode 0600).
    # Every web host behind one name, or sharing one Redis, needs the same key; at least 32 characters.
    secret_key: str = field(default="", repr=False)
    # Hours a sign-in lasts (wall tokens never expire by time; they are revoked).
    session_hours: int = 12
    # Mark the session cookie Secure even when the request reached us over plain HTTP (a TLS proxy in front).
    # Requests that arrive over HTTPS always get a Secure cookie.
    cookie_secure: bool = False
    # Reverse proxies in front of the app that set X-Forwarded-For and X-Forwarded-Proto (0: none). With 1, the
    # client's address (sign-in limits, audit) and scheme (Secure cookies) come from the proxy's headers.
    proxy_hops: int = 0

    # --- demo data ----------------------------------------------------------------------------
    demo_events: int = 300_000
    demo_days: int = 365
    demo_seed: int = 20261129
    # Optional GeoJSON polygon tessellated instead of the built-in approximate outline.
    demo_boundary: Path | None = None

    # --- ETL and schedules ------------------------------------------------------------------------
    etl_interval_seconds: int = 60
    # Cron expression (minute hour day month day-of-week) for the nightly reference tables.
    reference_cron: str = "0 2 * * *"  # every day 02:00
    # The weekly briefing (docs/briefing.md): cron in the deployment's zone for the week just ended;
    # empty switches the schedule off (`python app.py report` and /briefings still write one).
    briefing_cron: str = "0 8 * * 1"  # Mondays 08:00
    # Area ids (comma-separated) that get their own briefing besides the whole district's, e.g. the streets.
    briefing_scopes: str = ""
    snapshots_keep: int = 3
    # Run the scheduler (ETL + live simulator) inside `serve`.
    scheduler_in_serve: bool = True
    # Cases a day dropped into the landing zone by the live simulator (0 switches it off).
    simulate_cases_per_day: int = 2000
    # Key of the keyed hash that replaces national ID numbers. Never commit it: set it with
    # GRIDPULSE_PII_HASH_KEY. When empty, a random key is created once under var/secrets/.
    pii_hash_key: str = ""

    # --- service promises (SLA) defaults; per-category overrides in TOML [sla.<category>] ------
    sla_accept_seconds: int = 60
    sla_dispatch_seconds: int = 300
    sla_urgent_close_hours: int = 24
    sla_other_close_working_days: int = 3

    # --- vital-sign status thresholds (score = value / target, direction-adjusted) ----------------
    status_amber_below: float = 0.95
    status_red_below: float = 0.85

    # --- wall screen ----------------------------------------------------------------------------
    wall_refresh_seconds: int = 60
    # The dashboard warns "data is stale" when the snapshot is older than this many ETL cycles.
    stale_after_cycles: int = 2

    # --- shared results (issue 14) -------------------------------------------------------------
    # Where web workers share finished wall and analyst results (dashboard/shared_cache.py): empty for files under
    # <var_dir>/cache/results (one host), "redis://host:6379/0" (or rediss://, unix://) for a Redis server, "none"
    # for each process alone. May hold a password: never printed.
    cache_url: str = field(default="", repr=False)

    # --- metrics for operators (issue 14) -------------------------------------------------------
    # Who may read /metrics (docs/serving.md, "Metrics for operators"): clients in these networks (addresses or
    # CIDR, comma-separated; default: this machine), and anyone sending `Authorization: Bearer <metrics_token>`.
    # Empty metrics_allow and no token: nobody. Behind a proxy, set proxy_hops, or only the token works.
    metrics_allow: str = "127.0.0.0/8,::1"
    metrics_token: str = field(default="", repr=False)  # at least 32 characters; put it in the environment
    # --- object store: several web hosts, one writer (issue 14) ---------------------------------------
    # "s3://bucket/prefix" of an S3-compatible store (AWS S3, MinIO, Alibaba OSS) that carries the snapshots from
    # the writer host to the web hosts; empty: no object store (every process reads this machine's var/).
    # Credentials never go here: boto3 reads them from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
    # ~/.aws/credentials or an instance role (docs/object-store.md).
    object_store_url: str = ""
    # "publish" on the writer host (its ETL uploads each snapshot), "pull" on a web-only host (`serve` runs the
    # puller instead of the scheduler). Required when object_store_url is set.
    object_store_role: str = ""
    # The store's endpoint for anything but AWS S3: "http://minio:9000", "https://oss-cn-hangzhou.aliyuncs.com".
    object_store_endpoint: str = ""
    # The store's region ("cn-hangzhou", "us-east-1"); empty: boto3's own (AWS_DEFAULT_REGION, ~/.aws/config).
    object_store_region: str = ""
    # "auto" (boto3 decides), "path" (http://endpoint/bucket/key: MinIO) or "virtual" (http://bucket.endpoint/key: OSS).
    object_store_addressing: str = "auto"
    # How often a pull host asks the store whether a newer snapshot is there (one small GET).
    object_store_poll_seconds: int = 5
    # Files above this many MiB travel as multipart uploads in parts of this size (S3's minimum part is 5 MiB).
    object_store_part_mb: int = 64

    # Per-category SLA overrides from the TOML file: {category_id: {stage: limit}}.
    sla_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    # --- derived paths --------------------------------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        """Where landing files arrive (one folder per table)."""
        return self.var_dir / "landing"

    @property
    def warehouse_dir(self) -> Path:
        """The work database, the snapshots and ``CURRENT``."""
        return self.var_dir / "warehouse"

    @property
    def work_db(self) -> Path:
        """The ETL's own database (the one writer)."""
        return self.warehouse_dir / "work.duckdb"

    @property
    def snapshots_dir(self) -> Path:
        """Published read-only snapshots."""
        return self.warehouse_dir / "snapshots"

    @property
    def current_file(self) -> Path:
        """The pointer to the current snapshot."""
        return self.warehouse_dir / "CURRENT"

    @property
    def reports_dir(self) -> Path:
        """Generated reports (the weekly briefing)."""
        return self.var_dir / "reports"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The deployment's time zone."""
        return zoneinfo.ZoneInfo(self.timezone)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated like any other settings)."""
        new = dataclasses.replace(self, **changes)
        _validate(new)
        return new


def _convert(name: str, raw: Any, default: Any, annotation: str) -> Any:
    """Turn a raw TOML or environment value into the field's type, or raise SettingsError."""
    env = ENV_PREFIX + name.upper()
    try:
        if "Mapping" in annotation:
            if not isinstance(raw, Mapping):
                raise TypeError
            return raw
        if annotation.startswith("bool"):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if annotation.startswith("int"):
            if isinstance(raw, bool):
                raise ValueError
            return int(str(raw).replace("_", ""))
        if annotation.startswith("float"):
            return float(raw)
        if "Path" in annotation:
            if raw in (None, ""):
                if "None" in annotation:
                    return None
                raise ValueError
            path = Path(str(raw)).expanduser()
            return path if path.is_absolute() else (_ROOT / path)
        return str(raw)
    except (TypeError, ValueError):
        kind = annotation.split("|")[0].strip()
        raise SettingsError(f"setting {name} ({env}): expected {kind}, got {raw!r}") from None


def _validate(s: Settings) -> None:
    def bad(name: str, why: str) -> SettingsError:
        return SettingsError(f"setting {name} ({ENV_PREFIX}{name.upper()}): {why}, got {getattr(s, name)!r}")

    try:
        zoneinfo.ZoneInfo(s.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise bad("timezone", "expected an IANA time zone such as Asia/Shanghai") from None
    if not 1 <= s.port <= 65535:
        raise bad("port", "expected a TCP port 1-65535")
    for name, most in (("workers", 64), ("threads", 256)):
        if not 1 <= getattr(s, name) <= most:
            raise bad(name, f"expected a whole number from 1 to {most}")
    if s.language not in {"zh", "en"}:
        raise bad("language", "expected 'zh' or 'en'")
    positive = ["demo_events", "demo_days", "etl_interval_seconds", "snapshots_keep", "sla_accept_seconds",
                "sla_dispatch_seconds", "sla_urgent_close_hours", "sla_other_close_working_days",
                "wall_refresh_seconds", "stale_after_cycles"]
    for name in positive:
        if getattr(s, name) <= 0:
            raise bad(name, "expected a positive number")
    # web server (issue 13)
    if s.max_request_bytes < 1024:
        raise bad("max_request_bytes", "expected a number of bytes of at least 1024")
    if s.secret_key and len(s.secret_key) < 32:
        raise bad("secret_key", "expected at least 32 characters (or leave it empty for a generated key)")
    if not 0 <= s.proxy_hops <= 5:
        raise bad("proxy_hops", "expected the number of reverse proxies in front of the app, 0 to 5")
    if not 1 <= s.session_hours <= 24 * 31:
        raise bad("session_hours", "expected a whole number of hours from 1 to 744")
    if s.cache_url not in ("", "none") and not s.cache_url.startswith(("redis://", "rediss://", "unix://")):
        raise bad("cache_url", "expected empty (files under var/cache), 'none', or a redis:// URL")
    problem = _allowed_hosts_error(s.allowed_hosts)
    if problem is not None:
        raise bad("allowed_hosts", problem)
    if s.simulate_cases_per_day < 0:
        raise bad("simulate_cases_per_day", "expected 0 or more")
    if not 0 < s.status_red_below <= s.status_amber_below <= 1.5:
        raise bad("status_red_below", "expected 0 < status_red_below <= status_amber_below <= 1.5")
    for name in ("reference_cron", "briefing_cron"):
        if name == "briefing_cron" and not s.briefing_cron.strip():
            continue  # no scheduled briefing
        if len(getattr(s, name).split()) != 5:
            raise bad(name, "expected a 5-field cron expression like '0 2 * * *'")
        problem = _cron_error(getattr(s, name), s.timezone)
        if problem is not None:
            raise bad(name, f"not a valid cron expression ({problem})")
    if s.demo_boundary is not None and not s.demo_boundary.exists():
        raise bad("demo_boundary", "file does not exist")
    problem = calendar_error(s.calendar)
    if problem is not None:
        raise bad("calendar", problem)
    if s.holiday_file is not None and not s.holiday_file.is_file():
        raise bad("holiday_file", "file does not exist (leave the setting out for <var_dir>/calendar/holidays.csv)")
    # metrics for operators (issue 14)
    problem = _networks_error(s.metrics_allow)
    if problem is not None:
        raise bad("metrics_allow", problem)
    if s.metrics_token and (len(s.metrics_token) < 32 or any(c.isspace() for c in s.metrics_token)):
        raise SettingsError(f"setting metrics_token ({ENV_PREFIX}METRICS_TOKEN): expected at least 32 characters "
                            "without spaces (or leave it empty: /metrics then opens to metrics_allow only)")
    _validate_object_store(s, bad)
    for cat, rules in s.sla_overrides.items():
        for stage, limit in rules.items():
            if stage not in {"accept_seconds", "dispatch_seconds", "close_hours", "close_working_days"}:
                raise SettingsError(f"setting sla.{cat}.{stage}: unknown stage; expected accept_seconds, "
                                    "dispatch_seconds, close_hours or close_working_days")
            whole = stage != "close_hours"  # hours may be fractional; seconds and working days may not
            kinds = (int,) if whole else (int, float)
            if not isinstance(limit, kinds) or isinstance(limit, bool) or limit <= 0:
                what = "a positive whole number" if whole else "a positive number"
                raise SettingsError(f"setting sla.{cat}.{stage}: expected {what}, got {limit!r}")


def _validate_object_store(s: Settings, bad) -> None:
    """The object-store settings (issue 14): a usable URL, a role when there is one, no credentials anywhere."""
    import re

    for name in ("object_store_url", "object_store_endpoint"):
        if "@" in getattr(s, name):  # user:secret@host: said without echoing the value, which would log the secret
            raise SettingsError(f"setting {name} ({ENV_PREFIX}{name.upper()}): credentials do not belong in the URL; "
                                "give them to boto3 (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
                                "~/.aws/credentials), see docs/object-store.md")
    url = s.object_store_url.strip()
    if url:
        m = re.fullmatch(r"s3://([^/@:?#]+)(/[^?#@]*)?", url)
        if not m or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", m.group(1)):
            raise bad("object_store_url", "expected s3://bucket or s3://bucket/prefix with a valid bucket name "
                      "(3-63 lower-case letters, digits, dots, hyphens) and no credentials in it")
        if s.object_store_role not in {"publish", "pull"}:
            raise bad("object_store_role", "expected 'publish' (the writer host) or 'pull' (a web-only host) "
                      "when object_store_url is set")
    elif s.object_store_role:
        raise bad("object_store_role", "object_store_url is empty: set it too, or leave the role empty")
    endpoint = s.object_store_endpoint.strip()
    if endpoint and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[^\s?#@]*)?", endpoint):
        raise bad("object_store_endpoint", "expected http(s)://host[:port] without credentials")
    if s.object_store_region and not re.fullmatch(r"[a-z0-9-]{2,40}", s.object_store_region):
        raise bad("object_store_region", "expected a region name such as us-east-1 or cn-hangzhou")
    if s.object_store_addressing not in {"auto", "path", "virtual"}:
        raise bad("object_store_addressing", "expected 'auto', 'path' or 'virtual'")
    if not 1 <= s.object_store_poll_seconds <= 3600:
        raise bad("object_store_poll_seconds", "expected a whole number of seconds from 1 to 3600")
    if not 5 <= s.object_store_part_mb <= 5120:
        raise bad("object_store_part_mb", "expected MiB from 5 (S3's smallest part) to 5120 (its largest)")


def _allowed_hosts_error(value: str) -> str | None:
    """Why ``value`` is not a usable ``allowed_hosts`` setting, or ``None`` when it is.

    Usable: empty (the default list), ``*``, or comma-separated host names and IP addresses without
    scheme or port (``dash.example.org``, ``.example.org``, ``10.0.0.5``, ``::1``).
    """
    import ipaddress
    import re

    for entry in (e.strip() for e in value.split(",")):
        if not entry or entry == "*":
            continue
        try:
            ipaddress.ip_address(entry.strip("[]"))
            continue
        except ValueError:
            pass
        if not re.fullmatch(r"\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*",
                            entry):
            return (f"expected host names or IP addresses, comma-separated, without scheme or port "
                    f"(e.g. 'dash.example.org,10.0.0.5'; '*' allows any); {entry!r} is none")
    return None


def _networks_error(value: str) -> str | None:
    """Why ``value`` is not a usable ``metrics_allow`` setting (addresses or networks), or ``None`` when it is."""
    import ipaddress

    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return (f"expected IP addresses or networks, comma-separated (e.g. '127.0.0.0/8,::1,10.0.0.0/24'); "
                    f"{entry!r} is none")
    return None


def _cron_error(expression: str, timezone: str) -> str | None:
    """Why APScheduler would refuse ``expression`` (minute hour day month day-of-week), or ``None``."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=timezone)
    except ValueError as exc:
        return str(exc)
    return None


def calendar_error(code: str) -> str | None:
    """Why ``code`` is not a usable ``calendar`` setting, or ``None`` when it is.

    Usable: ``"cn"`` (the PRC statutory calendar) and the country or ``COUNTRY-SUBDIVISION`` codes
    the ``holidays`` package knows (``"US"``, ``"US-NY"``, ``"GB"``). ``metrics.calendar`` builds
    the working days from the same package; checking here makes an unknown code stop start-up.
    """
    if code == "cn":
        return None
    import holidays  # only deployments outside China need it at start-up

    country, _, subdiv = code.strip().partition("-")
    country, subdiv = country.upper(), subdiv.upper() or None
    if not country:
        return "expected 'cn' or a country code of the holidays package such as US, US-NY or GB"
    version = holidays.__version__
    try:
        holidays.country_holidays(country, years=2026)
    except NotImplementedError:
        return f"{country!r} is not a country of the holidays package {version}; expected 'cn' or a code such as US, US-NY or GB"
    if subdiv is not None:
        try:
            holidays.country_holidays(country, subdiv=subdiv, years=2026)
        except (NotImplementedError, ValueError):
            known = holidays.country_holidays(country).subdivisions
            return (f"{subdiv!r} is not a subdivision of {country} in the holidays package {version}; "
                    f"known: {', '.join(known) or 'none'}")
    return None


def load_settings(env: Mapping[str, str] | None = None, toml_path: Path | str | None = None) -> Settings:
    """Build settings from defaults, then the TOML file, then ``GRIDPULSE_*`` variables.

    Args:
        env: environment to read (default ``os.environ``).
        toml_path: TOML file; default ``$GRIDPULSE_CONFIG`` or ``./gridpulse.toml`` if it exists.

    Raises:
        SettingsError: an unknown ``GRIDPULSE_*`` variable or TOML key, or a value of the wrong
            type or out of range; the message names the setting.
    """
    env = os.environ if env is None else env
    known = {f.name: f for f in fields(Settings)}
    raw: dict[str, Any] = {}

    path = toml_path or env.get(ENV_PREFIX + "CONFIG")
    if path is None and Path("gridpulse.toml").exists():
        path = "gridpulse.toml"
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"setting CONFIG ({ENV_PREFIX}CONFIG): file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"setting CONFIG ({ENV_PREFIX}CONFIG): {path} is not valid TOML: {exc}") from None
        if "sla" in data:
            raw["sla_overrides"] = data.pop("sla")
        for key, value in data.items():
            if key not in known or key == "sla_overrides":
                raise SettingsError(f"setting {key} in {path}: unknown setting")
            raw[key] = value

    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name not in known or name == "sla_overrides":
            raise SettingsError(f"setting {key}: unknown GRIDPULSE_ variable")
        raw[name] = value

    values = {}
    for name, value in raw.items():
        f = known[name]
        values[name] = _convert(name, value, f.default, str(f.type))
    settings = Settings(**values)
    _validate(settings)
    return settings
