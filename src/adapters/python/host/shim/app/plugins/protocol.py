"""toolport's stand-in for `app.plugins.protocol`: the types a ScaiWave plugin builds its
manifest and reads its context from. Field names and defaults follow ScaiWave's public
docs; keyword arguments this version does not know are kept in `extra_fields` (and
logged) so a plugin written for a newer ScaiWave still loads."""
from __future__ import annotations

import enum
import functools
import logging
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, List, Optional

__all__ = [
    "PluginPermission",
    "ToolDefinition",
    "PluginManifest",
    "PluginContext",
    "TenantContext",
]

_log = logging.getLogger("toolport.host")


def _tolerant(cls):
    """Accept unknown keyword arguments instead of failing the whole plugin import."""
    init = cls.__init__
    known = {f.name for f in fields(cls)}

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        unknown = {key: kwargs.pop(key) for key in list(kwargs) if key not in known}
        init(self, *args, **kwargs)
        if unknown:
            object.__setattr__(self, "extra_fields", {**self.extra_fields, **unknown})
            _log.warning(
                "%s: ignoring fields toolport does not know: %s",
                cls.__name__,
                ", ".join(sorted(unknown)),
            )

    cls.__init__ = __init__
    return cls


class _PermissionMeta(enum.EnumMeta):
    # ScaiWave's full permission list is not public; an unknown UPPER_CASE member
    # becomes a permission of that name rather than an AttributeError at import.
    def __getattr__(cls, name: str):
        if name.isupper() and not name.startswith("_"):
            known = cls._member_map_.get(name)
            if known is not None:
                return known
            member = str.__new__(cls, name)
            member._name_ = name
            member._value_ = name
            cls._member_map_[name] = member
            cls._value2member_map_[name] = member
            _log.warning("PluginPermission.%s is not a documented permission; using it by name", name)
            return member
        raise AttributeError(name)


class PluginPermission(str, enum.Enum, metaclass=_PermissionMeta):
    """What a plugin may do. Values equal names, so config grants use the same words."""

    READ_MESSAGES = "READ_MESSAGES"
    WRITE_MESSAGES = "WRITE_MESSAGES"
    READ_NOTES = "READ_NOTES"
    WRITE_NOTES = "WRITE_NOTES"
    EXTERNAL_HTTP = "EXTERNAL_HTTP"
    SEARCH = "SEARCH"
    READ_USERS = "READ_USERS"
    MANAGE_TASKS = "MANAGE_TASKS"

    def __str__(self) -> str:
        return self.value


@_tolerant
@dataclass(frozen=True)
class ToolDefinition:
    """One function the model can call. `parameters` is an OpenAI-style JSON Schema."""

    name: str
    description: str
    parameters: Dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    usage: Optional[str] = None
    permissions_required: List[Any] = field(default_factory=list)
    side_effects: bool = False
    extra_fields: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@_tolerant
@dataclass(frozen=True)
class PluginManifest:
    """Who the plugin is (`id` is "owner.name") and which tools it contributes."""

    id: str
    name: str
    version: str
    description: str
    tools: List[ToolDefinition] = field(default_factory=list)
    permissions: List[Any] = field(default_factory=list)
    injects_context: bool = False
    scope: Optional[str] = None
    extra_fields: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class TenantContext:
    """The tenant a call runs for: the `tenant` map of the plugin's toolport config,
    read-only, with attribute and item access."""

    __slots__ = ("_values",)

    def __init__(self, values: Optional[Dict[str, Any]] = None, **more: Any) -> None:
        object.__setattr__(self, "_values", {**(values or {}), **more})

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(
            f"tenant has no '{name}'; add it under 'tenant:' in this plugin's toolport config"
        )

    def __getitem__(self, name: str) -> Any:
        return object.__getattribute__(self, "_values")[name]

    def get(self, name: str, default: Any = None) -> Any:
        return object.__getattribute__(self, "_values").get(name, default)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("TenantContext is read-only")

    def __repr__(self) -> str:
        return f"TenantContext({object.__getattribute__(self, '_values')!r})"


@dataclass
class PluginContext:
    """What a tool call can reach. toolport fills what it knows (see its README); the
    services it does not have (db, redis, arq, scaigrid) are None unless configured."""

    db: Any = None
    tenant: Any = None
    settings: Any = None
    redis: Any = None
    room_id: Optional[str] = None
    sender_id: Optional[str] = None
    user_token: Optional[str] = None
    scaigrid: Any = None
    arq: Any = None
    approval_service: Any = None
    event_service_factory: Optional[Callable[..., Any]] = None
    # toolport's own: ask the user (`await ctx.elicit(message, schema)`) or the client's
    # model (`await ctx.sample(prompt, max_tokens=...)`) while the tool runs.
    elicit: Optional[Callable[..., Any]] = None
    sample: Optional[Callable[..., Any]] = None
