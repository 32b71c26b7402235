"""Whether a unit speaks the caller's language: the same primary language, whatever the region.

A caller tagged ``es-MX`` is helped by a unit that speaks ``es`` or ``es-US``:
regional differences do not stop a conversation in a crisis, and rosters
rarely say more than ``es``. Script matters only in writing, and an SMS is not
the conversation, so it is ignored as well.
"""

from collections.abc import Iterable

from schemas.languages import primary_language


def spoken(unit_languages: Iterable[str], caller: str | None) -> str | None:
    """The unit's language tag that serves ``caller``'s language (an exact tag first), or None."""
    if not caller:
        return None
    tags = sorted(unit_languages)
    for tag in tags:
        if tag.lower() == caller.lower():
            return tag
    wanted = primary_language(caller)
    return next((tag for tag in tags if primary_language(tag) == wanted), None)
