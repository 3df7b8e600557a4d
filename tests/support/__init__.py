"""Helpers shared by the tests: plain modules, no fixtures (those stay in the ``conftest.py`` files).

- ``databases``: the data paths, the database factory and the one builder of the template databases;
- ``net``: a free local port;
- ``mail``: the mailbox behind the local SMTP server;
- ``accounts``: the accounts' world (platforms, counsellors, a person, an employer), logging in, CSRF tokens;
- ``browser``: the axe-core report and screenshots of the browser tests;
- ``imports``: the imports a source file makes (ast), for the tests of the code's shape.
"""
