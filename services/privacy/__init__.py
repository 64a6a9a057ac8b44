"""Retention, erasure and subject access (UK GDPR; Data Protection Act 2018, Part 3): how
long each kind of personal data is kept, the scheduler's purge, erasing one victim, and
exporting everything held about one victim. docs/PRIVACY.md says what and why."""
