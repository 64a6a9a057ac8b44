"""The messages the pipeline itself sends, in English and Welsh (see shared WELSH.md terms)."""

from __future__ import annotations

from models import Language

TEXTS: dict[str, dict[Language, str]] = {
    "opted_out": {
        Language.EN: (
            "You will get no more messages from this service. To start again, reply START. "
            "In an emergency, call 999."
        ),
        Language.CY: (
            "Ni fyddwch yn cael rhagor o negeseuon gan y gwasanaeth hwn. I ddechrau eto, "
            "atebwch DECHRAU. Mewn argyfwng, ffoniwch 999."
        ),
    },
    "opted_in": {
        Language.EN: (
            "Welcome back. You will get messages from this service again. "
            "Reply STOP at any time to stop them. In an emergency, call 999."
        ),
        Language.CY: (
            "Croeso nôl. Byddwch yn cael negeseuon gan y gwasanaeth hwn eto. "
            "Atebwch STOPIO unrhyw bryd i'w hatal. Mewn argyfwng, ffoniwch 999."
        ),
    },
    "help": {
        Language.EN: (
            "This is the police victim care text service. Ask for an update or for support, "
            "or ask to speak to an officer. Reply STOP to stop messages. "
            "In an emergency, call 999. If it is not an emergency, call 101."
        ),
        Language.CY: (
            "Dyma wasanaeth negeseuon testun gofal dioddefwyr yr heddlu. Gofynnwch am "
            "ddiweddariad neu am gymorth, neu gofynnwch am gael siarad â swyddog heddlu. "
            "Atebwch STOPIO i atal negeseuon. Mewn argyfwng, ffoniwch 999. "
            "Os nad yw'n argyfwng, ffoniwch 101."
        ),
    },
    "unregistered": {
        Language.EN: (
            "This is the police victim care text service. We can't help this number by text. "
            "In an emergency, call 999. If it is not an emergency, call 101."
        ),
        Language.CY: (
            "Dyma wasanaeth negeseuon testun gofal dioddefwyr yr heddlu. Ni allwn helpu'r rhif "
            "hwn drwy neges destun. Mewn argyfwng, ffoniwch 999. "
            "Os nad yw'n argyfwng, ffoniwch 101."
        ),
    },
    # The welcome names the case; the safe-contact one says nothing a shared phone should not
    # show. Both say how to ask for news, how to stop, and 999.
    "welcome": {
        Language.EN: (
            "Welcome to the police victim care text service. We will keep you informed about "
            "your case {case_ref}. To ask for news, reply to this message. To stop messages, "
            "reply STOP. In an emergency, call 999."
        ),
        Language.CY: (
            "Croeso i wasanaeth negeseuon testun gofal dioddefwyr yr heddlu. Byddwn yn rhoi'r "
            "wybodaeth ddiweddaraf i chi am eich achos {case_ref}. I ofyn am newyddion, "
            "atebwch y neges hon. I atal negeseuon, atebwch STOPIO. Mewn argyfwng, ffoniwch 999."
        ),
    },
    "welcome_safe": {
        Language.EN: (
            "Welcome to the police victim care text service. To ask for news, reply to this "
            "message. To stop messages, reply STOP. In an emergency, call 999."
        ),
        Language.CY: (
            "Croeso i wasanaeth negeseuon testun gofal dioddefwyr yr heddlu. I ofyn am "
            "newyddion, atebwch y neges hon. I atal negeseuon, atebwch STOPIO. "
            "Mewn argyfwng, ffoniwch 999."
        ),
    },
    "code_update": {
        Language.EN: (
            "Update on your case {case_ref}: {summary} To ask a question, reply to this "
            "message. In an emergency, call 999."
        ),
        Language.CY: (
            "Diweddariad am eich achos {case_ref}: {summary} I ofyn cwestiwn, atebwch y neges "
            "hon. Mewn argyfwng, ffoniwch 999."
        ),
    },
    # Safe contact: someone else may read the phone, so no case, no crime, no news.
    "code_update_safe": {
        Language.EN: (
            "There is an update for you from the police victim care service. Reply to this "
            "message to hear it. In an emergency, call 999."
        ),
        Language.CY: (
            "Mae diweddariad i chi gan wasanaeth gofal dioddefwyr yr heddlu. Atebwch y neges "
            "hon i'w glywed. Mewn argyfwng, ffoniwch 999."
        ),
    },
    # Words of danger (services/safety.py): 999 first, the silent 55 for someone who cannot
    # speak, and that a person has been asked to get in touch (an urgent handoff is open).
    "danger": {
        Language.EN: (
            "If you are in danger now, call 999. If you can't speak, call 999 and press 55 "
            "when asked. We have asked an officer to contact you."
        ),
        Language.CY: (
            "Os ydych chi mewn perygl nawr, ffoniwch 999. Os na allwch siarad, ffoniwch 999 a "
            "phwyso 55 pan ofynnir i chi. Rydym wedi gofyn i swyddog heddlu gysylltu â chi."
        ),
    },
    "media": {
        Language.EN: (
            "Sorry, we can't receive pictures or files here. Please send your message as text. "
            "In an emergency, call 999."
        ),
        Language.CY: (
            "Mae'n ddrwg gennym, ni allwn dderbyn lluniau na ffeiliau yma. Anfonwch eich neges "
            "fel testun. Mewn argyfwng, ffoniwch 999."
        ),
    },
}


def text(key: str, language: Language | None, **fields: str) -> str:
    """The message `key` in `language`, `fields` filled in; Welsh and English when unknown."""
    if language is None:
        # Welsh Language Standards: where we do not know, Welsh first and English beside it.
        return f"{text(key, Language.CY, **fields)}\n\n{text(key, Language.EN, **fields)}"
    return TEXTS[key][language].format(**fields)
