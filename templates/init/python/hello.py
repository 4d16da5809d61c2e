"""A ScaiWave plugin: a BasePlugin with a manifest and execute_tool. toolport runs it
unmodified; its tools are served as <manifest.id>__<tool name>, here hello__greet."""
import json

from app.plugins.base import BasePlugin
from app.plugins.protocol import PluginContext, PluginManifest, ToolDefinition


class HelloPlugin(BasePlugin):
    @property
    def manifest(self) -> PluginManifest:
        return PluginManifest(
            id="hello",
            name="Hello",
            version="0.1.0",
            description="Greets people.",
            tools=[
                ToolDefinition(
                    name="greet",
                    description="Say hello to someone by name.",
                    parameters={
                        "type": "object",
                        "properties": {"name": {"type": "string", "description": "Who to greet."}},
                        "required": ["name"],
                    },
                ),
            ],
        )

    async def get_system_context(self, ctx: PluginContext) -> "str | None":
        return None

    async def execute_tool(self, tool_name: str, args: str, ctx: PluginContext) -> str:
        # ScaiWave passes the arguments as the model's JSON text.
        parsed = json.loads(args)
        if tool_name == "greet":
            return f"Hello, {parsed['name']}!"
        return f"No tool called {tool_name}.\nFallback suggestions:\n- use greet"
