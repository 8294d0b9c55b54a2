"""The engine: the step as a composition of components, the one scan builder, drives, RNG and surrogate."""
