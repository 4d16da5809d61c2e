"""An example ScaiWave plugin package for toolport, registered the way ScaiWave's
app/plugins/builtin/__init__.py registers its plugins."""
from app.plugins.builtin.reading_list import ReadingListPlugin

BUILTIN_PLUGINS = [
    ReadingListPlugin(),
]
