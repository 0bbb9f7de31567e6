"""Lambic: the local serverless cloud (API gateway, execution environments, event sources)."""
