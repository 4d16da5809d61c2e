"""Reading list plugin — remembers links to read later, per room."""
import json
from datetime import datetime, timezone

from app.plugins.base import BasePlugin
from app.plugins.protocol import (
    PluginContext,
    PluginManifest,
    ToolDefinition,
)


class ReadingListPlugin(BasePlugin):
    def __init__(self) -> None:
        # room id -> list of saved entries; kept for the life of the host process.
        self._lists: dict = {}

    @property
    def manifest(self) -> PluginManifest:
        return PluginManifest(
            id="examples.reading_list",
            name="Reading list",
            version="1.0.0",
            description="Save links to read later and find them again.",
            injects_context=True,
            tools=[
                ToolDefinition(
                    name="save_link",
                    description=(
                        "Save a link to the reading list of this conversation. "
                        "Use when the user asks to keep a page for later."
                    ),
                    usage="[/save <url> [title]]",
                    parameters={
                        "type": "object",
                        "properties": {
                            "url": {"type": "string", "description": "The address to save."},
                            "title": {"type": "string", "description": "A short title (optional)."},
                            "tags": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "Words to find the link by later (optional).",
                            },
                        },
                        "required": ["url"],
                    },
                    side_effects=True,
                ),
                ToolDefinition(
                    name="list_links",
                    description=(
                        "Show the saved links of this conversation, newest first, "
                        "optionally only those with a tag or a word in the title."
                    ),
                    usage="[/links [filter]]",
                    parameters={
                        "type": "object",
                        "properties": {
                            "filter": {"type": "string", "description": "A tag or a word of the title."},
                        },
                    },
                ),
            ],
        )

    async def get_system_context(self, ctx: PluginContext) -> "str | None":
        saved = self._lists.get(ctx.room_id) or []
        if not saved:
            return "The reading list of this conversation is empty; offer save_link when the user shares a page to read later."
        return f"The reading list of this conversation has {len(saved)} link(s); list_links shows them."

    async def execute_tool(self, tool_name: str, args: str, ctx: PluginContext) -> str:
        try:
            parsed = json.loads(args) if isinstance(args, str) else args
        except (ValueError, TypeError):
            parsed = {}
        saved = self._lists.setdefault(ctx.room_id, [])
        if tool_name == "save_link":
            url = str(parsed.get("url") or "").strip()
            if not url.startswith(("http://", "https://")):
                return (
                    f"Could not save {url!r}: only http(s) links can be saved.\n"
                    "Fallback suggestions: ask the user for the full address, starting with https://"
                )
            entry = {
                "url": url,
                "title": (parsed.get("title") or url).strip(),
                "tags": [str(tag).lower() for tag in parsed.get("tags") or []],
                "saved": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            }
            saved.append(entry)
            return f"Saved \u201c{entry['title']}\u201d ({len(saved)} link(s) on the list)."
        if tool_name == "list_links":
            needle = str(parsed.get("filter") or "").lower()
            found = [
                entry
                for entry in reversed(saved)
                if not needle or needle in entry["tags"] or needle in entry["title"].lower()
            ]
            if not found:
                return "No saved links" + (f" matching {needle!r}." if needle else " yet.")
            return "\n".join(f"- {entry['title']} <{entry['url']}> (saved {entry['saved']})" for entry in found)
        return ""
