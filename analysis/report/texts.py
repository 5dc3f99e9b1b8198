"""The report's words: one text table, `tr` to look a key up with numbers formatted.

Dutch numbers get a decimal comma; every other language keeps Python's formatting.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

TEXT = {
    "title": {"nl": "Rapportage", "en": "Report"},
    "findings": {"nl": "Belangrijkste bevindingen", "en": "Key findings"},
    "strongest": {
        "nl": "{org}: sterkst op {best} ({best_v:.1f}), zwakst op {worst} ({worst_v:.1f}).",
        "en": "{org}: strongest on {best} ({best_v:.1f}), weakest on {worst} ({worst_v:.1f}).",
    },
    "even": {
        "nl": "{org}: alle dimensies liggen dicht bij elkaar (rond {v:.1f}).",
        "en": "{org}: all dimensions lie close together (around {v:.1f}).",
    },
    "one_sided": {
        "nl": "Meest eenzijdige vertrouwensrelatie: {a} vertrouwt {b} {x:.1f}, "
        "{b} vertrouwt {a} {y:.1f}.",
        "en": "Most one-sided trust relation: {a} trusts {b} {x:.1f}, {b} trusts {a} {y:.1f}.",
    },
    "change": {
        "nl": "Grootste significante verandering sinds de vorige meting: {org} op "
        "{dim}, van {a:.2f} naar {b:.2f} (Hedges' g = {g:.2f}).",
        "en": "Largest significant change since the previous measurement: {org} on "
        "{dim}, from {a:.2f} to {b:.2f} (Hedges' g = {g:.2f}).",
    },
    "pair_change": {
        "nl": "Grootste verandering in vertrouwen tussen partners: {a} in {b}, van "
        "{x:.1f} naar {y:.1f} (significant, Hedges' g = {g:.2f}).",
        "en": "Largest change in trust between partners: {a} in {b}, from {x:.1f} "
        "to {y:.1f} (significant, Hedges' g = {g:.2f}).",
    },
    "distance": {
        "nl": "De culturen van {a} en {b} liggen het verst uiteen: {d:.0f} van de 100 "
        "punten zouden moeten verschuiven.",
        "en": "The cultures of {a} and {b} differ "
        "most: {d:.0f} of the 100 points would have to move.",
    },
    "no_change": {
        "nl": "Geen van de verschillen met de vorige meting is statistisch "
        "significant (na Holm-correctie).",
        "en": "None of the differences with the "
        "previous measurement is statistically significant (after Holm correction).",
    },
    "culture_gap": {
        "nl": "Grootste cultuurwens: {org} wil {dir} {type} ({gap:+.0f} punten).",
        "en": "Largest culture wish: {org} wants {dir} {type} ({gap:+.0f} points).",
    },
    "more": {"nl": "meer", "en": "more"},
    "less": {"nl": "minder", "en": "less"},
    "open_wave": {
        "nl": "Meting {name} loopt nog: alleen het aantal ingevulde vragenlijsten is "
        "zichtbaar; resultaten volgen na sluiting.",
        "en": "Measurement {name} is "
        "still open: only the number of completed questionnaires is shown; results "
        "follow after closing.",
    },
    "nothing": {
        "nl": "Geen enkele groep is groot genoeg (minimaal {k}) om uitkomsten te tonen.",
        "en": "No group is large enough (at least {k}) to show results.",
    },
    "comments": {"nl": "Opmerkingen", "en": "Comments"},
    "comments_of": {
        "nl": "Uit de meting {wave}, per organisatie in willekeurige volgorde.",
        "en": "From the measurement {wave}, per organisation in random order.",
    },
    "no_comments": {
        "nl": "Geen opmerkingen om te tonen (alleen groepen van minstens {k} mensen).",
        "en": "No comments to show (only groups of at least {k} people).",
    },
    "methods": {"nl": "Verantwoording", "en": "Methods"},
    "methods_text": {
        "nl": "Uitkomsten worden alleen getoond voor groepen van minstens {k} respondenten; "
        "waar een groep te klein is, worden zoveel andere groepen mee verborgen dat niets "
        "door aftrekken te herleiden is. Opmerkingen alleen voor groepen van minstens "
        "{kc}, in willekeurige volgorde. Stellingen in omgekeerde richting zijn "
        "gespiegeld; 'weet niet' telt als ontbrekend; een dimensiescore is het gemiddelde "
        "van de beantwoorde stellingen als minstens de helft is beantwoord. Intervallen: "
        "95% op basis van de t-verdeling. Veranderingen: Welch-t-toets, effectgrootte "
        "Hedges' g, Holm-correctie over één familie: precies de getoonde vergelijkingen van "
        "dit rapport (verborgen groepen worden niet getoetst). Rollen en stellingen: alleen "
        "organisaties waarvan de uitkomst getoond wordt; aantallen per rol binnen een "
        "organisatie worden net als scores aanvullend verborgen. Betrouwbaarheid: Cronbachs "
        "alfa per meting, over de stellingen die iedereen kreeg (onder 0,7 gemarkeerd).",
        "en": "Results are shown only for groups of at least {k} respondents; where a group "
        "is too small, enough other groups are hidden too that nothing can be derived by "
        "subtraction. Comments only for groups of at least {kc}, in random order. "
        "Reverse-worded statements are mirrored; 'don't know' counts as missing; a "
        "dimension score is the mean of the answered statements when at least half were "
        "answered. Intervals: 95% from the t distribution. Changes: Welch's t-test, effect "
        "size Hedges' g, Holm correction over one family: exactly the comparisons shown in "
        "this report (hidden groups are not tested). Roles and statements: only "
        "organisations whose results are shown; counts per role within an organisation "
        "get the same complementary suppression as scores. Reliability: Cronbach's alpha "
        "per measurement, over the statements everyone was asked (flagged below 0.7).",
    },
    "group_sizes": {"nl": "Aantal respondenten per groep", "en": "Respondents per group"},
    "oversubscribed": {
        "nl": "Meer antwoorden dan mensen",
        "en": "More responses than people",
    },
    "oversubscribed_org": {
        "nl": "{wave}, {org}: meer antwoorden dan de {headcount} mensen van de organisatie.",
        "en": "{wave}, {org}: more responses than the organisation's {headcount} people.",
    },
    "oversubscribed_role": {
        "nl": "{wave}, {org} / {role}: meer antwoorden dan de {headcount} mensen in deze rol.",
        "en": "{wave}, {org} / {role}: more responses than the {headcount} people in this role.",
    },
    "oversubscribed_note": {
        "nl": "De link is waarschijnlijk buiten de groep gedeeld; lees deze uitkomsten met "
        "die kanttekening.",
        "en": "The link probably travelled outside the group; read these results with that "
        "in mind.",
    },
    "culture_hidden": {
        "nl": "Geen cultuurprofiel voor {orgs}: minder dan {k} respondenten.",
        "en": "No culture profile for {orgs}: fewer than {k} respondents.",
    },
    "alpha": {"nl": "Betrouwbaarheid per dimensie", "en": "Reliability per dimension"},
    "col_wave": {"nl": "Meting", "en": "Measurement"},
    "col_org": {"nl": "Organisatie", "en": "Organisation"},
    "col_role": {"nl": "Rol", "en": "Role"},
    "col_dimension": {"nl": "Dimensie", "en": "Dimension"},
    "col_items": {"nl": "Stellingen", "en": "Statements"},
    "no_alpha": {
        "nl": "minder dan twee stellingen die iedereen kreeg: geen alfa",
        "en": "fewer than two statements asked of everyone: no alpha",
    },
    "low_alpha": {
        "nl": "onder 0,7: voorzichtig interpreteren",
        "en": "below 0.7: interpret with care",
    },
}


class _Numbers(string.Formatter):
    """Formats numbers with a decimal comma (Dutch); everything else as usual."""

    def format_field(self, value: Any, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        is_number = isinstance(value, int | float | np.number) and not isinstance(value, bool)
        return text.replace(".", ",") if is_number else text


DUTCH_NUMBERS = _Numbers()


def tr(key: str, lang: str, **params: object) -> str:
    """The report's words for `key` in `lang` (Dutch when missing), numbers as written there."""
    text = TEXT[key].get(lang, TEXT[key]["nl"])
    if not params:
        return text
    return DUTCH_NUMBERS.format(text, **params) if lang == "nl" else text.format(**params)
