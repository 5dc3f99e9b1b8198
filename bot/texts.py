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
        "• <b>Wat Telegram ziet.</b> Telegram bezorgt je berichten en tikken. Bij elke tik "
        "komt je Telegram-nummer mee, dus Telegram en wie de computer van deze bot beheert, "
        "kunnen zien wie wat tikt en typt terwijl het langskomt. Wat je als opmerking typt, "
        "blijft in je eigen chat met de bot (en dus bij Telegram) staan; daar kun je het "
        "zelf wissen.\n"
        "• <b>Wat de bot bewaart.</b> De database is versleuteld en bevat geen naam en geen "
        "Telegram-nummer naast je antwoorden. Antwoorden krijgen geen tijdstip.\n"
        "• Zolang de meting loopt, bewaart de bot een onherkenbaar gemaakte code, zodat je "
        "kunt pauzeren en later verdergaan. Ben je klaar, dan krijgen je antwoorden een "
        "nieuw willekeurig nummer en wijst niets meer van jou naar ze.\n"
        "• Sluit de meting, dan wordt het geheim achter die code vernietigd. Vanaf dan kan "
        "niemand je antwoorden nog aan jou koppelen, ook niet wie de sleutel van de "
        "database heeft.\n"
        "• Wil je na afloop horen wanneer de volgende meting opent? Dan bewaren we je "
        "chatnummer, je organisatie en je taal, alleen om je dat bericht en herinneringen "
        "te sturen, en nooit samen met je antwoorden. Afmelden kan altijd met /stop.\n"
        "• Uitkomsten komen pas als de meting gesloten is, en alleen voor groepen van "
        "minstens {k} mensen; opmerkingen alleen voor groepen van minstens {k_comments}.\n"
        "• <b>Eerlijk gezegd:</b> zo'n minimale groep beschermt je tegen buitenstaanders, "
        "niet tegen {k_minus_1} mensen uit je eigen groep die samen hun eigen antwoorden "
        "naast de uitkomst leggen. Daarom kun je een rol met weinig mensen (zoals raadslid "
        "of bestuurder) niet zelf kiezen: die rol krijgt een eigen link.\n"
        "• Zolang je bezig bent kun je je antwoorden wissen met /delete. Na afloop kan dat "
        "niet meer: niets verbindt ze dan nog met jou.",
        "en": "<b>How your anonymity is kept</b>\n"
        "• Everyone in your organisation uses the same link; nobody gets a personal link.\n"
        "• <b>What Telegram sees.</b> Telegram delivers your messages and taps. Your "
        "Telegram number comes along with every tap, so Telegram and whoever runs the "
        "computer of this bot can see who taps and types what as it passes by. What you type "
        "as a comment stays in your own chat with the bot (and so with Telegram); you can "
        "delete it there yourself.\n"
        "• <b>What the bot keeps.</b> The database is encrypted and holds no name and no "
        "Telegram number next to your answers. Answers carry no time.\n"
        "• While the measurement is open, the bot keeps a scrambled code so that you can "
        "pause and continue later. When you finish, your answers get a new random number "
        "and nothing of yours points to them any more.\n"
        "• When the measurement closes, the secret behind that code is destroyed. From then "
        "on nobody can link your answers to you, not even whoever holds the database key.\n"
        "• Want to hear when the next measurement opens? Then we keep your chat number, "
        "your organisation and your language, only to send you that message and reminders, "
        "and never together with your answers. You can unsubscribe any time with /stop.\n"
        "• Results come only after the measurement has closed, and only for groups of at "
        "least {k} people; comments only for groups of at least {k_comments}.\n"
        "• <b>To be honest:</b> such a minimum group protects you against outsiders, not "
        "against {k_minus_1} people of your own group who put their own answers next to "
        "the result together. That is why you cannot choose a role with few people (such as "
        "council member or administrator) yourself: that role gets its own link.\n"
        "• While you are busy you can erase your answers with /delete. Afterwards that is "
        "impossible: nothing links them to you any more.",
    },
    "consent_button": {"nl": "Ik doe mee", "en": "I'll take part"},
    "choose_role": {"nl": "Wat is je rol?", "en": "What is your role?"},
    "role_needs_link": {
        "nl": "Voor deze rol is er een eigen link. Vraag die aan wie de scan organiseert.",
        "en": "This role has its own link. Please ask whoever runs the scan for it.",
    },
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
    "thanks_pending": {
        "nl": "<b>Dank je wel!</b> Je antwoorden zijn opgeslagen. Het loskoppelen van jou "
        "is nog bezig: een ander programma leest de database op dit moment. Zodra dat klaar "
        "is, gebeurt het vanzelf.",
        "en": "<b>Thank you!</b> Your answers are stored. Unlinking them from you is still "
        "in progress: another program is reading the database right now. It completes by "
        "itself as soon as that is done.",
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
    "deleted_pending": {
        "nl": "Je antwoorden zijn gewist. Het laatste spoor ervan wordt opgeruimd zodra een "
        "ander programma klaar is met het lezen van de database.",
        "en": "Your answers are erased. Their last trace is cleared as soon as another "
        "program has finished reading the database.",
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
    "or": {"nl": " of ", "en": " or "},
    "own_link_roles": {
        "nl": "Ben je {roles}? Gebruik dan de eigen link voor je rol; vraag die aan wie de "
        "scan organiseert.",
        "en": "Are you {roles}? Then please use your role's own link; ask whoever runs the "
        "scan for it.",
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
