"""The browser SDK, served by the platform (`GET /sdk/v1/switchboard-rtc.js`): no build step for its users.

The source ships inside this package (`static/`) because Lambda deploys only `app.py` and `chalicelib/`;
`sdk/js/switchboard-rtc.js` is the same file for people who vendor it, and a test keeps the two identical.
"""
