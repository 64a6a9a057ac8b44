"""What happens to each message a victim sends, in order: opt-out and help keywords, the
danger safety net, then the officer who has the conversation or the bot."""
