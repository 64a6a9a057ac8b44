"""Officers and their work: accounts and sign-in, who may see what, taking a conversation
over and handing it back, handoffs, the audit trail, and when the unit is staffed."""
