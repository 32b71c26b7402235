"""Calls the benchmarks push through: one of each kind a centre takes, as call-takers type."""

from typing import Any

SAMPLE_CALLS: list[dict[str, Any]] = [
    {
        "narrative": "friend found him nodding out in the bathroom, lips blue, used fentanyl",
        "answers": {"breathing": True, "conscious": False, "overdose_suspected": True},
    },
    {
        "narrative": "my brother is hearing voices and pacing, no weapons, hasn't hurt anyone",
        "answers": {"weapons": False, "violence": False},
    },
    {
        "narrative": "elderly neighbour confused wandering outside in the cold",
        "answers": {"weapons": False},
    },
    {
        "narrative": "man yelling and swinging a knife at people outside the store",
        "answers": {"weapons": True, "violence": True},
    },
    {
        "narrative": "she says she wants to die, took a bottle of pills an hour ago",
        "answers": {"suicidal": True},
    },
]

# For the engine alone: more language (Spanish, slang, negation) and both policies.
ENGINE_EXTRA_CALLS: list[dict[str, Any]] = [
    {"narrative": "mi hijo está muy borracho y no responde, hay niños en la casa"},
    {"narrative": "guy on the overpass threatening to jump", "jurisdiction": "rural"},
    {
        "narrative": "dope sick and fiending, wants detox, denies taking anything today",
        "source": "988",
    },
]
