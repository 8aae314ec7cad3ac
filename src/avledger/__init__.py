"""avledger: an on-premises evidence system for body-worn recorders."""

__version__ = "0.1.0"

# Files avledger makes are never readable by others (footage, the access register, the key):
# the program's entry point sets this umask for the whole process (cli.main.run).
PROCESS_UMASK = 0o027
