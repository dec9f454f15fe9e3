"""The citizen session: a pure state machine, its views, and the effect runner (docs/session.md).

`machine.step(state, input, now)` is pure; `runner.SessionRunner` executes the effects it returns
through the ports (`ports.py`) off the caller's thread and posts the results back as events.
"""
