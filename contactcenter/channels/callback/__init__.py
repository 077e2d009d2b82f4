"""Web callback: a customer asks to be called back now or in a slot; the request is stored first, enters
routing when due, and is retried on no answer."""
