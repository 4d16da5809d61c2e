"""toolport's stand-in for `app.plugins`: the plugin base class and protocol types."""
