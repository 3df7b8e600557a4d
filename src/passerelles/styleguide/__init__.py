"""The site's components (buttons, cards, tags, notices, accordions, form fields, tables) on one page."""
