"""What the tests share besides fixtures: ``from helpers.<module> import ...`` (``tests/`` is on the path).

- `helpers.media`: the real test data and generated footage;
- `helpers.cli`: running the ``camsift`` command;
- `helpers.service`, `helpers.notify`, `helpers.web`, `helpers.drive`: servers, ports and waits;
- `helpers.blink_fake`, `helpers.blink`, `helpers.blink_fixtures`: the fake Blink cloud.
"""
