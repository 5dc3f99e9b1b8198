"""Short, friendly texts for rejected answers, in every language, shared by all adapters."""

from __future__ import annotations

from .errors import AnswerError

HINTS: dict[str, dict[str, str]] = {
    "out_of_range": {
        "nl": "Kies een waarde van {low} tot en met {high}.",
        "en": "Choose a value from {low} to {high}.",
    },
    "unknown_option": {
        "nl": "Kies een van de gegeven mogelijkheden.",
        "en": "Choose one of the options given.",
    },
    "choose_between": {
        "nl": "Kies er minimaal {low} en maximaal {high}.",
        "en": "Choose at least {low} and at most {high}.",
    },
    "allocate_total": {
        "nl": "De punten moeten samen precies {total} zijn (nu {got}).",
        "en": "The points must add up to exactly {total} (now {got}).",
    },
    "allocate_shape": {
        "nl": "Geef voor elk van de {count} mogelijkheden een aantal punten (0 of meer).",
        "en": "Give a number of points (0 or more) for each of the {count} options.",
    },
    "empty_text": {
        "nl": "Typ je antwoord als bericht.",
        "en": "Type your answer as a message.",
    },
    "too_long": {
        "nl": "Dat is te lang: maximaal {limit} tekens (nu {got}).",
        "en": "That is too long: at most {limit} characters (now {got}).",
    },
    "no_dont_know": {
        "nl": "Bij deze vraag is 'weet niet' geen mogelijkheid.",
        "en": "'Don't know' is not possible for this question.",
    },
    "required": {
        "nl": "Deze vraag kun je niet overslaan.",
        "en": "This question cannot be skipped.",
    },
    "at_start": {
        "nl": "Dit is de eerste vraag.",
        "en": "This is the first question.",
    },
    "stale": {
        "nl": "Die knop hoort bij een eerdere vraag.",
        "en": "That button belongs to an earlier question.",
    },
    "needs_answer": {
        "nl": "Deze vraag heeft een antwoord nodig.",
        "en": "This question needs an answer.",
    },
    "no_answer": {
        "nl": "Hier hoort geen antwoord bij.",
        "en": "This takes no answer.",
    },
}


def hint(error: AnswerError, lang: str) -> str:
    texts = HINTS.get(error.code, HINTS["unknown_option"])
    return texts.get(lang, texts["nl"]).format(**error.params)
