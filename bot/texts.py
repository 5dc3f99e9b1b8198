"""Every text the bot says, in Dutch and English. Question texts live in the surveys."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "nl": "Welkom bij de <b>{survey}</b> van {partnership}, voor medewerkers van "
        "<b>{org}</b>.\n\n{intro}",
        "en": "Welcome to the <b>{survey}</b> of {partnership}, for people of <b>{org}</b>."
        "\n\n{intro}",
    },
    "privacy": {
        "nl": "<b>Zo blijft het anoniem</b>\n"
        "• Iedereen van je organisatie gebruikt dezelfde link; niemand krijgt een "
        "persoonlijke link.\n"
        "• Je naam en Telegram-gegevens worden nooit bij je antwoorden opgeslagen. Om te "
        "kunnen pauzeren bewaren we alleen een eenrichtingscode; zodra je klaar bent, wijst "
        "ook die niet meer naar je antwoorden. Sluit de meting, dan wordt de sleutel "
        "vernietigd.\n"
        "• Antwoorden krijgen geen tijdstip en staan in willekeurige volgorde.\n"
        "• Uitkomsten worden alleen getoond voor groepen van minstens {k} mensen; "
        "opmerkingen alleen voor groepen van minstens {k_comments}.\n"
        "• Resultaten komen pas beschikbaar als de meting gesloten is.\n"
        "• Zolang je bezig bent kun je je antwoorden wissen met /delete. Na afloop kan dat "
        "niet meer: niets verbindt ze dan nog met jou.",
        "en": "<b>How your anonymity is kept</b>\n"
        "• Everyone in your organisation uses the same link; nobody gets a personal link.\n"
        "• Your name and Telegram details are never stored with your answers. To let you "
        "pause, we keep only a one-way code; as soon as you finish, even that no longer "
        "points to your answers. When the measurement closes, its key is destroyed.\n"
        "• Answers carry no time and are stored in random order.\n"
        "• Results are shown only for groups of at least {k} people; comments only for "
        "groups of at least {k_comments}.\n"
        "• Results become available only after the measurement has closed.\n"
        "• While you are busy you can erase your answers with /delete. Afterwards that is "
        "impossible: nothing links them to you any more.",
    },
    "consent_button": {"nl": "Ik doe mee", "en": "I'll take part"},
    "choose_role": {"nl": "Wat is je rol?", "en": "What is your role?"},
    "progress": {"nl": "Vraag {pos} van {total}", "en": "Question {pos} of {total}"},
    "back": {"nl": "« Terug", "en": "« Back"},
    "skip": {"nl": "Overslaan", "en": "Skip"},
    "dont_know": {"nl": "Weet niet", "en": "Don't know"},
    "next": {"nl": "Verder »", "en": "Next »"},
    "done_button": {"nl": "Klaar ✓", "en": "Done ✓"},
    "multi_hint": {
        "nl": "Tik om aan/uit te zetten (minimaal {low}, maximaal {high}), dan Klaar.",
        "en": "Tap to select or deselect (at least {low}, at most {high}), then Done.",
    },
    "allocate_hint": {
        "nl": "Verdeel {total} punten met + en −. Nog te verdelen: <b>{left}</b>.",
        "en": "Divide {total} points with + and −. Still to divide: <b>{left}</b>.",
    },
    "text_hint": {
        "nl": "Typ je antwoord als bericht (maximaal {limit} tekens).",
        "en": "Type your answer as a message (at most {limit} characters).",
    },
    "nps_scale": {"nl": "0 = {low} … 10 = {high}", "en": "0 = {low} … 10 = {high}"},
    "thanks": {
        "nl": "<b>Dank je wel!</b> Je antwoorden zijn opgeslagen en niet meer met jou "
        "te verbinden.",
        "en": "<b>Thank you!</b> Your answers are stored and can no longer be linked to you.",
    },
    "notify_button": {
        "nl": "🔔 Laat me weten als de volgende meting opent",
        "en": "🔔 Tell me when the next measurement opens",
    },
    "notify_ok": {
        "nl": "Goed, je hoort het als de volgende meting opent. Afmelden: /stop.",
        "en": "Fine, you'll hear when the next measurement opens. To unsubscribe: /stop.",
    },
    "no_token": {
        "nl": "Hallo! Deze bot voert anonieme vertrouwensscans uit. Open de link of QR-code "
        "die je van je organisatie hebt gekregen om mee te doen.",
        "en": "Hello! This bot runs anonymous trust scans. Open the link or QR code you "
        "received from your organisation to take part.",
    },
    "bad_token": {
        "nl": "Deze link is niet (meer) geldig. Vraag je organisatie om de juiste link.",
        "en": "This link is not valid (any more). Ask your organisation for the right link.",
    },
    "wave_closed": {
        "nl": "Deze meting is gesloten. Dank voor je belangstelling!",
        "en": "This measurement has closed. Thank you for your interest!",
    },
    "no_open_wave": {
        "nl": "Er loopt op dit moment geen meting. Probeer het later nog eens.",
        "en": "No measurement is running right now. Please try again later.",
    },
    "already_done": {
        "nl": "Je hebt deze meting al ingevuld. Dank je wel!",
        "en": "You have already completed this measurement. Thank you!",
    },
    "resume": {
        "nl": "Welkom terug! We gaan verder waar je was.",
        "en": "Welcome back! Let's continue where you were.",
    },
    "outdated": {
        "nl": "Deze knop hoort bij een eerdere vraag.",
        "en": "This button belongs to an earlier question.",
    },
    "not_in_survey": {
        "nl": "Je doet nu niet mee aan een meting. Open de link van je organisatie om te beginnen.",
        "en": "You are not taking part in a measurement right now. Open your organisation's "
        "link to begin.",
    },
    "use_buttons": {
        "nl": "Gebruik de knoppen onder de vraag om te antwoorden.",
        "en": "Please use the buttons below the question to answer.",
    },
    "help": {
        "nl": "Deze bot stelt je een korte, anonieme vragenlijst over de samenwerking.\n\n"
        "/start – beginnen of verdergaan\n/privacy – hoe je anonimiteit geborgd is\n"
        "/language – taal wijzigen (Nederlands/English)\n/stop – pauzeren (/start gaat "
        "verder)\n/delete – je antwoorden wissen zolang je bezig bent",
        "en": "This bot asks you a short, anonymous questionnaire about the partnership.\n\n"
        "/start – begin or continue\n/privacy – how your anonymity is protected\n"
        "/language – change language (Nederlands/English)\n/stop – pause (/start "
        "continues)\n/delete – erase your answers while you are busy",
    },
    "stopped": {
        "nl": "Gepauzeerd. Je antwoorden tot nu toe zijn bewaard; met /start ga je verder.",
        "en": "Paused. Your answers so far are kept; /start continues.",
    },
    "unsubscribed": {
        "nl": "Je krijgt geen berichten meer over nieuwe metingen.",
        "en": "You will no longer receive messages about new measurements.",
    },
    "delete_confirm": {
        "nl": "Weet je zeker dat je je antwoorden van deze meting wilt wissen?",
        "en": "Are you sure you want to erase your answers of this measurement?",
    },
    "delete_yes": {"nl": "Ja, wissen", "en": "Yes, erase"},
    "cancel": {"nl": "Annuleren", "en": "Cancel"},
    "deleted": {
        "nl": "Je antwoorden zijn gewist. Met de link van je organisatie kun je opnieuw beginnen.",
        "en": "Your answers are erased. You can start again with your organisation's link.",
    },
    "nothing_to_delete": {
        "nl": "Er zijn geen antwoorden in behandeling om te wissen. Ingevulde metingen zijn "
        "niet meer met jou te verbinden en dus ook niet te wissen.",
        "en": "There are no answers in progress to erase. Completed measurements can no "
        "longer be linked to you, so they cannot be erased either.",
    },
    "cancelled": {"nl": "Geannuleerd.", "en": "Cancelled."},
    "language_set": {"nl": "De taal is nu Nederlands.", "en": "The language is now English."},
    "error": {
        "nl": "Er ging iets mis. Probeer het nog eens; je eerdere antwoorden zijn bewaard.",
        "en": "Something went wrong. Please try again; your earlier answers are kept.",
    },
    "not_allowed": {
        "nl": "Dit commando is alleen voor begeleiders.",
        "en": "This command is for facilitators only.",
    },
    "reminder": {
        "nl": "Herinnering: de meting <b>{survey}</b> sluit over {days} dag(en). Je bent nog "
        "niet klaar; met /start ga je verder waar je was.",
        "en": "Reminder: the <b>{survey}</b> measurement closes in {days} day(s). You haven't "
        "finished yet; /start continues where you were.",
    },
    "new_wave": {
        "nl": "Er is een nieuwe meting geopend: <b>{survey}</b>. Doe je weer mee? {link}",
        "en": "A new measurement has opened: <b>{survey}</b>. Will you take part again? {link}",
    },
}

COMMANDS: dict[str, list[tuple[str, str]]] = {
    "nl": [
        ("start", "Beginnen of verdergaan"),
        ("help", "Uitleg"),
        ("privacy", "Hoe je anonimiteit geborgd is"),
        ("language", "Taal wijzigen / change language"),
        ("stop", "Pauzeren"),
        ("delete", "Antwoorden in behandeling wissen"),
    ],
    "en": [
        ("start", "Begin or continue"),
        ("help", "How it works"),
        ("privacy", "How your anonymity is protected"),
        ("language", "Change language / taal wijzigen"),
        ("stop", "Pause"),
        ("delete", "Erase answers in progress"),
    ],
}


def t(key: str, lang: str, **params: object) -> str:
    texts = TEXTS[key]
    return texts.get(lang, texts["nl"]).format(**params) if params else texts.get(lang, texts["nl"])
