"""The message workers: each drains conversations with due work, inbound to Rasa and the
outbox to Twilio, under a lease. Any number may run, on any number of hosts (`python -m
workers`)."""
