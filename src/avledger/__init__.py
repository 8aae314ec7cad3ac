"""avledger: an on-premises evidence system for body-worn recorders."""

__version__ = "0.1.0"
