"""The nevowcache demo sites."""
