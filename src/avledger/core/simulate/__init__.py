"""A recorder simulator for demos, tests and benchmarks: a volume laid out as a profile's
recorder would write it, with valid MP4/MOV clips (``mp4write``) and a clock file.

Owns ``recorder`` (simulated recordings, dockings and clock settings) and ``mp4write``. May use
the shared core, ``clock`` (clock files are written the way the clock reads them), ``dock``
(volume layout), ``config`` and ``store``. Nothing but the CLI, tests and benches uses it.
"""
