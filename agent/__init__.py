"""ProdGuardian: an SRE bot that watches a production web service and talks to its team."""

from prodguardian.check import Check
from prodguardian.context import CheckContext
from prodguardian.deploy import ActiveDeploy
from prodguardian.errors import CheckError, ConfigError, ProdGuardianError, RegistryError
from prodguardian.report import Report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.status import Status

__version__ = "0.1.0"

__all__ = [
    "ActiveDeploy",
    "Check",
    "CheckContext",
    "CheckError",
    "CheckResult",
    "CheckRun",
    "ConfigError",
    "ProdGuardianError",
    "RegistryError",
    "Report",
    "Status",
    "__version__",
]
