"""Imitation from observation: embodiment data, inverse dynamics (BCO), a world model (AIME, IIDM)."""
