"""``python -m dualduty``: the same as the ``dualduty`` command."""

from .cli import run

run()
