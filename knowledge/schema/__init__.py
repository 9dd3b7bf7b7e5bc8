"""Load and validate the knowledge base (docs/knowledge-schema.md): procedures, offices and holidays.

Every problem is collected as ``file: field: message``; loading never stops at the first error.
"""
from knowledge.schema.loading import load_knowledge_base, validate, validate_with
from knowledge.schema.models import (
    ALL_COMMUNE, DOC_ITEM_FIELDS, HOURS, LINK, OFFICE_KINDS, OFFICE_KINDS_SUBMIT, ONLINE_LEVELS, OPTIONAL, PORTALS,
    POSTAL, REQUIRED, SECTION_COMMON, SECTION_FIELDS, SLUG, STATUSES, UNSOURCED, WEEKDAYS, DocumentItem,
    DocumentsSection, Holiday, KnowledgeBase, KnowledgeError, Office, Procedure, Section,
)
from knowledge.schema.offices_holidays import load_holidays, load_offices
from knowledge.schema.procedures import load_procedures, parse_procedure

__all__ = [
    "ALL_COMMUNE", "DOC_ITEM_FIELDS", "HOURS", "LINK", "OFFICE_KINDS", "OFFICE_KINDS_SUBMIT", "ONLINE_LEVELS",
    "OPTIONAL", "PORTALS", "POSTAL", "REQUIRED", "SECTION_COMMON", "SECTION_FIELDS", "SLUG", "STATUSES", "UNSOURCED",
    "WEEKDAYS", "DocumentItem", "DocumentsSection", "Holiday", "KnowledgeBase", "KnowledgeError", "Office",
    "Procedure", "Section", "load_holidays", "load_knowledge_base", "load_offices", "load_procedures",
    "parse_procedure", "validate", "validate_with",
]
