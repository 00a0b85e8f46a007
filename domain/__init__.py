"""Supervision's middle: rules, queries, adapters and services (see the README's map).

Arrows run one way: services → queries, adapters → rules → models, config.
"""
