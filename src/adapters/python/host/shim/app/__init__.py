"""toolport's stand-in for the ScaiWave `app` package: only what plugins import."""
