"""`python -m scheduler`: the one active scheduler (or a standby) until SIGTERM or Ctrl-C.

Workers, which send and process messages, are `python -m workers`.
"""

from scheduler.service import main

main()
