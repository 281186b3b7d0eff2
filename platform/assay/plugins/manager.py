"""The plugin manager factory: discovery, isolation of broken plugins, and the registry.

One manager per process, built on first use by :func:`get_plugins` (never at import
time), so tests can build isolated ones with :func:`build_plugins`. Each entry point in
the ``assay`` group is loaded on its own: a plugin that fails to import, declares an
incompatible API version, implements an unknown hook or returns something that is not a
Generator is skipped and recorded with its error (or raises, in strict mode), and the
rest of the platform keeps working.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy
from django.conf import settings
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from assay.plugins import hookspecs
from assay.plugins.contracts import PLUGIN_API_VERSION, Check, Generator

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "assay"
#: Test-only distributions (the dummy plugin) register here; only the test settings load it,
#: so a fixture installed by ``make test`` never reaches ``make run``.
TEST_ENTRY_POINT_GROUP = "assay.testing"


class PluginLoadError(RuntimeError):
    """Raised in strict mode when a plugin cannot be loaded."""


@dataclass
class PluginStatus:
    """What the status page and ``manage.py plugins`` show for one plugin."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""
    status: str = "ok"  # ok, failed, incompatible
    error: str = ""
    hooks: list[str] = field(default_factory=list)
    generators: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass
class Plugins:
    """A plugin manager plus what it registered and how each plugin fared."""

    pm: pluggy.PluginManager
    statuses: list[PluginStatus]
    generators: dict[str, type[Generator]]
    generator_plugin: dict[str, str]
    checks: dict[str, type[Check]]

    def generator(self, generator_id: str) -> type[Generator] | None:
        """The generator class registered under ``generator_id``."""
        return self.generators.get(generator_id)


def _api_compatible(module: ModuleType) -> str | None:
    """None when compatible, else the reason."""
    spec = getattr(module, "ASSAY_API", None)
    if spec is None:
        return None
    try:
        allowed = SpecifierSet(str(spec))
    except InvalidSpecifier:
        return f"ASSAY_API {spec!r} is not a version specifier such as '>=1,<2'"
    if Version(PLUGIN_API_VERSION) not in allowed:
        return f"needs Assay plugin API {spec}, this platform provides {PLUGIN_API_VERSION}"
    return None


def _fail(status: PluginStatus, kind: str, error: str, strict: bool) -> None:
    status.status = kind
    status.error = error
    log.warning("plugin %s skipped (%s): %s", status.name, kind, error.splitlines()[-1])
    if strict:
        raise PluginLoadError(f"plugin {status.name!r} {kind}: {error}")


def _collect(kind: type, results: Iterable[Any], known: dict[str, Any],
             owners: dict[str, str]) -> list[str]:
    """Type-check what a register_* hook returned and refuse duplicate ids."""
    ids: list[str] = []
    for item in results or ():
        if not (isinstance(item, type) and issubclass(item, kind)):
            raise TypeError(f"returned {item!r}, which is not a {kind.__name__} subclass")
        item_id = getattr(item, "id", None)
        if not item_id:
            raise TypeError(f"{item.__name__} has no id")
        if item_id in known and known[item_id] is not item:
            raise TypeError(f"{kind.__name__} id {item_id!r} is already registered by "
                            f"plugin {owners[item_id]!r}")
        ids.append(item_id)
    return ids


def build_plugins(
    *,
    strict: bool = False,
    entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
    extra: Iterable[tuple[str, Any]] = (),
    builtins: Iterable[str] | None = None,
) -> Plugins:
    """Build a plugin manager from entry points (and ``extra`` (name, module) pairs).

    Args:
        strict: raise :class:`PluginLoadError` on the first broken plugin (tests, CI).
        entry_points: the entry points to load; default, the installed entry points of
            ``settings.ASSAY_PLUGIN_GROUPS`` (``assay``; the test settings add
            ``assay.testing``).
        extra: objects registered as if they came from entry points (tests).
        builtins: dotted module paths of the platform's own hook implementations (the
            governance apps: quotas, usage, checks, signing); default
            ``settings.ASSAY_BUILTIN_PLUGINS``. They are how a lower layer reaches a higher
            one, so they are never skipped: one that fails to load raises.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if builtins is None:
        builtins = getattr(settings, "ASSAY_BUILTIN_PLUGINS", ()) if settings.configured else ()
    for path in builtins:
        pm.register(importlib.import_module(path), name=f"builtin:{path}")
    pm.check_pending()
    if entry_points is None:
        groups = (getattr(settings, "ASSAY_PLUGIN_GROUPS", None) if settings.configured
                  else None) or [ENTRY_POINT_GROUP]
        entry_points = [ep for group in groups
                        for ep in importlib.metadata.entry_points(group=group)]
    statuses: list[PluginStatus] = []
    generators: dict[str, type[Generator]] = {}
    generator_plugin: dict[str, str] = {}
    checks: dict[str, type[Check]] = {}
    check_plugin: dict[str, str] = {}

    candidates: list[tuple[PluginStatus, Any]] = []
    for ep in sorted(entry_points, key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        status = PluginStatus(
            name=ep.name,
            module=ep.value,
            distribution=dist.metadata["Name"] if dist is not None else "",
            version=dist.version if dist is not None else "",
        )
        statuses.append(status)
        try:
            candidates.append((status, ep.load()))
        except Exception:
            _fail(status, "failed", traceback.format_exc(limit=3).strip(), strict)
    for name, obj in extra:
        status = PluginStatus(name=name, module=getattr(obj, "__name__", repr(obj)))
        statuses.append(status)
        candidates.append((status, obj))

    for status, plugin in candidates:
        if isinstance(plugin, ModuleType):
            reason = _api_compatible(plugin)
            if reason:
                _fail(status, "incompatible", reason, strict)
                continue
        try:
            pm.register(plugin, name=status.name)
            pm.check_pending()
        except Exception as exc:
            if pm.is_registered(plugin):
                pm.unregister(plugin)
            _fail(status, "failed", f"{type(exc).__name__}: {exc}", strict)
            continue
        status.hooks = sorted(impl.name for impl in pm.get_hookcallers(plugin) or ())
        try:
            gen_classes = _call_one(pm, plugin, "register_generators")
            check_classes = _call_one(pm, plugin, "register_checks")
            status.generators = _collect(Generator, gen_classes, generators, generator_plugin)
            status.checks = _collect(Check, check_classes, checks, check_plugin)
        except Exception as exc:
            pm.unregister(plugin)
            _fail(status, "failed", f"{type(exc).__name__}: {exc}", strict)
            continue
        for cls in gen_classes:
            generators[cls.id] = cls
            generator_plugin[cls.id] = status.name
        for cls in check_classes:
            checks[cls.id] = cls
            check_plugin[cls.id] = status.name
    return Plugins(pm, statuses, generators, generator_plugin, checks)


def _call_one(pm: pluggy.PluginManager, plugin: Any, hook_name: str) -> list[Any]:
    """Call one plugin's implementation of a register_* hook (keyword-only, like pluggy)."""
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        if impl.plugin is plugin:
            return list(impl.function() or [])
    return []


_lock = threading.Lock()


@functools.cache
def _process_plugins() -> Plugins:
    return build_plugins(strict=settings.ASSAY_PLUGINS_STRICT)


def get_plugins() -> Plugins:
    """The process's plugin manager, built on first use."""
    with _lock:
        return _process_plugins()


def reset_plugins() -> None:
    """Forget the process's manager (tests that install plugins call this)."""
    with _lock:
        _process_plugins.cache_clear()
