"""The trivial ScaiWave plugin the python benchmark calls: one echo tool."""
import json

from app.plugins.base import BasePlugin
from app.plugins.protocol import PluginContext, PluginManifest, ToolDefinition


class BenchEchoPlugin(BasePlugin):
    @property
    def manifest(self) -> PluginManifest:
        return PluginManifest(
            id="bench",
            name="Bench",
            version="1.0.0",
            description="Echo for benchmarks.",
            tools=[
                ToolDefinition(
                    name="echo",
                    description="Echo the text.",
                    parameters={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
                )
            ],
        )

    async def execute_tool(self, tool_name: str, args: str, ctx: PluginContext) -> str:
        return json.loads(args)["text"]
