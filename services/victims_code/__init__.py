"""The Victims' Code's rules as pure functions: which events a victim must be told of, by
when (working days on the London clock), and when a message may go out."""
