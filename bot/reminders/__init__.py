"""The outbox engine: knows when reminders fall due and to whom; asks a sender to deliver them."""

from .engine import DeliveryError, ReminderEngine, RetryLater, Sender, Undeliverable

__all__ = ["DeliveryError", "ReminderEngine", "RetryLater", "Sender", "Undeliverable"]
