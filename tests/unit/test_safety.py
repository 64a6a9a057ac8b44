"""The danger safety net: every danger phrasing is caught, in English, in Welsh in every
mutation, and in both mixed; ordinary messages are not; and it is quick."""

from __future__ import annotations

import time

import pytest

from models.handoffs import HandoffStatus, IllegalHandoffMove, may_move
from scripts.nlu_data import danger_examples, held_out_examples, training_examples
from services.conversations import safety
from services.conversations.safety import danger_phrase, in_danger
from services.language.patterns import FILLERS, NOT_MUTATED, Maybe, Slot, canonical
from services.language.phrases import normalise

DANGER_EN = [
    "he's here",
    "HES HERE!!",
    "hes outside",
    "he is at the door",
    "He’s at my door right now",
    "hez outsid pls",
    "she's outside my house",
    "they're trying to get in",
    "he's going to kill me",
    "hes gonna kill me",
    "he's threatening me",
    "he keeps thretening me",
    "help me he is coming",
    "Help me, he's back",
    "I'm scared he'll hurt me",
    "im so scared",
    "I'm in danger",
    "i dont feel safe",
    "he has a knife",
    "I want to end it",
    "wanna end it all",
    "I'm going to kill myself",
    "i want to kill my self",
    "I keep wanting to hurt myself",
    "thinking about suicide",
    "i dont want to live anymore",
    "please help me",
    "someone is banging on the door",
    "he's following me",
    "KMS",
]

DANGER_CY = [
    "mae e yma",
    "Mae o yma!!",
    "mae e tu allan",
    "ma fe tu fas",
    "mae o wrth y drws",
    "dw i mewn perygl",
    "dwi mewn perygl",
    "rwy'n ofnus",
    "Rwy’n ofnus iawn",
    "rwyn ofnus",
    "mae'n fy mygwth",
    "mae e'n bygwth fi",
    "dw i eisiau lladd fy hun",
    "isio ladd fy hun",
    "help fi",
    "helpwch fi plis",
    "mae o'n mynd i ladd fi",
    "mae gen i ofn",
    "dwi isio marw",
    "mae e yn y tŷ",
    "MAE E YN Y TY",
]

# Every mutation of a Welsh danger word (issue 10): soft, nasal, aspirate, h- before a vowel.
WELSH_MUTATIONS = [
    "mae ganddo gyllell",  # soft: cyllell -> gyllell (object of "mae gan")
    "mae gynno fo wn",  # soft: gwn -> wn (the g dropped)
    "mae o'n trio dorri mewn",  # soft: torri -> dorri
    "mae e wedi fy nharo i",  # nasal: taro -> nharo after fy
    "mae o'n fy nilyn i bob man",  # nasal: dilyn -> nilyn
    "mae o am fy mygwth i",  # nasal: bygwth -> mygwth
    "mae e'n sefyll wrth ddrws cefn fy nhŷ",  # soft drws -> ddrws, nasal tŷ -> nhŷ
    "ma fe tu fas i nhy",  # nasal without the accent, as texted
    "daeth o i'r tŷ â chyllell",  # aspirate: cyllell -> chyllell after â
    "roedd e'n ei thagu hi neithiwr",  # aspirate: tagu -> thagu after ei (her)
    "mae o wedi taro ei phen hi",  # aspirate: pen -> phen (and taro)
    "mae e am ei hanafu hi eto",  # h-: anafu -> hanafu after ei (her)
    "maen nhw'n bygwth ein hanafu ni",  # h- after ein
    "dw i'n ofni y bydd o'n eu hymosod",  # h-: ymosod -> hymosod
    "mae e wedi fy nghloi i yn y gegin",  # nasal: cloi -> nghloi
    "mae o wedi mynd â fy ngoriadau i",  # nasal: goriadau -> ngoriadau
    "mae'n fy nhaflu i allan",  # nasal: taflu -> nhaflu
    "mae o wedi dod ag arf",  # radical arf (ag, "with", before a vowel)
    "mae e wedi ei hanafu hi",  # h-: anafu -> hanafu after ei (her)
]

# Welsh and English in one message (issue 10).
MIXED = [
    "mae ganddo knife",
    "he's got a gyllell",
    "mae o outside y tŷ",
    "he's tu allan eto",
    "dwi'n really scared",
    "ma fe wedi threatenio fi eto",
    "he keeps hitting fi",
    "ma fe'n waving a knife",
    "he sent a message saying watch your back",
    "mae o wedi deud gwylia dy gefn",
    "hes wrth y drws",
    "mae cyllell on him",
]

# Someone where a court or the victim said they must not be (issue 10).
ORDERS_BROKEN = [
    "he's breaking his bail conditions",
    "he broke the non-molestation order and he's parked up the road",
    "he's not allowed near me but he's at the end of the street",
    "he is supposed to be in jail",
    "my ex just turned up at my work",
    "the suspect is sitting outside in his car",
    "he keeps driving past my house",
    "mae o'n torri amodau'r fechnïaeth",
    "mae o wedi torri'r gorchymyn atal",
    "dydy o ddim i fod yma",
    "mae o i fod yn y carchar",
    "mae fy nghyn bartner wedi troi fyny yn y gwaith",
]

# Kept in, or locked or thrown out (issue 10).
KEPT_IN = [
    "he locked me in the flat",
    "she won't let me leave",
    "i cant get out of the house",
    "he's taken my keys",
    "they kicked me out and took my phone",
    "he's keeping me in the bedroom",
    "mae o wedi fy nghloi i mewn",
    "dydy o ddim yn gadael i mi fynd",
    "dw i'n methu gadael y tŷ",
    "mae o wedi cymryd fy allweddi",
    "mae e wedi fy nhaflu i mas",
]

# Thoughts of not going on, without "kill" or "die" (issue 10).
NOT_GOING_ON = [
    "i cant go on like this",
    "whats the point any more",
    "they'd all be better off without me",
    "i wish i could go to sleep and not wake up",
    "i've said my goodbyes",
    "no point carrying on",
    "i'm saving up my pills",
    "dw i'n methu cario mlaen",
    "does dim pwynt i ddim byd",
    "byddai'r plant yn well hebdda i",
    "dw i isio diflannu",
    "dw i wedi blino ar fyw",
]

# Told in the past or another person or tense: each verb is written once in the lists, and
# its forms are made by rule (services/language/inflections.py).
EVERY_TENSE = [
    "dilynodd e fi o'r siop",
    "mi ddilynon nhw fi i'r maes parcio",
    "fe ddilynais i... na, fe ddilynodd o fi",
    "bygythiodd hi fi ar y ffôn",
    "mi fygythiodd o fi eto neithiwr",
    "tarodd e fi yn y gegin",
    "mi drawodd o fi",
    "ciciodd o fi yn fy nghoes",
    "mi giciws e fi",
    "gwthiodd hi fi yn erbyn y wal",
    "cydiodd o yn fy ngwddf",
    "tagith o fi os ffonia i chi",
    "stelciodd o fi am fisoedd",
    "wnaeth e fy nilyn i o'r gwaith",
    "ddaru o fy nharo i",
    "cymerodd o fy ngoriadau",
    "he followed me from the station",
    "she follows me everywhere",
    "they stalked me for months",
    "hes been threatenin me all week",
    "he strangles me when hes drunk",
    "he stabbed my brother",
]

# Veiled threats, quoted in either person (docs/SAFETY.md).
VEILED = [
    "he said I'd better watch my back",
    "you want to watch your back",
    "he told me to look over my shoulder",
    "he said I'll regret it",
    "you will regret this",
    "she said I'd be sorry",
    "he messaged saying I know where you live",
    "he knows exactly where me and the kids live",
    "wait till I catch you on your own",
    "you won't see it coming",
    "this isn't over",
    "he said im not finished with you",
    "mi ddudodd o bod well i fi wylio nghefn",
    "gwylia di dy gefn",
    "mae'n well i ti edrych dros dy ysgwydd",
    "fe gei di weld",
    "ti'n mynd i ddifaru hyn",
    "mi fyddi di'n difaru",
    "dwi'n gwbod lle ti'n byw",
    "mae o'n gwybod lle dw i'n gweithio",
    "aros di",
    "dyma dy rybudd olaf",
    "mi ga i di",
]

# The classic idioms of the veiled threat, harm put as chance or a pity, and being kept
# under watch (docs/SAFETY.md).
BY_CHANCE = [
    "he said accidents happen to girls who talk",
    "his text just said accidents happen",
    "it would be a shame if something happened to the kids",
    "shame if anything was to happen to that car of yours",
    "you never know what might happen round here",
    "be careful out there love",
    "he said people like me get hurt",
    "something bad could happen to you",
    "you want to watch yourself",
    "his mates are keeping tabs on me",
    "they know my every move",
    "mae damweiniau'n digwydd, medda fo",
    "ti byth yn gwybod be allai ddigwydd",
    "bydd yn ofalus allan fan'na",
    "mi ddudodd hi bod well i fi fod yn ofalus",
    "mae pobl fel ti'n cael eu brifo",
    "bechod 'sa rhywbeth yn digwydd i'r plant",
    "trueni os bysai rhywbeth yn digwydd i ti",
    "mae ei ffrindiau'n cadw llygad arna i",
    "maen nhw'n gwybod bob man dwi'n mynd",
]

# Missed by the first net and by the model on the held-out NLU split (docs/NLU.md).
MISSED_ONCE = [
    "i'm really scared",
    "i can hear someone downstairs",
    "mae rhywun yn torri mewn",
    "dw i wedi llyncu tabledi",
    "I've taken all my tablets",
]

EVERY_KIND = DANGER_EN + DANGER_CY + WELSH_MUTATIONS + MIXED + ORDERS_BROKEN + KEPT_IN
EVERY_KIND += NOT_GOING_ON + MISSED_ONCE + EVERY_TENSE + VEILED + BY_CHANCE

ORDINARY = [
    "is he still in custody",
    "thanks for the help",
    "the hearing is here in Cardiff",
    "the shelter is here",
    "can you help me with my case",
    "when is the court date",
    "I'd like an update please",
    "hello",
    "yes",
    "he has been charged",
    "the officer said he is in prison",
    "my daughter is here with me",
    "what are my rights",
    "here is my date of birth 02/03/1984",
    "can I speak to my officer",
    "is he a danger to the public",
    "outside office hours who do I call",
    "she helped me a lot",
    "the help line was useful",
    "I want to make a complaint",
    "the door was fixed",
    "his sister is here",
    "shelter here",
    "diolch am yr help",
    "ydy e dal yn y ddalfa",
    "mae'r gwrandawiad yma yng Nghaerdydd",
    "mae hi'n braf yma",
    "dwi eisiau diweddariad",
    "ga i siarad â swyddog heddlu",
    "beth yw fy hawliau",
    "shwmae",
    # Near the new kinds, but not danger.
    "what are his bail conditions",
    "can I get a restraining order",
    "I'm afraid I can't make the hearing",
    "thanks for keeping me updated",
    "when is he back in court",
    "pryd mae o nôl yn y llys",
    "helo, oes rhywun yna?",
    "wn i ddim",
    "dwn i ddim pryd mae'r achos",
    "diolch yn fawr iawn",
    "dwi angen help i newid y cloeon",
    "the knife crime leaflet was useful",
    "mae hi'n gweithio yn yr ysgol",
    "can someone ring me tomorrow",
    "I need to change my quiet hours",
    "he was sentenced to two years",
    "ga i ddiweddariad ar fy achos plis",
    # Near the verbs in every tense and the veiled threats, but not danger.
    "the police know where he lives",
    "dwi ddim yn gwybod lle mae o'n byw",
    "I regret reporting it",
    "I'll pay for the taxi myself",
    "can I watch the cctv back",
    "did he turn up at court",
    "I followed the officer's advice",
    "dilynais i'r cyngor",
    "you'll see the letter on Monday",
    "mi welais i'r swyddog ddoe",
    "he was sorry in court",
    # Near the idioms of chance and watch, but not danger.
    "i never know whats going to happen with my case",
    "dwi byth yn gwybod be sy'n digwydd efo'r achos",
    "what happened at court",
    "can you keep an eye on my case",
    "be careful with my details",
    "cymer ofal",
    "cadw llygad ar y plant",
    "bechod, dwi'n sâl heddiw",
]


@pytest.mark.parametrize("body", EVERY_KIND)
def test_danger_phrasings_match(body: str) -> None:
    assert in_danger(body), body


def test_recall_on_every_kind_is_one() -> None:
    assert [b for b in EVERY_KIND if not in_danger(b)] == []


@pytest.mark.parametrize("body", ORDINARY)
def test_ordinary_messages_do_not_match(body: str) -> None:
    assert danger_phrase(body) is None, danger_phrase(body)


def test_false_alarms_on_the_nlu_data_stay_rare() -> None:
    # Every training and held-out message that is not danger: the net leans toward false
    # alarms on purpose, but a net that fired on everything would drown the officers.
    ordinary = [e.text for e in training_examples() + held_out_examples()]
    ordinary = [
        t
        for t, e in zip(ordinary, training_examples() + held_out_examples(), strict=True)
        if e.intent != "report_danger"
    ]
    alarms = [t for t in ordinary if in_danger(t)]
    assert len(alarms) / len(ordinary) < 0.02, alarms


def test_accidents_happen_said_of_spilt_milk_is_an_accepted_false_alarm() -> None:
    # A choice, not a slip: "accidents happen" is matched alone, since the threat is often
    # nothing more ("his text just said accidents happen"), and a victim saying it about
    # spilt milk costs an officer a look (docs/SAFETY.md, "It leans toward false alarms").
    assert in_danger("spilt the milk, accidents happen, no harm done")


def test_a_mutated_word_matches_only_in_its_phrase() -> None:
    # "wn" is gwn (a gun) after "ganddo", and "I know" everywhere else.
    assert in_danger("mae ganddo wn")
    assert not in_danger("wn i ddim be i wneud")
    # Pronouns are never read as mutated: "he" is not "e" with h- before it.
    assert safety.reader().words("he")[0] == ("he",)


def test_normalise_folds_case_accents_apostrophes_and_punctuation() -> None:
    assert normalise("  HE’S   at the DOOR!!! ") == "hes at the door"
    assert normalise("Rŵan, â'r tŷ?") == "rwan ar ty"
    assert normalise("ＨＥＬＰ") == "help"  # full-width letters, via NFKD


def test_welsh_clitics_text_speak_and_fillers_are_read_as_words() -> None:
    assert canonical("mae o'n mynd i'r tŷ") == ("mae", "o", "yn", "mynd", "i", "y", "ty")
    assert canonical("sum1 tryin 2 get in") == ("someone", "trying", "to", "get", "in")
    assert canonical("he's just turned up again") == ("hes", "turned", "up")


def _slots() -> list[Slot]:
    found: dict[str, Slot] = {}
    for pattern in safety.PATTERNS:
        for element in pattern.elements:
            slot = element.slot if isinstance(element, Maybe) else element
            if isinstance(slot, Slot):
                found[slot.name] = slot
    return list(found.values())


# Fixed words whose everyday spelling happens to be a mutated form of another word in the
# lists: "er" (despite) is no form of "ger" (near) here, nor "na" (not) of "da", nor "dan"
# of "dan ni" (we are) one of "tan" (until), nor "nad" (that ... not) one of "dad".
# "fan" is a van ("ei fan o") and the "fan" of "fan hyn", written as such, not "man" mutated.
NOT_A_FORM = {"er", "na", "mlaen", "neud", "fas", "dy", "dan", "nad", "fan"}


def test_welsh_words_are_written_as_radicals_and_their_forms_made_by_rule() -> None:
    # A hand-written mutation ("ladd", "mygwth") in the lists would be a sign that the
    # rule was not trusted; it also hides which radical the form belongs to.
    reader = safety.reader()
    welsh = {w for slot in _slots() for p in slot.welsh for w in canonical(p)}
    hand_made = {w: reader.radicals[w] for w in welsh - NOT_A_FORM if w in reader.radicals}
    assert hand_made == {}


def test_verbs_are_written_once_and_their_forms_made_by_rule() -> None:
    # A hand-written inflected form ("dilynodd", "followed" beside "following") would say
    # the rule was not trusted, and leave the other persons and tenses out.
    reader = safety.reader()
    words = {w for slot in _slots() for p in (*slot.welsh,) for w in canonical(p)}
    assert {w: reader.lemmas[w] for w in words if w in reader.lemmas} == {}
    assert reader.lemmas["ddilynodd"] == {"dilyn"}
    assert reader.lemmas["followed"] >= {"following"}


def test_a_subject_after_an_inflected_welsh_verb_is_read_as_its_ending() -> None:
    reader = safety.reader()
    first, second = reader.readings("dilynodd o fi")
    assert [w[0] for w in first] == ["dilynodd", "o", "fi"]
    assert [w[0] for w in second] == ["dilynodd", "fi"]
    # Not after other words: "mae o" keeps its pronoun.
    assert len(reader.readings("mae o tu allan")) == 1


def test_phrases_hold_no_fillers_and_function_words_are_not_mutated() -> None:
    for slot in _slots():
        for phrase in (*slot.english, *slot.welsh):
            assert not FILLERS.intersection(normalise(phrase).split()), phrase
    assert all(word not in safety.reader().radicals for word in ("hi", "he", "hyn", "ha"))
    assert "e" in NOT_MUTATED and "i" in NOT_MUTATED


def test_the_held_out_danger_split_is_not_in_this_file() -> None:
    # The danger split (nlu/test/danger/) measures the net; it must never be copied here.
    held_out = {normalise(e.text) for e in danger_examples()}
    assert [b for b in EVERY_KIND + ORDINARY if normalise(b) in held_out] == []


def test_matching_costs_well_under_a_millisecond() -> None:
    # The net runs in the webhook (issue 12 holds it to well under a millisecond of CPU): it
    # looks up each word n-gram of the message once, whatever the number of phrases.
    texts = [e.text for e in training_examples()]
    safety.reader()  # compiled once per process, not per message
    start = time.process_time()
    for text in texts:
        in_danger(text)
    per_message = (time.process_time() - start) / len(texts)
    assert per_message < 0.001, f"{per_message * 1e6:.0f} µs a message"


def test_handoff_moves() -> None:
    assert may_move(HandoffStatus.OPEN, HandoffStatus.CLAIMED)
    assert may_move(HandoffStatus.CLAIMED, HandoffStatus.CLOSED)
    assert not may_move(HandoffStatus.CLOSED, HandoffStatus.OPEN)
    assert issubclass(IllegalHandoffMove, ValueError)
