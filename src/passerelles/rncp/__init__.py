"""The RNCP (répertoire national des certifications professionnelles) as France Compétences exports it:
sheets, blocs de compétences, access routes, ROME and Formacode links; reconciled with the certifications
the project writes (``data/certifications.yaml``), never overwriting them."""
