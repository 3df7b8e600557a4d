"""Labour-market indicators of the occupations: France Travail's « Besoins en main-d'œuvre » survey (hiring
projects per bassin d'emploi) and the Dares / France Travail tension indicators, by family of occupations."""
