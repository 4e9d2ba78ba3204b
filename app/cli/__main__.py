"""``python -m app.cli``: the same as the ``opportunity`` command."""

from app.cli import main

main()
