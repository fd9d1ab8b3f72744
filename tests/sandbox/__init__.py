"""The sandbox's tests, by concern (a package, so its ``conftest`` has a name of its own)."""
