"""`python -m workers`: one worker process until SIGTERM or Ctrl-C."""

from workers.worker import main

main()
