"""Domain logic shared by every entry point (web, workers, scheduler, actions), by concept.

Packages, highest first; a package imports only those below it (tests/unit/test_layers.py
and the import-linter contracts in pyproject.toml keep it so):

- conversations: what happens to each message a victim sends, in order (keywords, the
  danger safety net, opt-out, the officer or the bot);
- assistant: what the bot's actions call (identity, preferences, the needs questionnaire,
  support and referrals, case news);
- casework: cases, their events, the notifications the Victims' Code requires, scheduled
  updates, the compliance report, bulk registration, the closing survey;
- console: officers, what they may see, taking a conversation over, handoffs, the audit
  trail, staffed hours;
- runtime: what a process holds for its lifetime (settings, the database, the Twilio and
  Rasa clients);
- messaging: the path of a message in and out (Twilio and Rasa ports, storing inbound, the
  outbox, leases, wake-ups, rate limits, WhatsApp templates);
- victims_code, language, operations: pure rules (the Code's deadlines, working days on
  the London clock), what we say and read in English and Welsh, and heartbeats;
- settings, errors: configuration and the errors services raise.
"""
