"""The email channel: inbound SMTP (aiosmtpd on the app's loop); each raw message is stored before 250."""
