"""`python -m scheduler`: run the background process until SIGTERM or Ctrl-C."""

from scheduler.worker import main

main()
