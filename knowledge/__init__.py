"""Knowledge search of the one-stop office assistant: procedures, hybrid retrieval, answers.

Typical use (nothing heavy happens at import; the model loads on the first dense search)::

    from knowledge.search import Searcher
    from knowledge.compose import respond

    searcher = Searcher()                       # configuration from KB_* environment variables
    result = searcher.search("làm giấy khai sinh cần giấy tờ gì")
    answer = respond(result, searcher.kb.procedures)   # answer.text, answer.followups

Command line: ``python -m knowledge --help``.
"""
