"""``python -m services.cli``: the same as the ``corespond`` command."""

from services.cli.main import main

main()
