"""Call Link (`/call-link/1/...` and the public page): configurations, images, subdomains, short links with
validity rules, and the branded page that connects a browser to the link's destination.

    schemas.py         Infobip's Call Link models (reference §6), plus SPOTLIGHT and `validityWindow.timeZone`
    configurations.py  configurations, the default one, the system default, the webhook's sealed credential
    images.py          logo/background uploads, judged by their content (PNG, JPEG)
    subdomains.py      at most three per account; deleting one invalidates its links
    validity.py        the validity window and the page state it gives (pure)
    links.py           links, short codes, `resolve` for the page
    sessions.py        the page's session: token, room password, one caller at a time, one-time use
    status.py          the status webhook's payload when a session ends, published as a targeted event
    localisation.py    the page's texts in 14 languages; Accept-Language matching
    page.py            rendering the page (static/page.html, static/page.js)
    repository.py      DynamoDB items and S3 objects
    routes.py          the API (App/Basic auth)
    pages.py           the public routes: `/<code>`, `/?<code>`, images, session
"""
