"""Config files: models, ``${VAR}`` interpolation, and the loader that reports every problem."""

from prodguardian.config.duration import Duration, parse_duration
from prodguardian.config.loader import LoadedConfig, load_config
from prodguardian.config.models import CheckSpec, Config, RunnerConfig, ServiceConfig

__all__ = [
    "CheckSpec",
    "Config",
    "Duration",
    "LoadedConfig",
    "RunnerConfig",
    "ServiceConfig",
    "load_config",
    "parse_duration",
]
