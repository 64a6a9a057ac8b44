"""The identity check: dates of birth as people text them, and whether whoever holds the phone
has proved, in this conversation and lately, that they are the victim."""
