"""Configuration: the immutable, chainable model description."""

from .configuration import Configuration as Configuration, configuration as configuration
