"""« Être accompagné » : the structures that help with care careers near a place — plateformes des métiers de
l'autonomie (written by the project, sourced), France Travail agencies, missions locales, Cap emploi, CIO and
Carif-Oref points (imported from the data·inclusion open schema) — with their services, contacts and hours."""
