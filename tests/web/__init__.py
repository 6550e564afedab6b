"""Tests of the web app (a package, so its conftest and module names never clash with the tests above)."""
