"""Cases and their victims, case events, the notifications the Victims' Code requires,
scheduled updates, the compliance report, bulk registration and the closing survey."""
