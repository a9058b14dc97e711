"""The procedure book: the documented procedures replayed as static HTML pages a documentation writer reads.

A visit to a console is recorded as steps (``record.py``: the keys pressed, the distinct screens seen),
each screen named by what it shows (``classify.py``) and stored once as a PNG named by its content
(``store.py``); ``site.py`` writes the pages from Jinja2 templates (``templates/``), autoescaped: the
screens' text is data. The conformance suite (``pytest features --book DIR``) and ``scripts/demo`` write
books; nothing of the simulator imports this package.
"""
