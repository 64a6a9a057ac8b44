"""What the bot's custom actions call: identity checks, preferences, the needs questionnaire,
support and referrals, and the news a verified victim is told."""
