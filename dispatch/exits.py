"""The dispatch backend's exit statuses (docs/operations.md §2): what a supervisor does next."""

from __future__ import annotations

OK = 0  # stopped as asked (SIGTERM, SIGINT, the parent gone): nothing to do
FAILED = 1  # could not start or serve (the log's last lines say why): fix it, then start
USAGE = 2  # a bad command line or configuration file; nothing was changed
# The writer stopped for good (uncertain commit, database gone, disk full): start it again;
# it recovers from the database alone.
WRITER_STOPPED = 3

STATUSES = {
    "OK": OK,
    "FAILED": FAILED,
    "USAGE": USAGE,
    "WRITER_STOPPED": WRITER_STOPPED,
}
