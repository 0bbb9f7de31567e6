"""Helpers several test suites share: real processes, clouds and clients to drive them.

Imported as `tests._support.<module>` (pytest puts the repository root on sys.path, see
`pythonpath` in pyproject.toml). Nothing here is a test; fixtures stay in conftest.py
files and build on these.
"""
