"""Beer Olympics: run a backyard Olympics from phones."""

__version__ = "0.1.0"
