"""Figures at build time: every table as a DataFrame, every number in prose or lists as a fact row.

lexicon: the figure lexicon; entities: operators, territories and years in text; tables: table blocks as
DataFrames; table_facts and prose: the facts of table cells and of sentences; extract: the corpus walk;
comparison: the operator comparison; store: saving and loading; schema: the saved columns and version;
record: a fact as the figure engine reads it (Fact, typed and frozen).
"""

from ingest.facts.comparison import build_comparison
from ingest.facts.entities import Entities, years_in
from ingest.facts.extract import extract_facts
from ingest.facts.lexicon import DATE_ASKED, LEXICON_FILE, Lexicon, load_lexicon
from ingest.facts.record import Fact, facts_of
from ingest.facts.schema import COMPARISON_COLUMNS, COMPARISON_METRICS, FACT_COLUMNS, FACTS_VERSION
from ingest.facts.store import FactTables
from ingest.facts.tables import FactsFormatError, TableRecord, block_frame, find_blocks

__all__ = [
    "COMPARISON_COLUMNS",
    "COMPARISON_METRICS",
    "DATE_ASKED",
    "FACTS_VERSION",
    "FACT_COLUMNS",
    "LEXICON_FILE",
    "Entities",
    "Fact",
    "FactTables",
    "FactsFormatError",
    "Lexicon",
    "TableRecord",
    "block_frame",
    "build_comparison",
    "extract_facts",
    "facts_of",
    "find_blocks",
    "load_lexicon",
    "years_in",
]
