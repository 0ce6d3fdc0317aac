"""One reading of a question, made once (`read_query`) and read by retrieval, the contact desk, the kiosk and the
pipeline's engines: the question's spellings, shorthand, search words and shape are worked out here only."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.normalize import Lexicon, contract_shorthand, expand_shorthand, respell, search_query
from assistant.questions import definition_term
from assistant.records import Answer


@dataclass(frozen=True)
class Query:
    """A question as every part of the assistant reads it."""

    text: str  # cleaned, as typed: what the meaning side embeds, what the routing and figure engines parse
    respelled: str  # kiosk spellings of asking words written out (« cb de jeunes » -> « combien de jeunes »)
    normalized: str  # shorthand spelled out too (« jsuis DE » -> « je suis demandeur d'emploi »)
    asked: str  # normalized with acronyms kept short (« CEP »): the question's shape
    search: str  # what the words side reads: filler out, synonyms in
    own: str  # the same, of the question's own words (the lexicon's additions weigh less)
    definition: str | None  # the term a definition question asks about (« qu'est-ce que CHEOPS ? »)
    previous: Answer | None = None  # the answer before it in the conversation (elliptic follow-ups)


def read_query(text: str, lexicon: Lexicon, previous: Answer | None = None) -> Query:
    """The reading of a cleaned question (assistant.normalize.clean_input)."""
    respelled = respell(text, lexicon)
    normalized = expand_shorthand(respelled, lexicon)
    asked = contract_shorthand(normalized, lexicon)
    return Query(
        text=text,
        respelled=respelled,
        normalized=normalized,
        asked=asked,
        search=search_query(normalized, lexicon),
        own=search_query(asked, lexicon),
        definition=definition_term(asked),
        previous=previous,
    )
