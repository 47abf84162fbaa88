"""End-to-end tests: pullkey credentials against real registries (see README.md)."""
