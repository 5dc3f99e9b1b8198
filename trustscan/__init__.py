"""The application: configuration, the facilitator's use cases, the CLI, preview and demo.

It sits between the domain (`surveys`, `analysis`) and the Telegram adapter (`bot`):
it imports the first two and never `telegram`; `bot` imports it.
"""
