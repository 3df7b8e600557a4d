"""Outcomes of vocational training (InserJeunes, DEPP and DARES): employment at 6 and 12 months, further
study and value added, by formation and région; shown on sessions and in the comparison."""
