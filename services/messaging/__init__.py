"""The path of a message: the Twilio and Rasa ports, storing what arrives, the outbox,
conversation leases, wake-ups, sending rates, segments and WhatsApp templates."""
