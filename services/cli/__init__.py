"""The ``corespond`` command line: up, dlq, bench."""
