"""``make screenshots`` (``python -m bench.screenshots``): every console page of
``console.catalog`` from the demo tenant, at desktop (1280 px) and phone (375 px) width, into
``docs/console/<page>-desktop.jpg`` and ``-phone.jpg``, and the gallery of ``docs/console.md``
rewritten from them.

1. PostgreSQL: ``DATABASE_URL``, else the embedded server (started if needed, stopped at the end
   if this run started it); ``setup_db`` brings it up to date.
2. The demo tenant as ``make run`` makes it (``provisioning.demo``): ``demo_ensure`` when the
   tenant or its admin member is missing, else only its activity brought up to yesterday, so a
   ``make run`` serving the same database keeps its keys and invitation link.
3. A session of the demo admin member (``access.sessions``, no password), the demo's top rep
   (by SSI) for ``/console/reps/<id>`` and a rep token of that rep for ``/console/me``
   (``access.rep_tokens``, as the API mints them).
4. gunicorn on a free port of 127.0.0.1; each page is first fetched (``page_answers``): one that
   answers an error, or sends a member to the sign-in page, is reported and not shot.
5. Headless Chromium (Debian's, or ``SSI_CHROMIUM``) through Playwright, full-page JPEGs (cut
   at ``shots.MAX_HEIGHT``), once the page's scripts are done (no request for half a second).

``SCREENSHOT_PAGES=overview,reps`` shoots only those pages (names as in ``console.catalog``).
Exit status 0 when every page answered and was shot, 1 otherwise (the pages at fault are named),
2 on a bad ``SCREENSHOT_PAGES`` or a missing browser.

Modules: ``answers`` (what the pages need, and each page fetched over HTTP), ``shots`` (the
browser, the files and the gallery), ``__main__`` (the run).
"""
