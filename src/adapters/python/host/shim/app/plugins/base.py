"""toolport's stand-in for `app.plugins.base`: the class every ScaiWave plugin extends."""
from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional

from app.plugins.protocol import PluginContext, PluginManifest

__all__ = ["BasePlugin"]


class BasePlugin(abc.ABC):
    """A ScaiWave plugin: a manifest of tools, an optional system-prompt contribution,
    and `execute_tool`, which receives the model's arguments as a JSON string."""

    @property
    @abc.abstractmethod
    def manifest(self) -> PluginManifest:
        raise NotImplementedError

    async def get_system_context(self, ctx: PluginContext) -> Optional[str]:
        return None

    async def execute_tool(self, tool_name: str, args: str, ctx: PluginContext) -> str:
        # ScaiWave plugins answer "" for a tool they do not know.
        return ""

    async def get_dynamic_tools(self, ctx: PluginContext) -> Optional[List[Dict[str, Any]]]:
        return None
