"""Built-in log sources: ``file`` and ``cloud_logging``."""
