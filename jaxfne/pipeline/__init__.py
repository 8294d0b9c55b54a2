"""The reproducible-study workflow's package side: Hydra composition and the stage functions.

The Snakemake rules (``workflow/rules/*.smk``) expand a study with :func:`expand_study` at DAG-build
time and their scripts call the stage functions of :mod:`jaxfne.pipeline.stages`.
"""

from .compose import Run as Run, StudyError as StudyError, expand_study as expand_study
from .compose import read_run_config as read_run_config, write_run_config as write_run_config
from .hydra_to_config import configuration_dict as configuration_dict, to_configuration as to_configuration

__all__ = ["Run", "StudyError", "expand_study", "read_run_config", "write_run_config", "configuration_dict",
           "to_configuration"]
