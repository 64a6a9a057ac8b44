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
    # The Code's Right 3: the welcome as the written acknowledgement of the report, with what
    # the Code lists (the crime reference, the basic details of the crime, who deals with it).
    # In safe contact the welcome_safe text goes instead: nothing of the case.
    "welcome_acknowledgement": {
        Language.EN: (
            "This confirms that you reported a crime to the police. Crime reference: "
            "{case_ref}. Crime: {crime_type}. Officer in charge of your case: {officer}. To ask "
            "for news, reply to this message. To stop messages, reply STOP. In an emergency, "
            "call 999."
        ),
        Language.CY: (
            "Mae hyn yn cadarnhau eich bod wedi rhoi gwybod i'r heddlu am drosedd. Cyfeirnod y "
            "drosedd: {case_ref}. Trosedd: {crime_type}. Y swyddog sy'n gyfrifol am eich achos: "
            "{officer}. I ofyn am newyddion, atebwch y neges hon. I atal negeseuon, atebwch "
            "STOPIO. Mewn argyfwng, ffoniwch 999."
        ),
    },
    # Right 6 with the Victims' Right to Review: a decision to take no further action or to
    # close the investigation, the right to ask for a review, how, and by when.
    "code_update_review": {
        Language.EN: (
            "Update on your case {case_ref}: {summary} You have the right to ask for this "
            "decision to be reviewed. To ask, reply to this message saying you want a review, "
            "by {review_until}. In an emergency, call 999."
        ),
        Language.CY: (
            "Diweddariad am eich achos {case_ref}: {summary} Mae gennych hawl i ofyn i'r "
            "penderfyniad hwn gael ei adolygu. I ofyn, atebwch y neges hon gan ddweud eich bod "
            "am gael adolygiad, erbyn {review_until}. Mewn argyfwng, ffoniwch 999."
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
    # Regular contact: nothing has changed, who the officer is, how to ask.
    "check_in": {
        Language.EN: (
            "A check-in about your case {case_ref}: there is no news since we last wrote. "
            "{officer} is the officer in charge. To ask a question, reply to this message. "
            "In an emergency, call 999."
        ),
        Language.CY: (
            "Gair am eich achos {case_ref}: does dim newyddion ers i ni ysgrifennu ddiwethaf. "
            "{officer} yw'r swyddog sy'n gyfrifol am eich achos. I ofyn cwestiwn, atebwch y "
            "neges hon. Mewn argyfwng, ffoniwch 999."
        ),
    },
    "check_in_safe": {
        Language.EN: (
            "A check-in from the police victim care service. To ask a question, reply to this "
            "message. In an emergency, call 999."
        ),
        Language.CY: (
            "Gair gan wasanaeth gofal dioddefwyr yr heddlu. I ofyn cwestiwn, atebwch y neges "
            "hon. Mewn argyfwng, ffoniwch 999."
        ),
    },
    # An update a person wrote and scheduled; `text` is theirs, in the victim's language.
    "scheduled": {
        Language.EN: (
            "Update on your case {case_ref}: {text} To ask a question, reply to this message. "
            "In an emergency, call 999."
        ),
        Language.CY: (
            "Diweddariad am eich achos {case_ref}: {text} I ofyn cwestiwn, atebwch y neges "
            "hon. Mewn argyfwng, ffoniwch 999."
        ),
    },
    "needs_invite": {
        Language.EN: (
            "We would like to know what support would help you. Our short needs questionnaire "
            "takes about 5 minutes by text. Reply YES to start, or reply later. "
            "In an emergency, call 999."
        ),
        Language.CY: (
            "Hoffem wybod pa gymorth fyddai'n eich helpu. Mae ein holiadur byr ar gyfer asesiad "
            "o anghenion yn cymryd tua 5 munud drwy neges destun. Atebwch IE i ddechrau, neu "
            "atebwch yn nes ymlaen. Mewn argyfwng, ffoniwch 999."
        ),
    },
    "needs_reminder": {
        Language.EN: (
            "A reminder: our short needs questionnaire helps us find the right support for "
            "you. Reply YES to start. This is the only reminder. In an emergency, call 999."
        ),
        Language.CY: (
            "Nodyn atgoffa: mae ein holiadur byr yn ein helpu i ddod o hyd i'r cymorth iawn i "
            "chi. Atebwch IE i ddechrau. Dyma'r unig nodyn atgoffa. Mewn argyfwng, ffoniwch 999."
        ),
    },
    "closing_survey": {
        Language.EN: (
            "Your case {case_ref} is now closed, and these messages will end. Thank you for "
            "staying in touch. How well did we keep you informed? Reply with a score from 1 "
            "(poor) to 5 (very good), and a comment if you like. In an emergency, call 999."
        ),
        Language.CY: (
            "Mae eich achos {case_ref} wedi cau nawr, a bydd y negeseuon hyn yn dod i ben. "
            "Diolch am gadw mewn cysylltiad. Pa mor dda oedden ni'n rhoi gwybod i chi? "
            "Atebwch gyda sgôr o 1 (gwael) i 5 (da iawn), a sylw os hoffech chi. "
            "Mewn argyfwng, ffoniwch 999."
        ),
    },
    "closing_survey_safe": {
        Language.EN: (
            "These messages from the police victim care service will now end. How well did "
            "we keep you informed? Reply with a score from 1 (poor) to 5 (very good), and a "
            "comment if you like. In an emergency, call 999."
        ),
        Language.CY: (
            "Bydd y negeseuon hyn gan wasanaeth gofal dioddefwyr yr heddlu yn dod i ben nawr. "
            "Pa mor dda oedden ni'n rhoi gwybod i chi? Atebwch gyda sgôr o 1 (gwael) i 5 "
            "(da iawn), a sylw os hoffech chi. Mewn argyfwng, ffoniwch 999."
        ),
    },
    "survey_thanks": {
        Language.EN: (
            "Thank you. If you would like to add a comment, reply with it now. "
            "In an emergency, call 999."
        ),
        Language.CY: (
            "Diolch. Os hoffech chi ychwanegu sylw, atebwch gyda'r sylw nawr. "
            "Mewn argyfwng, ffoniwch 999."
        ),
    },
    "survey_comment_thanks": {
        Language.EN: "Thank you for your comment. It helps us improve the service.",
        Language.CY: "Diolch am eich sylw. Mae'n ein helpu i wella'r gwasanaeth.",
    },
    # Words of danger (services/conversations/safety.py): 999 first, the silent 55 for
    # someone who cannot speak, and that a person has been asked to get in touch (an urgent
    # handoff is open).
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
    # The assistant could not answer (Rasa down or stalled past RASA_GIVE_UP_SECONDS, an
    # empty answer, an action that failed): the message is safe, a person will read it, and
    # 999 and 101 (services/conversations/processing.py). A high-priority handoff is open.
    "holding": {
        Language.EN: (
            "We have your message, but our automated assistant can't answer right now. An "
            "officer will read it and contact you. If you are in danger, call 999. If it is "
            "not an emergency, call 101."
        ),
        Language.CY: (
            "Mae eich neges wedi cyrraedd, ond ni all ein cynorthwyydd awtomatig ateb ar hyn o "
            "bryd. Bydd swyddog heddlu yn ei darllen ac yn cysylltu â chi. Os ydych chi mewn "
            "perygl, ffoniwch 999. Os nad yw'n argyfwng, ffoniwch 101."
        ),
    },
    # An open handoff nobody claimed in time (services/handoffs.flag_overdue): honest about
    # the wait, {when} from services/staffing.next_contact, then 999 and 101.
    "handoff_overdue": {
        Language.EN: (
            "We're sorry that no officer has replied yet. {when} If you are in danger, call "
            "999. If it is not an emergency, call 101."
        ),
        Language.CY: (
            "Mae'n ddrwg gennym nad oes swyddog heddlu wedi ateb eto. {when} Os ydych chi mewn "
            "perygl, ffoniwch 999. Os nad yw'n argyfwng, ffoniwch 101."
        ),
    },
    # Added to the assistant's first reply in a conversation: how to switch language, said
    # in both (the other language is the point).
    "language_hint": {
        Language.EN: "Am negeseuon yn Gymraeg, atebwch CYMRAEG. For Welsh, reply CYMRAEG.",
        Language.CY: "For messages in English, reply ENGLISH. Am Saesneg, atebwch ENGLISH.",
    },
    # What we say about a message we cannot read (services/messaging/shapes.NOTICES).
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
    "voice": {
        Language.EN: (
            "Sorry, we can't listen to voice messages here. Please send your message as text. "
            "In an emergency, call 999."
        ),
        Language.CY: (
            "Mae'n ddrwg gennym, ni allwn wrando ar negeseuon llais yma. Anfonwch eich neges "
            "fel testun. Mewn argyfwng, ffoniwch 999."
        ),
    },
    "sticker": {
        Language.EN: (
            "Sorry, we can't see stickers here. Please send your message as text. "
            "In an emergency, call 999."
        ),
        Language.CY: (
            "Mae'n ddrwg gennym, ni allwn weld sticeri yma. Anfonwch eich neges fel testun. "
            "Mewn argyfwng, ffoniwch 999."
        ),
    },
    "contacts": {
        Language.EN: (
            "Sorry, we can't receive contact cards here. If you want to tell us about someone, "
            "please write it in a message. In an emergency, call 999."
        ),
        Language.CY: (
            "Mae'n ddrwg gennym, ni allwn dderbyn cardiau cyswllt yma. Os hoffech chi ddweud "
            "wrthym am rywun, ysgrifennwch hynny mewn neges. Mewn argyfwng, ffoniwch 999."
        ),
    },
    # A shared location also opens a high-priority handoff (processing.LOCATION_REASON).
    "location": {
        Language.EN: (
            "Sorry, we can't receive locations here. If you are in danger now, call 999. "
            "If you can't speak, call 999 and press 55 when asked. We have asked an officer "
            "to look at your message."
        ),
        Language.CY: (
            "Mae'n ddrwg gennym, ni allwn dderbyn lleoliadau yma. Os ydych chi mewn perygl "
            "nawr, ffoniwch 999. Os na allwch siarad, ffoniwch 999 a phwyso 55 pan ofynnir i "
            "chi. Rydym wedi gofyn i swyddog heddlu edrych ar eich neges."
        ),
    },
    # An empty message, or a kind WhatsApp or Twilio does not pass on.
    "unreadable": {
        Language.EN: (
            "Sorry, we couldn't read that message. Please send it again as text. "
            "In an emergency, call 999."
        ),
        Language.CY: (
            "Mae'n ddrwg gennym, ni allem ddarllen y neges honno. Anfonwch hi eto fel testun. "
            "Mewn argyfwng, ffoniwch 999."
        ),
    },
}


def text(key: str, language: Language | None, **fields: str) -> str:
    """The message `key` in `language`, `fields` filled in; Welsh and English when unknown."""
    if language is None:
        # Welsh Language Standards: where we do not know, Welsh first and English beside it.
        return f"{text(key, Language.CY, **fields)}\n\n{text(key, Language.EN, **fields)}"
    return TEXTS[key][language].format(**fields)
