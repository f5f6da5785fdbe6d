"""The web app: one module per tab of the page, the pieces they share, and the page's own files (static/).

The library (`ae/`) knows nothing of the page; everything here is wiring and presentation over it.
"""
