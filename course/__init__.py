"""Helpers shared by the course notebooks and their hidden tests."""
